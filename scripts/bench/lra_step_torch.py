#!/usr/bin/python3
"""PyTorch baseline for `nystromformer bench lra-step`: one training step (forward, backward, AdamW) of the
LRA encoder of docs/algorithm.md §3 (embedding 64, 2 pre-LN layers, 2 heads × 32, FFN 128, mean pooling, MLP head),
float32 on the CPU, with the official Nyström formulas (conv 35) or exact softmax attention.

    /usr/bin/python3 scripts/bench/lra_step_torch.py --json --n 4096 --batch 32 --attention nystrom-64

One line per measurement, in the JSON shape of `nystromformer bench lra-step`:
    {"bench":"lra-step","impl":"torch","attention":A,"n":N,"batch":B,"ms":T}
ms: the median of --repeats steps after --warmup untimed ones. --malloc-tuned re-runs itself with glibc's
mmap/trim thresholds raised so large buffers are reused (see attention_torch.py for why that matters here).
Needs Debian's torch and OpenBLAS: apt-get install -y python3-torch libopenblas0-pthread.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
from make_attention_fixtures import nystrom_attention  # noqa: E402


class Block(torch.nn.Module):
    def __init__(self, dim, heads, ffn, attention):
        super().__init__()
        self.heads, self.attention = heads, attention
        self.norm1, self.norm2 = torch.nn.LayerNorm(dim), torch.nn.LayerNorm(dim)
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.out = torch.nn.Linear(dim, dim)
        self.ffn = torch.nn.Sequential(torch.nn.Linear(dim, ffn), torch.nn.GELU(), torch.nn.Linear(ffn, dim))
        self.conv = torch.nn.Parameter(torch.randn(heads, 1, 35, 1) * 0.02) if attention.startswith('nystrom') else None

    def forward(self, x, mask):
        B, n, dim = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(B, n, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        if self.attention == 'softmax':
            scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) - 1e9 * (1 - mask[:, None, None, :])
            o = torch.softmax(scores, dim=-1) @ v
        else:
            o = nystrom_attention(q, k, v, mask, int(self.attention.split('-')[1]), self.conv)
        x = x + self.out(o.transpose(1, 2).reshape(B, n, dim))
        return x + self.ffn(self.norm2(x))


class Encoder(torch.nn.Module):
    def __init__(self, n, attention, vocab=256, dim=64, heads=2, ffn=128, layers=2, classes=10):
        super().__init__()
        self.tokens, self.positions = torch.nn.Embedding(vocab, dim), torch.nn.Embedding(n, dim)
        self.blocks = torch.nn.ModuleList(Block(dim, heads, ffn, attention) for _ in range(layers))
        self.norm = torch.nn.LayerNorm(dim)
        self.head = torch.nn.Sequential(torch.nn.Linear(dim, 128), torch.nn.ReLU(), torch.nn.Linear(128, classes))

    def forward(self, ids, mask):
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1]))
        for block in self.blocks:
            x = block(x, mask)
        pooled = (self.norm(x) * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return self.head(pooled)


def measure(n, batch, attention, repeats, warmup):
    torch.manual_seed(0)
    model = Encoder(n, attention)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0)
    ids = torch.randint(0, 256, (batch, n))
    mask = torch.ones(batch, n)
    labels = torch.zeros(batch, dtype=torch.long)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(ids, mask), labels).backward()
        opt.step()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--n', default='1024,4096')
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--attention', default='softmax,nystrom-64')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--malloc-tuned', action='store_true')
    args = ap.parse_args()
    if args.malloc_tuned and 'MALLOC_MMAP_THRESHOLD_' not in os.environ:
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(2 ** 32), MALLOC_TRIM_THRESHOLD_=str(2 ** 36))
        sys.exit(subprocess.run([sys.executable, *sys.argv], env=env).returncode)
    torch.set_num_threads(args.threads)
    for n in (int(s) for s in args.n.split(',')):
        for attention in (s.strip() for s in args.attention.split(',')):
            ms = measure(n, args.batch, attention, args.repeats, args.warmup)
            r = {'bench': 'lra-step', 'impl': 'torch', 'attention': attention, 'n': n, 'batch': args.batch, 'ms': round(ms)}
            print(json.dumps(r) if args.json else f"torch {attention:12s} n={n:<6d} batch {args.batch}: {r['ms']} ms/step", flush=True)


if __name__ == '__main__':
    main()
