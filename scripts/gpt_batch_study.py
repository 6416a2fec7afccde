#!/usr/bin/env python3
"""The GPT large-batch study (docs/lm.md): Lion against AdamW at several global batches, every run
with the same number of training characters, each optimizer on its own log-spaced lr grid with the
Lion paper's weight-decay rule, a lr x wd heatmap per optimizer at one batch, and the best cell of
each optimizer at each batch rerun with fresh seeds. Then the HTML report (checked in headless
Chromium) and a Markdown summary. Run by `scripts/large-batch-study --model gpt`.

Every cell is one `lion-dist sweep` under `mpirun -n RANKS`, appending to OUT/results.jsonl; a cell
already there is not run again, so the study resumes where it stopped. Before each cell it prints
where the whole study stands and its ETA (seconds per character measured on the finished cells of
the same batch, else of all).

Grids (--base-batch 64; an lr grid moves with sqrt(batch / base) so that each batch's grid is
centred where a larger batch with fewer steps wants it):
  AdamW lr  ADAMW_LRS x sqrt(B/64), wd --adamw-wd, betas 0.9/0.99
  Lion  lr  AdamW's / --ratio, wd AdamW's x --ratio (the paper: lr 3-10x smaller, wd 3-10x
            larger, so lr x wd is the same at every grid point), betas 0.95/0.98
  widened    where a batch's best lr (at the rule's wd) is the grid's lowest or highest, one more
            lr a factor 2 past that edge, up to --extend times per batch and optimizer
  heatmap at --heatmap-batch: the batch's lr grid x --heatmap-wds (AdamW's; Lion's x --ratio)
Steps per run: --tokens / (B x context); warm-up 5% of the steps, cosine to lr/10, clip 1.0;
validation on the same --eval-windows fixed windows at every batch, 4 times per run.
"""
import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def floats(text):
    return [float(x) for x in text.split(",") if x]


def ints(text):
    return [int(x) for x in text.split(",") if x]


def short(x):
    """A float as the short decimal lion-dist records (3 significant digits)."""
    return float(f"{x:.3g}")


class Study:
    def __init__(self, a):
        self.a = a
        self.results = os.path.join(a.out, "results.jsonl")

    def steps(self, batch):
        return self.a.tokens // (batch * self.a.block_size)

    def lrs(self, kind, batch):
        f = math.sqrt(batch / self.a.base_batch)
        base = [x / (self.a.ratio if kind == "lion" else 1) for x in floats(self.a.adamw_lrs)]
        return [short(x * f) for x in base]

    def wd(self, kind):
        return short(self.a.adamw_wd * (self.a.ratio if kind == "lion" else 1))

    def heatmap_wds(self, kind):
        return [short(w * (self.a.ratio if kind == "lion" else 1)) for w in floats(self.a.heatmap_wds)]

    def lr_line(self, kind, batch, rows):
        """The batch's lr grid, widened by a factor 2 past an edge while the best lr sits on that edge
        (at most --extend times per batch), so that every best lr has a worse neighbour on both sides."""
        lrs = self.lrs(kind, batch)
        for _ in range(self.a.extend):
            found = [self.row((kind, batch, lr, self.wd(kind), self.a.seed), rows) for lr in lrs]
            if any(r is None for r in found):
                break  # the line is not finished: widen it once it is
            i = min(range(len(lrs)), key=lambda j: found[j]["val_loss"])
            if i == 0:
                lrs = [short(lrs[0] / 2)] + lrs
            elif i == len(lrs) - 1:
                lrs = lrs + [short(lrs[-1] * 2)]
            else:
                break
        return lrs

    def grid_cells(self, rows=None):
        """Phase 1 at the grid seed: every batch's lr grid at the rule's wd (widened past an edge that
        holds the best lr), and the heatmap's extra cells."""
        rows = self.rows() if rows is None else rows
        seed = self.a.seed
        cells = []
        for b in ints(self.a.batches):
            for kind in ("lion", "adamw"):
                cells += [(kind, b, lr, self.wd(kind), seed) for lr in self.lr_line(kind, b, rows)]
        b = self.a.heatmap_batch
        for kind in ("lion", "adamw"):
            for wd in self.heatmap_wds(kind):
                for lr in self.lrs(kind, b):
                    c = (kind, b, lr, wd, seed)
                    if c not in cells:
                        cells.append(c)
        return cells

    def rows(self):
        if not os.path.exists(self.results):
            return []
        out = []
        for line in open(self.results):
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # a row cut short by a kill; the sweep reruns that cell
        return out

    def matches(self, row, cell):
        kind, b, lr, wd, seed = cell
        dtype_ok = ("dtype=bf16" in row.get("cell", "")) == (self.a.compute_dtype == "bf16")
        return (row.get("optimizer") == kind and row.get("global_batch") == b and row.get("seed") == seed
                and row.get("gpt_steps") == self.steps(b) and dtype_ok
                and math.isclose(row.get("lr", -1), lr, rel_tol=1e-4)
                and math.isclose(row.get("weight_decay", -1), wd, rel_tol=1e-4))

    def row(self, cell, rows):
        return next((r for r in rows if self.matches(r, cell)), None)

    def best(self, kind, batch, rows):
        """The grid seed's best cell (lowest final validation loss) among the batch's grid and heatmap cells."""
        done = [(self.row(c, rows), c) for c in self.grid_cells(rows) if c[0] == kind and c[1] == batch]
        done = [(r["val_loss"], c) for r, c in done if r and isinstance(r.get("val_loss"), (int, float))]
        return min(done)[1] if done else None

    def rerun_cells(self, rows):
        """Phase 2: each optimizer's best cell at each batch with every rerun seed (None where phase 1 is unfinished)."""
        out = []
        for s in ints(self.a.reruns):  # seed by seed: a study stopped early has as many seeds at every cell
            for b in ints(self.a.batches):
                for kind in ("lion", "adamw"):
                    best = self.best(kind, b, rows)
                    out.append(None if best is None else (kind, b, best[2], best[3], s))
        return out

    def command(self, cell):
        kind, b, lr, wd, seed = cell
        s = self.steps(b)
        return (["mpirun", "-n", str(self.a.ranks)] + self.a.mpirun_flags
                + [self.a.bin, "sweep", "--model", "gpt", "--out", self.a.out, "--batch-sizes", str(b), "--steps", str(s),
                   "--eval-interval", str(max(1, s // 4)), "--eval-batches", str(max(1, self.a.eval_windows // b)),
                   "--optimizers", kind, f"--{kind}-lrs", f"{lr:g}", f"--{kind}-wds", f"{wd:g}", "--seed", str(seed),
                   "--compute-dtype", self.a.compute_dtype, "--lr-scaling", "none", "--log-interval", "60"]
                + shlex.split(self.a.gpt_flags))

    def eta(self, todo, rows):
        """Seconds left: each cell's characters at the seconds per character of finished cells of its batch (else of all)."""
        cells = self.grid_cells(rows) + [c for c in self.rerun_cells(rows) if c]
        mine = [r for r in rows if any(self.matches(r, c) for c in cells)]
        rate = {}
        for r in mine:
            t = r["global_batch"] * self.a.block_size * r.get("gpt_steps", 0)
            sec, tok = rate.get(r["global_batch"], (0.0, 0))
            rate[r["global_batch"]] = (sec + r.get("seconds", 0), tok + t)
        total = (sum(v[0] for v in rate.values()), sum(v[1] for v in rate.values()))
        if total[1] == 0:
            return None
        left = 0.0
        for b in todo:
            sec, tok = rate.get(b, total)
            left += self.steps(b) * b * self.a.block_size * sec / tok
        return left

    def plan(self):
        """(cells, number done) of the whole study as it stands."""
        rows = self.rows()
        cells = self.grid_cells(rows) + self.rerun_cells(rows)
        return cells, rows

    def dry_run(self):
        cells, rows = self.plan()
        for c in cells:
            if c is None:
                print("  (a rerun of a best cell: chosen when the grid is done)")
            elif self.row(c, rows) is None:
                print("  " + " ".join(shlex.quote(x) for x in self.command(c)))

    def run(self):
        started = time.time()
        while True:
            cells, rows = self.plan()
            todo = [c for c in cells if c is None or self.row(c, rows) is None]
            runnable = [c for c in todo if c is not None]
            done = len(cells) - len(todo)
            eta = self.eta([c[1] if c else ints(self.a.batches)[0] for c in todo], rows)
            eta_text = "ETA unknown (no finished cell yet)" if eta is None else f"ETA {fmt(eta)}"
            print(f"study: {done}/{len(cells)} cells done, {fmt(time.time() - started)} elapsed in this sitting, {eta_text}",
                  flush=True)
            if not runnable:
                break
            cell = runnable[0]
            kind, b, lr, wd, seed = cell
            print(f"study: cell {done + 1}/{len(cells)}: {kind} batch {b} ({self.steps(b)} steps) lr {lr:g} wd {wd:g} seed {seed}",
                  flush=True)
            cmd = self.command(cell)
            p = subprocess.run(cmd)
            if p.returncode != 0:
                sys.exit(f"error: the cell {cell} failed (exit {p.returncode}); fix the cause above and rerun: finished cells are kept")
            if self.row(cell, self.rows()) is None:
                sys.exit(f"error: the cell {cell} ran but wrote no matching row to {self.results}; check its output above")


def fmt(seconds):
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="study-gpt")
    ap.add_argument("--ranks", type=int, default=4)
    ap.add_argument("--batches", default="16,64,256,1024", help="global batches in sequences")
    ap.add_argument("--tokens", type=int, default=4 * 1024 * 1024, help="training characters per run")
    ap.add_argument("--block-size", type=int, default=64, help="the model's context (must match --gpt-flags)")
    ap.add_argument("--gpt-flags", default="", help="extra shape flags for every run, e.g. '--n-layer 6 --n-embd 192'")
    ap.add_argument("--compute-dtype", choices=["fp32", "bf16"], default="bf16")
    ap.add_argument("--base-batch", type=int, default=64)
    ap.add_argument("--adamw-lrs", default="5e-4,1e-3,2e-3,4e-3", help="AdamW's lr grid at --base-batch")
    ap.add_argument("--adamw-wd", type=float, default=0.1)
    ap.add_argument("--ratio", type=float, default=3, help="Lion's lr = AdamW's / ratio, its wd = AdamW's x ratio")
    ap.add_argument("--heatmap-batch", type=int, default=256)
    ap.add_argument("--heatmap-wds", default="0.025,0.1,0.4,1.6", help="AdamW's wd axis of the heatmap (Lion's x ratio)")
    ap.add_argument("--extend", type=int, default=2,
                    help="times a batch's lr grid may widen by 2x past an edge holding its best lr")
    ap.add_argument("--seed", type=int, default=42, help="the grid's seed")
    ap.add_argument("--reruns", default="43,44,45", help="seeds of each best cell's reruns")
    ap.add_argument("--eval-windows", type=int, default=1024, help="validation windows (the same at every batch)")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and the commands, run nothing")
    ap.add_argument("--report-only", action="store_true", help="render the report of what is done, run nothing")
    a = ap.parse_args()
    a.bin = os.path.join(ROOT, ".build/release/lion-dist")
    a.mpirun_flags = shlex.split(os.environ.get("MPIRUN_FLAGS_TEXT", ""))
    batches = ints(a.batches)
    if a.heatmap_batch not in batches:
        sys.exit(f"error: --heatmap-batch {a.heatmap_batch} is not one of --batches {a.batches}; pick one of them")
    for b in batches:
        if b % a.ranks:
            sys.exit(f"error: global batch {b} does not split over {a.ranks} ranks; use multiples of --ranks")
        if a.tokens // (b * a.block_size) < 4:
            sys.exit(f"error: --tokens {a.tokens} gives batch {b} fewer than 4 steps; raise --tokens or drop that batch")
    os.makedirs(a.out, exist_ok=True)
    study = Study(a)
    cells = study.grid_cells()
    print(f"study: {len(batches)} batches x 2 optimizers x {len(floats(a.adamw_lrs))} lrs, heatmap "
          f"{len(floats(a.adamw_lrs))}x{len(floats(a.heatmap_wds))} at batch {a.heatmap_batch}, "
          f"{len(ints(a.reruns))} reruns of each best cell: {len(cells) + 2 * len(batches) * len(ints(a.reruns))} cells of "
          f"{a.tokens:,} characters ({', '.join(f'batch {b}: {study.steps(b)} steps' for b in batches)}); {a.compute_dtype}; "
          f"{a.ranks} ranks; results in {study.results}", flush=True)
    for kind in ("lion", "adamw"):
        print(f"  {kind}: lr grid " + "; ".join(f"batch {b}: {', '.join(f'{x:g}' for x in study.lrs(kind, b))}" for b in batches)
              + f"; wd {study.wd(kind):g}; heatmap wds {', '.join(f'{x:g}' for x in study.heatmap_wds(kind))}", flush=True)
    if a.dry_run:
        return study.dry_run()
    if not a.report_only:
        study.run()
    title = f"Lion vs AdamW: GPT large-batch study ({a.tokens:,} characters per run)"
    subprocess.run([a.bin, "report", a.out, "-o", os.path.join(a.out, "report.html"), "--markdown",
                    os.path.join(a.out, "summary.md"), "--heatmap-batch", str(a.heatmap_batch), "--title", title], check=True)
    subprocess.run([os.path.join(ROOT, "scripts/render-report"), os.path.join(a.out, "report.html"),
                    os.path.join(a.out, "report.png")], check=True)
    head_summary(study, title)


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return "unknown CPU"
    name = next((l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name")), "unknown CPU")
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    native = [f for f in ("avx512_bf16", "amx_bf16") if f in flags]
    return f"{name} ({', '.join(native) if native else 'no native bf16'})"


def head_summary(study, title):
    """Puts the title, the exact command, the CPU and the cells' wall time above the report's tables."""
    path = os.path.join(study.a.out, "summary.md")
    rows = study.rows()
    hours = sum(r.get("seconds", 0) for r in rows) / 3600
    command = "scripts/large-batch-study --model gpt " + " ".join(shlex.quote(x) for x in sys.argv[1:] if x != "--report-only")
    head = [f"# {title}", "",
            f"Command: `{command.strip()}` (resumable; the report: `... --report-only`).",
            f"{len(rows)} runs, {hours:.2f} hours of training in all, on {cpu_name()}, {study.a.ranks} MPI ranks, "
            f"{study.a.compute_dtype} products; every cell's own command is in results.jsonl.", ""]
    body = open(path).read()
    open(path, "w").write("\n".join(head) + "\n" + body)


if __name__ == "__main__":
    main()
