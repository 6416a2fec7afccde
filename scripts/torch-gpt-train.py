#!/usr/bin/env python3
"""A plain PyTorch reference run of lion-dist's GPT (scripts/torch_gpt.py), for comparing curves.

By default it runs what `lion-dist --model gpt --optimizer adamw` runs: the same batches (the
SplitMix64 windows of each step, --sampler lion), the same validation windows (--eval-windows
evenly spread over the validation split), the same schedule (--schedule lion), torch.optim.AdamW
with decay on the matrices and embeddings only, clip_grad_norm_. --init-from starts from a
safetensors file (`lion-dist export`, or --save-init of another run), so both implementations
can start from the same weights; lion-dist takes the same file with --init-from. The nanoGPT
variants (--sampler random: torch.randint starts; --schedule nanogpt: warm-up (s+1)/(w+1)) show
what each choice moves. Writes JSON Lines to --out: one `step` event per step (loss, lr, grad
norm), one `eval` event per evaluation, and a `final` event; --save-final writes the weights
for scripts/torch-gpt-eval.py (the whole validation split, other window sets).

    python3 scripts/torch-gpt-train.py --steps 2000 --out torch.jsonl [--init-from init.safetensors]
"""
import argparse
import json
import math
import time

import torch

import torch_gpt as tg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default="/usr/local/share/lion-dist/shakespeare")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--block-size", type=int, default=64)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-embd", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.99)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=42, help="the data seed (lion-dist's --seed) and torch's init seed")
    ap.add_argument("--init-from", help="start from this safetensors file (nanoGPT names)")
    ap.add_argument("--save-init", help="write the initial weights here (for lion-dist --init-from)")
    ap.add_argument("--sampler", choices=["lion", "random"], default="lion")
    ap.add_argument("--schedule", choices=["lion", "nanogpt"], default="lion")
    ap.add_argument("--eval-interval", type=int, default=250)
    ap.add_argument("--eval-windows", type=int, default=240, help="lion-dist's count: --eval-batches x batch")
    ap.add_argument("--save-final", help="write the final weights here (for torch-gpt-eval.py)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="JSON Lines of step, eval and final events")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    corpus = tg.Corpus(f"{a.data_dir}/shakespeare.txt")
    model = tg.GPT(len(corpus.vocab), a.block_size, a.n_layer, a.n_head, a.n_embd)
    if a.init_from:
        tg.load_model(model, a.init_from)
    if a.save_init:
        tg.save_model(model, a.save_init, corpus.vocab)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps)
    schedule = tg.lion_lr if a.schedule == "lion" else tg.nanogpt_lr
    val = tg.validation_windows(corpus, a.eval_windows, a.block_size)
    gen = torch.Generator().manual_seed(a.seed)
    out = open(a.out, "w") if a.out else None

    def log(event, **fields):
        if out:
            out.write(json.dumps({"event": event, **fields}) + "\n")
            out.flush()

    t0 = time.time()
    for step in range(a.steps):
        lr = schedule(step, a.lr, a.warmup, a.steps, a.min_lr)
        for g in opt.param_groups:
            g["lr"] = lr
        batch = tg.lion_batch(corpus, step, a.batch, a.block_size, a.seed) if a.sampler == "lion" \
            else tg.random_windows(corpus.train, a.batch, a.block_size, gen)
        loss = model(batch[:, :-1], batch[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip if a.clip > 0 else math.inf).item()
        opt.step()
        log("step", step=step + 1, loss=loss.item(), lr=lr, grad_norm=norm)
        if (step + 1) % a.eval_interval == 0 or step + 1 == a.steps:
            v = tg.evaluate(model, val)
            log("eval", step=step + 1, val_loss=v)
            print(f"step {step + 1}/{a.steps}  train loss {loss.item():.4f}  val loss {v:.4f}  ({time.time() - t0:.0f} s)", flush=True)
    if a.save_final:
        tg.save_model(model, a.save_final, corpus.vocab, step=a.steps)
    log("final", val_loss=v, seconds=time.time() - t0)


if __name__ == "__main__":
    main()
