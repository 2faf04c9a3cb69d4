#!/usr/bin/python3
"""PyTorch baseline for `nystromformer bench infer`: the forward time of the same Nyströmformer,
float32 on the CPU (or, with --device cuda, on a CUDA GPU), under torch.inference_mode, printed in
the same JSON shape.

    /usr/bin/python3 scripts/fixtures/make_model_fixtures.py --bench-out /tmp/bert-base
    /usr/bin/python3 scripts/bench/infer_torch.py --json --model /tmp/bert-base --n 512,4096,16384
    npx nystromformer bench infer --json --model /tmp/bert-base --n 512,4096,16384
    python3 scripts/bench/infer_torch.py --device cuda --json --n 512,4096,16384

One line per length:
    {"bench":"infer","device":"cpu","runtime":"pytorch","attention":"nystrom","landmarks":64,"layers":12,
     "hidden":768,"heads":12,"n":N,"ms":T,"threads":2,"checksum":C}
With --device cuda, "device":"cuda" and "peak_mb":P after ms.

The model is make_model_fixtures.py's base model (docs/algorithm.md §2 in plain torch, no `transformers`)
with its attention in the library's 'nystrom' mode (make_attention_fixtures.nystrom_attention:
segment-mean landmarks, 6 pseudo-inverse iterations, the depthwise conv on V) at every length.
Weights: the folder --model (model.safetensors as make_model_fixtures.py --bench-out writes it),
or, without it, make_model_fixtures.bench_weights() built in memory (the same seed, so the same
weights as that folder; --layers/--hidden/--heads shrink it, and --save DIR writes it out for
`bench infer --model DIR`). Inputs: batch 1, ids (i·7919 + 13) mod vocab_size, no mask, token
type 0: what `bench infer` feeds. checksum = Σᵢ xᵢ·sin(i) over the flattened last hidden state,
in float64, as `bench infer` computes it, so the outputs can be compared across programs.

ms: the median of --repeats runs after one warm-up run (the upper middle one for an even count, as
`bench infer` takes it). Linear layers are x·Wᵀ + b as in the
fixture script (a bias-free product then an add: on this machine's torch 1.13 that runs at about
twice the speed of nn.Linear with bias, docs/algorithm.md §5), so the baseline is not handicapped.
--malloc-tuned raises glibc's mmap and trim thresholds (see attention_torch.py) by re-running
this script with them set.

--device cuda (default cpu): the weights (loaded or built on the CPU, then moved) and the ids live on
the GPU, in strict float32 (no TF32); the warm-up and each timed run end with torch.cuda.synchronize(),
so ms is the time until the GPU has finished. peak_mb (CUDA only) is the working memory above the
weights, as `bench infer` reports it: torch.cuda.max_memory_allocated() during the warm-up run (reset
with torch.cuda.reset_peak_memory_stats()) minus torch.cuda.memory_allocated() before it, in MiB. The
checksum is computed on the CPU in float64 either way (GPU kernels round differently, so it agrees with
the CPU's to about 1e-6 relative, not exactly). threads: CPU threads, which on CUDA only launch kernels.
Fails with a message when torch.cuda.is_available() is false.

Needs Debian's torch and OpenBLAS: apt-get install -y python3-torch libopenblas0-pthread.
"""
import argparse
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
from make_attention_fixtures import read_safetensors  # noqa: E402
import make_model_fixtures  # noqa: E402
from make_model_fixtures import base_model, bench_model, bench_weights  # noqa: E402
from attention_torch import DEVICES, fixtures_on, require_device, sync  # noqa: E402

TUNED_ENV = dict(MALLOC_MMAP_THRESHOLD_=str(2 ** 32), MALLOC_TRIM_THRESHOLD_=str(2 ** 36))


def load(args):
    """(config, float32 weights by Hugging Face name without a head prefix)."""
    if args.model:
        with open(os.path.join(args.model, 'config.json')) as fh:
            c = json.load(fh)
        sd, _ = read_safetensors(os.path.join(args.model, 'model.safetensors'))
        sd = {k[len('nystromformer.'):] if k.startswith('nystromformer.') else k: v for k, v in sd.items()}
    else:
        overrides = {k: v for k, v in (('num_hidden_layers', args.layers), ('hidden_size', args.hidden),
                                       ('num_attention_heads', args.heads)) if v is not None}
        if args.hidden is not None:
            overrides['intermediate_size'] = 4 * args.hidden
        c, sd = bench_weights(**overrides)
        if args.save:
            bench_model(args.save, c, sd)
    return c, {k: v.to(torch.float32) for k, v in sd.items()}


def checksum(x):
    flat = x.detach().cpu().to(torch.float64).flatten()
    return float((flat * torch.sin(torch.arange(flat.numel(), dtype=torch.float64))).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--json', action='store_true', help='one JSON object per line (the default output is a table)')
    ap.add_argument('--device', choices=DEVICES, default='cpu', help='where torch runs: cpu, or cuda (adds peak_mb)')
    ap.add_argument('--model', help='model folder (make_model_fixtures.py --bench-out); default: built in memory')
    ap.add_argument('--n', default='512,4096,16384', help='comma-separated sequence lengths')
    ap.add_argument('--landmarks', type=int, default=64)
    ap.add_argument('--layers', type=int, help='layers of the in-memory model (default 12)')
    ap.add_argument('--hidden', type=int, help='hidden size of the in-memory model (default 768; FFN 4×)')
    ap.add_argument('--heads', type=int, help='heads of the in-memory model (default 12)')
    ap.add_argument('--save', help='write the in-memory model to this folder (for bench infer --model)')
    ap.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (docs/algorithm.md §5: 2)')
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--malloc-tuned', action='store_true', help='glibc keeps large buffers (see attention_torch.py)')
    args = ap.parse_args()
    if args.model and (args.layers or args.hidden or args.heads or args.save):
        ap.error('--layers/--hidden/--heads/--save shape the in-memory model; not with --model')
    if args.malloc_tuned and any(os.environ.get(k) != v for k, v in TUNED_ENV.items()):
        # glibc reads these at startup only
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **TUNED_ENV})
    lengths = [int(s) for s in args.n.split(',')]
    torch.set_num_threads(args.threads)
    device = require_device(args.device)
    c, w = load(args)
    w = {k: v.to(device) for k, v in w.items()}
    fixtures_on(device, make_model_fixtures)  # after load: bench_weights draws from a CPU generator
    if max(lengths) > c['max_position_embeddings']:
        ap.error(f"n up to {max(lengths)} needs max_position_embeddings ≥ that (the model has {c['max_position_embeddings']})")
    for n in lengths:
        if args.landmarks >= n:
            ap.error(f'--landmarks {args.landmarks} needs n > landmarks (n = {n})')
        ids = (torch.arange(n, dtype=torch.int64) * 7919 + 13) % c['vocab_size']
        ids = ids[None, :].to(device)  # batch 1

        def forward():
            with torch.inference_mode():
                return base_model(c, w, ids, None, None, args.landmarks)

        peak_mb = None
        if device.type == 'cuda':
            sync(device)
            before = torch.cuda.memory_allocated(device)
            torch.cuda.reset_peak_memory_stats(device)
        out = forward()  # warm-up
        sync(device)
        if device.type == 'cuda':
            peak_mb = round(max(0, torch.cuda.max_memory_allocated(device) - before) / 2 ** 20, 1)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            out = forward()
            sync(device)
            times.append(time.perf_counter() - t0)
        r = {
            'bench': 'infer', 'device': device.type, 'runtime': 'pytorch', 'attention': 'nystrom', 'landmarks': args.landmarks,
            'layers': c['num_hidden_layers'], 'hidden': c['hidden_size'], 'heads': c['num_attention_heads'], 'n': n,
            'ms': round(sorted(times)[len(times) // 2] * 1000, 1),
            **({'peak_mb': peak_mb} if peak_mb is not None else {}),
            'threads': torch.get_num_threads(), 'checksum': checksum(out),
        }
        if args.json:
            print(json.dumps(r), flush=True)
        else:
            print(f"pytorch nystrom  n={n:<6d} {r['ms']:9.1f} ms ({r['threads']} threads)", flush=True)
        if not math.isfinite(r['checksum']):
            sys.exit(f'n={n}: the output is not finite')


if __name__ == '__main__':
    main()
