#!/usr/bin/python3
"""PyTorch baseline for `nystromformer bench attention`: the official Nyström formulas and exact
softmax attention, float32 on the CPU (or, with --device cuda, on a CUDA GPU), timed the same way
and printed in the same JSON shape.

    /usr/bin/python3 scripts/bench/attention_torch.py --json --n 1024,4096 --heads 12 --dim 64 \\
        --landmarks 64 --conv 33 --backward
    python3 scripts/bench/attention_torch.py --device cuda --json --n 4096,16384 --backward

One line per measurement:
    {"bench":"attention","device":"cpu"|"cuda","impl":"torch-nystrom"|"torch-softmax","n":N,
     "pass":"fwd"|"fwdbwd","ms":T,"peak_mb":P}

ms: the median of --repeats runs after --warmup untimed runs. peak_mb: how far the process's
resident set (Linux VmHWM) rose above its level just before the first run, measured on that
first, cold run in a fresh child process (one per measurement), so memory that the allocator kept
from earlier runs cannot hide it. It counts everything the pass allocates (the inputs and, for
fwdbwd, their gradients excluded, since they exist before), in MiB; null where /proc is missing.
Python's tracemalloc does not see torch's allocations, so it is not used.

--device cuda (default cpu): the inputs (drawn on the CPU from the same seed, then moved) and every
op run on the GPU, in strict float32 (TF32 off for matmul and cuDNN, as WebGPU shaders compute in
float32); each timed run is bracketed by torch.cuda.synchronize(), as is the end of the warm-up, so
ms is the time until the GPU has finished. peak_mb is then torch.cuda.max_memory_allocated() (reset
with torch.cuda.reset_peak_memory_stats()) minus torch.cuda.memory_allocated() just before that
first run, in MiB: the tensors the pass allocates on the GPU, not the caching allocator's reserve,
the CUDA context or library workspaces (created by the small warm-up before it). The fixture
functions create a few constants (torch.eye, torch.zeros) without a device; on CUDA they are made
on the GPU (see fixtures_on). Fails with a message when torch.cuda.is_available() is false.

Allocation cost: glibc returns every large tensor buffer to the kernel with munmap, so each op's
output is faulted in page by page again; on the 2-core VM of docs/algorithm.md §5 that costs ~80 ms per
48 MB (an elementwise op on a 12×1024×1024 tensor: 81 ms by default, 1.6 ms with the buffers
reused). --malloc-tuned raises glibc's mmap and trim thresholds in the children so buffers are
reused: the default numbers are what a plain PyTorch process gets, the tuned ones a fairer
baseline for the arithmetic itself. Note also that torch 1.13's batched matmul with a transposed
operand (Q·Kᵀ as the official code writes it) runs ~7× slower here than with a contiguous one.

Needs Debian's torch and OpenBLAS: apt-get install -y python3-torch libopenblas0-pthread
(without libopenblas0-pthread torch falls back to the reference BLAS, ~50× slower).
"""
import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
import make_attention_fixtures  # noqa: E402
from make_attention_fixtures import nystrom_attention, softmax_attention  # noqa: E402

DEVICES = ('cpu', 'cuda')


def require_device(name):
    """torch.device for --device NAME; exits with a message where CUDA is asked for and unavailable.
    On CUDA: strict float32 (no TF32 in matmul or cuDNN convolutions). Shared by the bench scripts."""
    if name not in DEVICES:
        sys.exit(f'--device must be one of {", ".join(DEVICES)}, not {name!r}')
    if name == 'cuda':
        if not torch.cuda.is_available():
            sys.exit(f'--device cuda: torch.cuda.is_available() is False (torch {torch.__version__}, '
                     f'built for CUDA {torch.version.cuda or "none"}): no usable CUDA GPU or driver here')
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return torch.device(name)


def sync(device):
    """Waits until the device has run everything queued (nothing to wait for on the CPU)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


class _TorchOn:
    """Stands in for the module `torch` inside the fixture modules: a factory call there without a
    device (torch.eye, torch.zeros, torch.arange, …) makes its tensor on `device`; the rest is torch."""
    FACTORIES = frozenset(('eye', 'zeros', 'ones', 'empty', 'full', 'arange'))

    def __init__(self, device):
        self._device = device

    def __getattr__(self, name):
        attr = getattr(torch, name)
        return functools.partial(attr, device=self._device) if name in self.FACTORIES else attr


def fixtures_on(device, *modules):
    """Makes the fixture functions (make_attention_fixtures and `modules`), which create their
    constants on the default device, create them on `device` instead: without this, Nyström attention
    on CUDA would mix a CPU identity matrix into GPU products. Nothing to do on the CPU. Call it once
    the fixture modules have made what they draw from CPU generators (weights, inputs)."""
    if device.type == 'cpu':
        return
    for module in (make_attention_fixtures, *modules):
        module.torch = _TorchOn(device)


def proc_status_kib(field):
    try:
        with open('/proc/self/status') as fh:
            for line in fh:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss():
    """Linux ≥ 4.0: writing 5 to clear_refs resets VmHWM to the current resident set."""
    try:
        with open('/proc/self/clear_refs', 'w') as fh:
            fh.write('5')
        return True
    except OSError:
        return False


def child(p):
    """One measurement, in its own process."""
    torch.set_num_threads(p['threads'])
    device = require_device(p['device'])
    fixtures_on(device)
    gen = torch.Generator().manual_seed(0)
    B, H, n, d, m, K = p['batch'], p['heads'], p['n'], p['dim'], p['landmarks'], p['conv']
    shape = (B, H, n, d)
    q, k, v = (torch.randn(*shape, generator=gen).to(device) for _ in range(3))
    conv_w = (torch.randn(H, 1, K, 1, generator=gen) * 0.1).to(device) if p['impl'] == 'torch-nystrom' and K > 0 else None
    leaves = [q, k, v] + ([conv_w] if conv_w is not None else [])
    backward = p['pass'] == 'fwdbwd'
    dout = torch.randn(*shape, generator=gen).to(device) if backward else None
    for t in leaves:
        t.requires_grad_(backward)

    def attend(q, k, v, conv_w):
        if p['impl'] == 'torch-nystrom':
            return nystrom_attention(q, k, v, None, m, conv_w, init='original', iters=6)
        return softmax_attention(q, k, v, None)

    def run():
        if backward:
            out = attend(*leaves[:3], conv_w)
            torch.autograd.grad(out, leaves, dout)
        else:
            with torch.no_grad():
                attend(q, k, v, conv_w)

    # load kernels and thread pools on a small problem first, so they do not count as the pass's memory
    with torch.no_grad():
        small = torch.randn(1, H, max(256, 2 * m), d, device=device)
        attend(small, small, small, conv_w)
    peak_mb = None
    if device.type == 'cuda':
        sync(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        run()
        sync(device)
        peak_mb = round(max(0, torch.cuda.max_memory_allocated(device) - before) / 2 ** 20, 1)
    else:
        before = proc_status_kib('VmRSS')
        if before is not None and reset_peak_rss():
            run()
            peak = proc_status_kib('VmHWM')
            peak_mb = round(max(0, peak - before) / 1024, 1)
        else:
            run()
    for _ in range(p['warmup']):
        run()
    sync(device)
    times = []
    for _ in range(p['repeats']):
        t0 = time.perf_counter()
        run()
        sync(device)
        times.append(time.perf_counter() - t0)
    ms = round(statistics.median(times) * 1000, 1)
    print(json.dumps({'bench': 'attention', 'device': device.type, 'impl': p['impl'], 'n': n, 'pass': p['pass'],
                      'ms': ms, 'peak_mb': peak_mb}))


def main():
    ap = argparse.ArgumentParser(description='PyTorch Nyström and softmax attention timings (float32, CPU or CUDA)')
    ap.add_argument('--device', choices=DEVICES, default='cpu',
                    help='where torch runs: cpu, or cuda (peak_mb: torch.cuda.max_memory_allocated above the start)')
    ap.add_argument('--json', action='store_true', help='one JSON object per line (the default output is a table)')
    ap.add_argument('--n', default='1024,4096', help='comma-separated sequence lengths')
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--heads', type=int, default=12)
    ap.add_argument('--dim', type=int, default=64, help='head size')
    ap.add_argument('--landmarks', type=int, default=64)
    ap.add_argument('--conv', type=int, default=33, help='conv kernel size on V (0 = none)')
    ap.add_argument('--backward', action='store_true', help='also time forward+backward')
    ap.add_argument('--impl', default='torch-nystrom,torch-softmax')
    ap.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (docs/algorithm.md §5: 2)')
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--max-softmax-gib', type=float, default=4.0,
                    help='skip softmax where one B·H·n·n float32 matrix exceeds this many GiB')
    ap.add_argument('--malloc-tuned', action='store_true',
                    help='run the children with glibc MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ raised, so large '
                         'buffers are reused instead of mapped and faulted in afresh on every op (see the docstring)')
    ap.add_argument('--child', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    impls = [s.strip() for s in args.impl.split(',') if s.strip()]
    for impl in impls:
        if impl not in ('torch-nystrom', 'torch-softmax'):
            ap.error(f'unknown impl {impl!r} (torch-nystrom, torch-softmax)')
    if args.conv and args.conv % 2 == 0:
        ap.error('--conv must be odd (or 0)')
    require_device(args.device)  # fail here, once, rather than in every child
    passes = ['fwd', 'fwdbwd'] if args.backward else ['fwd']
    for n in (int(s) for s in args.n.split(',')):
        for impl in impls:
            matrix_gib = args.batch * args.heads * n * n * 4 / 2 ** 30
            if impl == 'torch-softmax' and matrix_gib > args.max_softmax_gib:
                print(f'torch-softmax n={n}: skipped (n×n scores {matrix_gib:.1f} GiB > {args.max_softmax_gib})', file=sys.stderr)
                continue
            if impl == 'torch-nystrom' and args.landmarks >= n:
                print(f'torch-nystrom n={n}: skipped (landmarks ≥ n)', file=sys.stderr)
                continue
            for pass_ in passes:
                params = dict(vars(args), impl=impl, n=n, **{'pass': pass_})
                params.pop('child')
                env = dict(os.environ)
                if args.malloc_tuned:
                    env.update(MALLOC_MMAP_THRESHOLD_=str(2 ** 32), MALLOC_TRIM_THRESHOLD_=str(2 ** 36))
                r = subprocess.run([sys.executable, os.path.abspath(__file__), '--child', json.dumps(params)],
                                   capture_output=True, text=True, env=env)
                if r.returncode != 0:
                    sys.stderr.write(r.stderr)
                    sys.exit(f'{impl} n={n} {pass_}: the measurement failed (exit {r.returncode})')
                line = r.stdout.strip().splitlines()[-1]
                if args.json:
                    print(line, flush=True)
                else:
                    o = json.loads(line)
                    print(f"{o['impl']:14s} n={o['n']:<6d} {o['pass']:6s} {o['ms']:9.1f} ms  {o['peak_mb']} MB", flush=True)


if __name__ == '__main__':
    main()
