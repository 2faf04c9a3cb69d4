#!/usr/bin/python3
"""PyTorch baseline for `nystromformer bench gemm`: GFLOP/s of C = A·B (float32, torch.matmul into a
preallocated C) on the CPU or, with --device cuda, on a CUDA GPU, timed as the bench times it and
printed in its JSON shape.

    /usr/bin/python3 scripts/bench/gemm_torch.py --json --sizes 1024x1024x1024,4096x768x3072
    python3 scripts/bench/gemm_torch.py --device cuda --json --sizes 1024x1024x1024,4096x4096x4096
    npx nystromformer bench gemm --impl webgpu --json --sizes 1024x1024x1024,4096x4096x4096

One line per product:
    {"bench":"gemm","impl":"torch-cpu"|"torch-cuda","threads":T,"m":M,"k":K,"n":N,"gflops":G}

A is M×K and B is K×N, contiguous, drawn from a normal distribution; gflops = 2·M·K·N / the median
time of one product, in GFLOP/s rounded to 0.1. The timing is `bench gemm`'s: one untimed warm-up
product, then products timed one at a time until there are at least 3 and --seconds have passed.
On CUDA each product is bracketed by torch.cuda.synchronize() (as `bench gemm --impl webgpu` waits
for the GPU after each one), so a small product's time includes the launch and the wait; and
TF32 is off (torch.backends.cuda.matmul.allow_tf32 = False), so the products are strict float32 as
in WebGPU shaders. threads: torch's CPU threads (--threads, default the available cores), which on
CUDA only launch kernels. --device cuda fails with a message when torch.cuda.is_available() is false.

Needs torch (on Debian for the CPU: apt-get install -y python3-torch libopenblas0-pthread).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attention_torch import DEVICES, require_device, sync  # noqa: E402

REPEATS = 3  # bench gemm's minimum count of timed products


def parse_sizes(text):
    """'MxKxN,…' → [(M, K, N), …]."""
    sizes = []
    for item in (s.strip() for s in text.split(',') if s.strip()):
        parts = item.lower().replace('×', 'x').split('x')
        if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise ValueError(f'bad size {item!r}: expected MxKxN, positive integers (e.g. 1024x1024x1024)')
        sizes.append(tuple(int(p) for p in parts))
    if not sizes:
        raise ValueError('no sizes')
    return sizes


def time_product(m, k, n, device, seconds):
    """Median seconds of C = A·B (float32) after one warm-up, at least REPEATS runs and `seconds` in all."""
    gen = torch.Generator().manual_seed(1)
    a = torch.randn(m, k, generator=gen).to(device)
    b = torch.randn(k, n, generator=gen).to(device)
    c = torch.empty(m, n, device=device)
    torch.matmul(a, b, out=c)  # warm-up: library handles, workspaces, thread pools
    sync(device)
    times = []
    start = time.perf_counter()
    while len(times) < REPEATS or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        torch.matmul(a, b, out=c)
        sync(device)
        times.append(time.perf_counter() - t0)
    del a, b, c
    if device.type == 'cuda':
        torch.cuda.empty_cache()
    return statistics.median_high(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--json', action='store_true', help='one JSON object per line (the default output is a table)')
    ap.add_argument('--sizes', default='1024x1024x1024,4096x768x3072', help='comma-separated MxKxN products')
    ap.add_argument('--seconds', type=float, default=2.0, help='minimum timing per product (default 2)')
    ap.add_argument('--device', choices=DEVICES, default='cpu', help='where torch runs: cpu or cuda')
    ap.add_argument('--threads', type=int, help='torch.set_num_threads (default: the available cores)')
    args = ap.parse_args()
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as e:
        ap.error(f'--sizes: {e}')
    if args.seconds < 0:
        ap.error('--seconds must be ≥ 0')
    torch.set_num_threads(args.threads or len(os.sched_getaffinity(0)))
    device = require_device(args.device)
    impl = f'torch-{device.type}'
    if not args.json:
        name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'
        print(f'torch {torch.__version__}, {name}, threads {torch.get_num_threads()}', flush=True)
    for m, k, n in sizes:
        s = time_product(m, k, n, device, args.seconds)
        r = {'bench': 'gemm', 'impl': impl, 'threads': torch.get_num_threads(), 'm': m, 'k': k, 'n': n,
             'gflops': round(2 * m * k * n / s / 1e9, 1)}
        print(json.dumps(r) if args.json else f"{impl:10s} {m}×{k}×{n}: {r['gflops']} GFLOP/s", flush=True)


if __name__ == '__main__':
    main()
