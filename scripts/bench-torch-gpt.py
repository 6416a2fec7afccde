#!/usr/bin/env python3
"""PyTorch eager baseline for lion-dist's GPT speed (scripts/bench-gpt-vs-torch).

The same model as Sources/Model/GPT in nanoGPT's semantics (scripts/torch_gpt.py). One step = forward + backward + AdamW step (torch.optim.AdamW, its default
CPU implementation), on a fixed batch of random tokens. --dtype bf16 runs the forward and the
loss under torch.autocast("cpu", dtype=torch.bfloat16) (matrix products in bf16, parameters,
gradients and the optimizer fp32), as lion-dist's --compute-dtype bf16 does. Prints one JSON line: tokens/s at the
median step time over --steps steps after --warmup untimed ones; cpu_ms is the median
process CPU time per step (all threads), steadier than wall time on a busy machine.

    python3 scripts/bench-torch-gpt.py --threads 2 --batch 12 [--dtype bf16]
"""
import argparse
import json
import statistics
import time

import torch

from torch_gpt import GPT


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-embd", type=int, default=128)
    ap.add_argument("--block-size", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=84)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32",
                    help="bf16: forward and loss under CPU autocast to bfloat16")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = GPT(a.vocab, a.block_size, a.n_layer, a.n_head, a.n_embd)
    params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))
    data = torch.randint(0, a.vocab, (a.batch, a.block_size + 1))
    x, y = data[:, :-1].contiguous(), data[:, 1:].contiguous()
    times, cpu = [], []
    for s in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        c0 = time.process_time()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.dtype == "bf16"):
            loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if s >= a.warmup:
            times.append(dt)
            cpu.append(time.process_time() - c0)
    median = statistics.median(times)
    tokens = a.batch * a.block_size
    impl = "pytorch-autocast-bf16" if a.dtype == "bf16" else "pytorch-eager"
    print(json.dumps({"impl": impl, "dtype": a.dtype, "torch": torch.__version__, "threads": a.threads, "batch": a.batch,
                      "params": params, "tokens_per_s": round(tokens / median, 1), "median_ms": round(median * 1000, 2),
                      "min_ms": round(min(times) * 1000, 2),
                      "cpu_ms": round(statistics.median(cpu) * 1000, 2), "steps": a.steps, "final_loss": round(loss.item(), 4),
                      "model": f"GPT {a.n_layer} layers, {a.n_head} heads, {a.n_embd} wide, context {a.block_size}, vocab {a.vocab}"}))


if __name__ == "__main__":
    main()
