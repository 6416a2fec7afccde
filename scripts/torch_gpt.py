"""lion-dist's GPT in PyTorch, under nanoGPT's names (GPT(bias=False)'s state_dict keys), and the
pieces of lion-dist's data pipeline a reference run needs: the corpus split, the training windows
of each step (SplitMix64, as Sources/TextData/ShakespeareCorpus+Windows.swift draws them), the
fixed validation windows, the schedule, and safetensors files as `lion-dist export` writes them.

The model: token + position embeddings, pre-LayerNorm blocks (causal self-attention through
F.scaled_dot_product_attention, 4x GELU MLP with the tanh approximation), final LayerNorm
(eps 1e-5, gain only), output layer tied to the token embedding, no biases anywhere.
"""
import json
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

M64 = (1 << 64) - 1


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=False)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=False)
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=False)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, bias=False)
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.ln_2 = nn.LayerNorm(n_embd, bias=False)
        self.mlp = MLP(n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab, block, n_layer, n_head, n_embd):
        super().__init__()
        self.shape = dict(vocab_size=vocab, block_size=block, n_layer=n_layer, n_head=n_head, n_embd=n_embd)
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, n_embd), wpe=nn.Embedding(block, n_embd),
            h=nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)]),
            ln_f=nn.LayerNorm(n_embd, bias=False)))
        self.lm_head = nn.Linear(n_embd, vocab, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied
        # nanoGPT's init: every matrix and embedding N(0, 0.02), residual projections
        # N(0, 0.02 / sqrt(2 n_layer)), LayerNorm gains 1.
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


# --- lion-dist's data pipeline -------------------------------------------------------------

class Corpus:
    """shakespeare.txt as token ids (sorted distinct bytes), train = first floor(0.9 n)."""

    def __init__(self, path):
        data = open(path, "rb").read()
        self.vocab = bytes(sorted(set(data)))
        ids = torch.frombuffer(bytearray(data), dtype=torch.uint8).long()
        lut = torch.zeros(256, dtype=torch.long)
        lut[torch.tensor(list(self.vocab))] = torch.arange(len(self.vocab))
        ids = lut[ids]
        split = len(data) * 9 // 10
        self.train, self.val = ids[:split], ids[split:]


def _splitmix_next(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def _mix(x):
    return _splitmix_next(x)[1]


def train_window_start(seed, step, row, n):
    """ShakespeareCorpus.trainWindowStart: uniform in 0..<n from SplitMix64 seeded by (seed, step, row)."""
    h = _mix(_mix(seed) ^ (step & M64))
    state = h ^ (row & M64)
    state = _mix(state)
    threshold = ((1 << 64) - n) % n
    while True:
        state, r = _splitmix_next(state)
        m = r * n
        if (m & M64) >= threshold:
            return m >> 64


def lion_batch(corpus, step, batch, block, seed):
    n = len(corpus.train) - block
    starts = [train_window_start(seed, step, row, n) for row in range(batch)]
    return torch.stack([corpus.train[s:s + block + 1] for s in starts])


def random_windows(tokens, count, block, gen):
    """nanoGPT's get_batch: `count` windows at torch.randint starts."""
    starts = torch.randint(len(tokens) - block, (count,), generator=gen)
    return torch.stack([tokens[s:s + block + 1] for s in starts])


def validation_windows(corpus, count, block):
    """ShakespeareCorpus.validationWindowStart: count starts evenly from the first to the last."""
    last = len(corpus.val) - (block + 1)
    starts = [0] if count == 1 else [i * last // (count - 1) for i in range(count)]
    return torch.stack([corpus.val[s:s + block + 1] for s in starts])


def full_validation(corpus, block):
    """The whole validation split as non-overlapping windows (every character a target once)."""
    n = (len(corpus.val) - 1) // block
    return torch.stack([corpus.val[i * block:i * block + block + 1] for i in range(n)])


def evaluate(model, windows, chunk=64):
    """Mean cross-entropy (nats/char) over the windows' targets."""
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(windows), chunk):
            w = windows[i:i + chunk]
            total += model(w[:, :-1], w[:, 1:]).item() * w.shape[0]
            count += w.shape[0]
    return total / count


def lion_lr(step, base, warmup, total, floor):
    """LRSchedule.lr(atStep:) for cosine: linear warm-up (step+1)/warmup, cosine to floor at total."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, max(0.0, (step - warmup) / max(1, total - warmup)))
    return floor + (base - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def nanogpt_lr(step, base, warmup, total, floor):
    """nanoGPT train.py get_lr with lr_decay_iters = total."""
    if step < warmup:
        return base * (step + 1) / (warmup + 1)
    if step > total:
        return floor
    ratio = (step - warmup) / (total - warmup)
    return floor + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (base - floor)


# --- safetensors (the format is an 8-byte header length, a JSON header, raw little-endian data) ---

def save_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", f"{path}: {name} is {e['dtype']}, expected F32 (export with --dtype fp32)"
        a, b = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=torch.float32).view(e["shape"])
    return out, header.get("__metadata__", {})


def save_model(model, path, vocab, step=0):
    sd = {k: v for k, v in model.state_dict().items()}
    meta = {"format": "pt", "step": str(step), "model": "gpt", "bias": "false", "vocab": vocab.decode("ascii")}
    meta.update({k: str(v) for k, v in model.shape.items()})
    save_safetensors(path, sd, meta)


def load_model(model, path):
    sd, _ = load_safetensors(path)
    sd.setdefault("lm_head.weight", sd["transformer.wte.weight"])
    model.load_state_dict(sd)
