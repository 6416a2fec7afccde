#!/usr/bin/env python3
"""Validation loss of GPT weights (a safetensors file: `lion-dist export`, or torch-gpt-train.py
--save-final) on several validation sets, to tell an estimator's noise from a real difference:

- lion: lion-dist's fixed windows (--windows of them, evenly spread; 240 = --eval-batches 20 x batch 12),
- full: the whole validation split in non-overlapping windows (the quantity the others estimate),
- random: --draws sets of --windows random windows each (mean and sample sd over the sets),
- nanogpt: nanoGPT's estimate_loss (eval_iters 200 batches of 12 random windows).
Prints one JSON line.

    python3 scripts/torch-gpt-eval.py model.safetensors [--windows 240 --draws 10]
"""
import argparse
import json
import statistics

import torch

import torch_gpt as tg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("weights")
    ap.add_argument("--data-dir", default="/usr/local/share/lion-dist/shakespeare")
    ap.add_argument("--windows", type=int, default=240)
    ap.add_argument("--draws", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    sd, meta = tg.load_safetensors(a.weights)
    shape = {k: int(meta[k]) for k in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd")}
    model = tg.GPT(shape["vocab_size"], shape["block_size"], shape["n_layer"], shape["n_head"], shape["n_embd"])
    tg.load_model(model, a.weights)
    model.eval()
    corpus = tg.Corpus(f"{a.data_dir}/shakespeare.txt")
    T = shape["block_size"]
    gen = torch.Generator().manual_seed(1234)
    out = {"weights": a.weights, "step": int(meta.get("step", 0)),
           "lion": tg.evaluate(model, tg.validation_windows(corpus, a.windows, T)),
           "full": tg.evaluate(model, tg.full_validation(corpus, T))}
    draws = [tg.evaluate(model, tg.random_windows(corpus.val, a.windows, T, gen)) for _ in range(a.draws)]
    out.update(random_mean=statistics.mean(draws), random_sd=statistics.stdev(draws), random_windows=a.windows,
               nanogpt=tg.evaluate(model, tg.random_windows(corpus.val, 200 * 12, T, gen)))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
