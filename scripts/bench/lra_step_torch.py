#!/usr/bin/python3
"""PyTorch baseline for `nystromformer bench lra-step`: one training step (forward, backward, AdamW) of the
LRA encoder of docs/algorithm.md §3 (embedding 64, 2 pre-LN layers, 2 heads × 32, FFN 128, mean pooling, MLP head),
float32 on the CPU (or, with --device cuda, on a CUDA GPU), with the official Nyström formulas (conv 35) or
exact softmax attention.

    /usr/bin/python3 scripts/bench/lra_step_torch.py --json --n 4096 --batch 32 --attention nystrom-64
    python3 scripts/bench/lra_step_torch.py --device cuda --json --n 1024,4096 --batch 32 --attention nystrom-64,softmax

One line per measurement, in the JSON shape of `nystromformer bench lra-step`:
    {"bench":"lra-step","device":"cpu","impl":"torch","attention":A,"n":N,"batch":B,"ms":T}
    {"bench":"lra-step","device":"cuda","impl":"torch","attention":A,"n":N,"batch":B,"ms":T,"peak_mb":P}
ms: the median of --repeats steps after --warmup untimed ones. --malloc-tuned re-runs itself with glibc's
mmap/trim thresholds raised so large buffers are reused (see attention_torch.py for why that matters here).
--device cuda (default cpu): the model (built on the CPU from the same seed, then moved), the optimizer and the
batch live on the GPU, in strict float32 (no TF32); the warm-up and each timed step end with torch.cuda.synchronize(),
so ms is the time until the GPU has finished the step. Only there the line has peak_mb: torch.cuda.max_memory_allocated()
over the warm-up and timed steps (reset with torch.cuda.reset_peak_memory_stats()) minus torch.cuda.memory_allocated()
before them (the model's weights and the batch), in MiB, so AdamW's state counts. Fails with a message when
torch.cuda.is_available() is false.
--profile: after the timing, one more step under torch.profiler, printed as its operators (the most self time
first) and the share of the step in matrix products (aten::mm, bmm, addmm, baddbmm), beside the engine's
`bench lra-step --profile`; with --json, one {"bench":"step-profile","impl":"torch",...,"kernel":OP,"calls":C,"ms":T,
"share":S} line per operator, before the timing line.
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
from attention_torch import DEVICES, fixtures_on, require_device, sync  # noqa: E402


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
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1], device=ids.device))
        for block in self.blocks:
            x = block(x, mask)
        pooled = (self.norm(x) * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return self.head(pooled)


PRODUCTS = ('aten::mm', 'aten::bmm', 'aten::addmm', 'aten::baddbmm')


def print_profile(step, context, as_json, rows=15):
    """One step under torch.profiler: its top operators by self time, and the matrix products' share.
    As JSON, one line per operator in the shape of the engine's step-profile lines."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    ops = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in ops)
    products = sum(e.self_cpu_time_total for e in ops if e.key in PRODUCTS)
    for e in ops[:rows]:
        ms = e.self_cpu_time_total / 1e3
        if as_json:
            print(json.dumps({'bench': 'step-profile', 'impl': 'torch', **context, 'kernel': e.key, 'calls': e.count,
                              'ms': round(ms, 2), 'share': round(e.self_cpu_time_total / total, 4)}))
        else:
            print(f'  {e.key:32s} {e.count:6d} calls {ms:9.1f} ms {100 * e.self_cpu_time_total / total:5.1f}%')
    if not as_json:
        print(f'  matrix products: {products / 1e3:.0f} ms of {total / 1e3:.0f} ms self time ({100 * products / total:.1f}%)')


def measure(n, batch, attention, repeats, warmup, device, profile=None):
    """(ms, peak_mb): peak_mb None on the CPU."""
    torch.manual_seed(0)
    model = Encoder(n, attention).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0)
    ids = torch.randint(0, 256, (batch, n)).to(device)
    mask = torch.ones(batch, n, device=device)
    labels = torch.zeros(batch, dtype=torch.long, device=device)
    cuda = device.type == 'cuda'
    if cuda:
        sync(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(ids, mask), labels).backward()
        opt.step()

    for _ in range(warmup):
        step()
    sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        sync(device)
        times.append((time.perf_counter() - t0) * 1000)
    peak_mb = round(max(0, torch.cuda.max_memory_allocated(device) - before) / 2 ** 20) if cuda else None
    if profile:
        profile(step)
    return statistics.median(times), peak_mb


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--device', choices=DEVICES, default='cpu', help='where torch runs: cpu, or cuda (adds peak_mb)')
    ap.add_argument('--n', default='1024,4096')
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--attention', default='softmax,nystrom-64')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--malloc-tuned', action='store_true')
    ap.add_argument('--profile', action='store_true', help='after the timing, one more step under torch.profiler')
    args = ap.parse_args()
    if args.malloc_tuned and 'MALLOC_MMAP_THRESHOLD_' not in os.environ:
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(2 ** 32), MALLOC_TRIM_THRESHOLD_=str(2 ** 36))
        sys.exit(subprocess.run([sys.executable, *sys.argv], env=env).returncode)
    torch.set_num_threads(args.threads)
    device = require_device(args.device)
    fixtures_on(device)
    for n in (int(s) for s in args.n.split(',')):
        for attention in (s.strip() for s in args.attention.split(',')):
            context = {'attention': attention, 'n': n, 'batch': args.batch}
            profile = args.profile and (lambda step: print_profile(step, context, args.json))
            ms, peak_mb = measure(n, args.batch, attention, args.repeats, args.warmup, device, profile)
            r = {'bench': 'lra-step', 'device': device.type, 'impl': 'torch', 'attention': attention, 'n': n, 'batch': args.batch,
                 'ms': round(ms), **({'peak_mb': peak_mb} if peak_mb is not None else {})}
            memory = f", {peak_mb} MB" if peak_mb is not None else ''
            print(json.dumps(r) if args.json else f"torch {attention:12s} n={n:<6d} batch {args.batch}: {r['ms']} ms/step{memory}", flush=True)


if __name__ == '__main__':
    main()
