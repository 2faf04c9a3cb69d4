#!/usr/bin/env bash
# WebGPU (this library, through Dawn in Node.js) against PyTorch on CUDA, same shapes, on one GPU
# machine; no network needed. Run from anywhere, after `npm run build` (dist/) and with the optional
# `webgpu` package installed:
#
#     bash scripts/bench/webgpu-vs-cuda.sh [OUT.jsonl]      # default webgpu-vs-cuda.jsonl
#
# Every JSON line (WebGPU: "device":"webgpu" or impl "webgpu"; PyTorch: "device":"cuda" or impl
# "torch-cuda") is echoed and written to OUT (truncated first); notes and errors go to stderr.
#   gemm:      1024x1024x1024,4096x4096x4096
#   attention: n 4096,16384, 12 heads × 64, 64 landmarks, conv 33, forward and forward+backward,
#              exact softmax only at n ≤ 4096 (--max-softmax-n 4096; the PyTorch script's default
#              --max-softmax-gib 4 skips n = 16384 too: its scores are 12 GiB)
#   lra-step:  n 1024,4096, batch 32, nystrom-64 and softmax (one training step, AdamW)
# Each step runs under `timeout` and the next one runs whatever happened; the limits add up to
# under 8 minutes at worst (an H100 should need far less). The PyTorch part is skipped, with a
# message, where $PYTHON (default python3) has no torch or torch sees no CUDA GPU.
# Environment: PYTHON, NODE (default node); SMALL=1 swaps in tiny shapes and short timings (to
# check the script itself on a machine without a GPU, where WebGPU is a slow software adapter).
set -u

out=${1:-webgpu-vs-cuda.jsonl}
case $out in /*) ;; *) out=$PWD/$out ;; esac
cd "$(dirname "$0")/../.." || exit 1
PYTHON=${PYTHON:-python3}
NODE=${NODE:-node}
: >"$out" || exit 1

if [ "${SMALL:-0}" = 1 ]; then
  gemm_sizes=64x64x64,128x64x96
  gemm_seconds=(--seconds 0.1)
  att=(--n 128,256 --backward --heads 2 --dim 8 --landmarks 8 --conv 3)
  att_webgpu=(--max-softmax-n 128 --seconds 0.1)
  att_torch=(--max-softmax-gib 0.0003 --repeats 2 --warmup 1) # scores 1.2e-4 GiB at 128, 4.9e-4 at 256
  lra=(--n 64,128 --batch 2)
  lra_attention=nystrom-8,softmax
  limit_gemm=60 limit_att=120 limit_lra=180 limit_torch=120
else
  gemm_sizes=1024x1024x1024,4096x4096x4096
  gemm_seconds=()
  att=(--n 4096,16384 --backward --heads 12 --dim 64 --landmarks 64 --conv 33)
  att_webgpu=(--max-softmax-n 4096)
  att_torch=()
  lra=(--n 1024,4096 --batch 32)
  lra_attention=nystrom-64,softmax
  limit_gemm=50 limit_att=100 limit_lra=100 limit_torch=60
fi
limit_torch_att=$((limit_torch * 3 / 2)) # a fresh process (CUDA context) per measurement

# step NAME SECONDS COMMAND...: runs COMMAND under timeout, streams its output, then appends its
# JSON lines (those starting with '{') to $out; reports a failure or a timeout and carries on.
step() {
  local name=$1 limit=$2 tmp rc t0=$SECONDS
  shift 2
  echo "== $name (limit ${limit} s): $*" >&2
  tmp=$(mktemp) || return 0
  timeout -k 10 "$limit" "$@" | tee "$tmp"
  rc=${PIPESTATUS[0]}
  grep '^{' "$tmp" >>"$out"
  rm -f "$tmp"
  case $rc in
    0) ;;
    124 | 137) echo "== $name: timed out after ${limit} s (lines above: what it finished)" >&2 ;;
    *) echo "== $name: failed (exit $rc)" >&2 ;;
  esac
  echo "== $name: $((SECONDS - t0)) s" >&2
}

echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null || echo '?'), output $out" >&2
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi -L
else
  echo "== nvidia-smi: not found" >&2
fi

# --- WebGPU (Dawn) ---
if [ ! -d dist ]; then
  echo "== dist/ is missing: run npm run build first; WebGPU part skipped" >&2
else
  # which adapter Dawn picks (as the library asks: a real GPU first); a software one (llvmpipe,
  # SwiftShader) means the numbers below say nothing about the GPU
  timeout 30 "$NODE" -e "
    const d = require('webgpu');
    d.create([]).requestAdapter({ powerPreference: 'high-performance' }).then((a) => {
      const i = a && a.info;
      console.error(a ? '== Dawn adapter: ' + [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ')
                      : '== Dawn: no GPU adapter (Vulkan); the library falls back to OpenGL ES (software on most GPU-less hosts)');
      process.exit(0);
    }, (e) => { console.error('== Dawn: ' + e.message); process.exit(0); });
  " || echo "== the 'webgpu' package could not be loaded or timed out (npm install webgpu)" >&2

  step "webgpu gemm" "$limit_gemm" "$NODE" bin/nystromformer.js bench gemm --impl webgpu --sizes "$gemm_sizes" ${gemm_seconds[@]+"${gemm_seconds[@]}"} --json
  step "webgpu attention" "$limit_att" "$NODE" bin/nystromformer.js bench attention --device webgpu --json "${att[@]}" "${att_webgpu[@]}"
  step "webgpu lra-step" "$limit_lra" "$NODE" bin/nystromformer.js bench lra-step --device webgpu --json "${lra[@]}" --attention "$lra_attention"
fi

# --- PyTorch on CUDA ---
if ! why=$(timeout 60 "$PYTHON" -c '
import sys
try:
    import torch
except Exception as e:
    sys.exit(f"no torch ({e})")
if not torch.cuda.is_available():
    sys.exit(f"torch {torch.__version__} (CUDA build {torch.version.cuda}) sees no CUDA GPU")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
' 2>&1); then
  echo "== PyTorch part skipped: ${why:-$PYTHON failed or timed out}" >&2
else
  echo "== $why" >&2
  step "torch gemm" "$limit_torch" "$PYTHON" scripts/bench/gemm_torch.py --device cuda --json --sizes "$gemm_sizes" ${gemm_seconds[@]+"${gemm_seconds[@]}"}
  step "torch attention" "$limit_torch_att" "$PYTHON" scripts/bench/attention_torch.py --device cuda --json "${att[@]}" ${att_torch[@]+"${att_torch[@]}"}
  step "torch lra-step" "$limit_torch" "$PYTHON" scripts/bench/lra_step_torch.py --device cuda --json "${lra[@]}" --attention "$lra_attention"
fi

echo "== $(grep -c . "$out") JSON lines in $out" >&2
