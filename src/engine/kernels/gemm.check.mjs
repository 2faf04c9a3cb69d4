// Correctness checks and single-thread timing for the wasm GEMM kernel (src/engine/kernels/gemm.ts).
//   node src/engine/kernels/gemm.check.mjs            correctness, both builds
//   node src/engine/kernels/gemm.check.mjs --bench    + GFLOP/s at 1024³ and 4096×768×3072 (M×K×N)
// Wasm files: dist/kernels/{simd,relaxed}.wasm, or the paths in $GEMM_SIMD / $GEMM_RELAXED.
import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); // before any WebAssembly.compile

const builds = {
  simd: process.env.GEMM_SIMD ?? 'dist/kernels/simd.wasm',
  relaxed: process.env.GEMM_RELAXED ?? 'dist/kernels/relaxed.wasm',
};
const bench = process.argv.includes('--bench');

async function load(path) {
  const memory = new WebAssembly.Memory({ initial: 4096, maximum: 65536, shared: true });
  const mod = await WebAssembly.compile(readFileSync(path));
  const inst = await WebAssembly.instantiate(mod, {
    env: { memory, abort: () => { throw new Error('wasm abort'); } },
  });
  const ex = inst.exports;
  const base = ex.heapBase ? Number(ex.heapBase()) : 1 << 20;
  let top = Math.max(base, 1 << 20);
  // bump allocator over the shared memory; returns [byte offset, Float32Array view]
  const alloc = (floats) => {
    top = (top + 63) & ~63;
    const p = top;
    top += floats * 4;
    while (top > memory.buffer.byteLength) memory.grow(1024);
    return p;
  };
  const f32 = (p, len) => new Float32Array(memory.buffer, p, len);
  const reset = () => { top = Math.max(base, 1 << 20); };
  return { ex, alloc, f32, reset };
}

// deterministic random numbers in [-1, 1)
let seed = 12345;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 31) - 1;

// One case. tA/tB: operand stored transposed; padA/padB/padC: extra elements per stored row;
// bcA/bcB: batch stride 0 (one matrix broadcast over the batch); bias: a row of n added to C,
// whose result must have the bits of the product without it followed by a float32 add.
function runCase(w, { batch = 1, m, n, k, tA = false, tB = false, alpha = 1, beta = 0,
  padA = 0, padB = 0, padC = 0, bcA = false, bcB = false, bias = false, nts = [1, 2, 3] }) {
  w.reset();
  // A logical [batch, m, k]; stored row-major as [m][k+pad] or, transposed, [k][m+pad]
  const aRows = tA ? k : m, aCols = (tA ? m : k) + padA;
  const aBS = bcA ? 0 : aRows * aCols;
  const aRS = tA ? 1 : aCols, aCS = tA ? aCols : 1;
  const bRows = tB ? n : k, bCols = (tB ? k : n) + padB;
  const bBS = bcB ? 0 : bRows * bCols;
  const bRS = tB ? 1 : bCols, bCS = tB ? bCols : 1;
  const ldc = n + padC, cBS = m * ldc;
  const aLen = (bcA ? 1 : batch) * aRows * aCols, bLen = (bcB ? 1 : batch) * bRows * bCols;
  const cLen = batch * cBS;
  const pa = w.alloc(aLen), pb = w.alloc(bLen), pc = w.alloc(cLen), pbias = bias ? w.alloc(n) : 0;
  const A = w.f32(pa, aLen), B = w.f32(pb, bLen);
  const bias32 = bias ? w.f32(pbias, n) : new Float32Array(n);
  for (let j = 0; bias && j < n; j++) bias32[j] = rnd() * 4;
  for (let i = 0; i < aLen; i++) A[i] = rnd();
  for (let i = 0; i < bLen; i++) B[i] = rnd();
  const C0 = new Float32Array(cLen);
  for (let i = 0; i < cLen; i++) C0[i] = beta === 0 ? NaN : rnd(); // beta=0 must ignore old C
  const padMark = 7.25;
  for (let bi = 0; bi < batch; bi++) for (let i = 0; i < m; i++) for (let j = n; j < ldc; j++) C0[bi * cBS + i * ldc + j] = padMark;

  // float64 reference
  const ref = new Float64Array(cLen);
  let maxRef = 0;
  for (let bi = 0; bi < batch; bi++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += A[bi * aBS + i * aRS + p * aCS] * B[bi * bBS + p * bRS + j * bCS];
    const ci = bi * cBS + i * ldc + j;
    ref[ci] = alpha * s + (beta === 0 ? 0 : beta * C0[ci]) + bias32[j];
    maxRef = Math.max(maxRef, Math.abs(ref[ci]));
  }

  const wb = w.ex.gemmWorkBytes(m, n, k);
  let first = null;
  for (const nt of nts) {
    const pw = w.alloc(Math.ceil((wb * nt) / 4));
    const C = w.f32(pc, cLen);
    C.set(C0);
    const product = (withBias) => {
      w.f32(pc, cLen).set(C0);
      for (let tid = 0; tid < nt; tid++) {
        w.ex.gemm(tid, nt, batch, m, n, k, pa, aBS, aRS, aCS, pb, bBS, bRS, bCS, pc, cBS, ldc,
          alpha, beta, withBias ? pbias : 0, pw, wb);
      }
      return Float32Array.from(w.f32(pc, cLen));
    };
    const got = product(bias);
    if (bias) {
      const plain = product(false);
      for (let bi = 0; bi < batch; bi++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        const ci = bi * cBS + i * ldc + j;
        if (!Object.is(got[ci], Math.fround(plain[ci] + bias32[j]))) throw new Error(`bias: (${i},${j}) is not the product + bias in float32 (nt=${nt})`);
      }
    }
    const tol = 1e-5 * Math.sqrt(Math.max(k, 1)) * Math.max(maxRef, 1e-30) + 1e-30;
    let maxErr = 0;
    for (let bi = 0; bi < batch; bi++) for (let i = 0; i < m; i++) for (let j = 0; j < ldc; j++) {
      const ci = bi * cBS + i * ldc + j;
      if (j >= n) {
        if (got[ci] !== padMark) throw new Error(`wrote outside C at batch ${bi} (${i},${j})`);
        continue;
      }
      const e = Math.abs(got[ci] - ref[ci]);
      if (!(e <= maxErr)) maxErr = e; // NaN-safe
    }
    if (!(maxErr <= tol)) throw new Error(`error ${maxErr} > tol ${tol} (nt=${nt})`);
    if (first === null) first = got;
    else {
      const u1 = new Uint32Array(first.buffer), u2 = new Uint32Array(got.buffer);
      for (let i = 0; i < u1.length; i++) if (u1[i] !== u2[i]) throw new Error(`nt=${nt} differs from nt=${nts[0]} at ${i}`);
    }
  }
}

function cases() {
  const list = [];
  const sizes = [1, 3, 17, 63, 65];
  for (const m of sizes) for (const n of sizes) for (const k of [1, 3, 17, 65]) list.push({ m, n, k });
  list.push({ m: 1000, n: 17, k: 63 }, { m: 3, n: 1000, k: 65 }, { m: 17, n: 5, k: 1000 });
  list.push({ m: 100, n: 2100, k: 70, nts: [1, 2, 3] });    // n > NC: several column blocks
  list.push({ m: 130, n: 90, k: 600, nts: [1, 2, 3, 4] });  // several K blocks, m > MC
  for (const tA of [false, true]) for (const tB of [false, true]) {
    list.push({ m: 37, n: 29, k: 300, tA, tB });
    list.push({ m: 5, n: 70, k: 33, tA, tB, padA: 3, padB: 2, padC: 5, nts: [1, 2, 3, 7] });
    list.push({ batch: 3, m: 13, n: 21, k: 19, tA, tB, alpha: 0.5, beta: -1.5, padC: 1 });
    // m < 4 takes the unpacked paths (row·B, or dot products when B is transposed)
    list.push({ m: 3, n: 77, k: 29, tA, tB, padA: 1, padB: 3, nts: [1, 2, 3, 7] });
    list.push({ m: 1, n: 100, k: 1, tA, tB, beta: 0.5, nts: [1, 2, 5] });
    list.push({ batch: 3, m: 2, n: 45, k: 13, tA, tB, beta: 0.5, bcB: true });
  }
  list.push({ batch: 4, m: 9, n: 33, k: 40, bcA: true });
  list.push({ batch: 4, m: 30, n: 11, k: 40, bcB: true, beta: 2, nts: [1, 2, 3, 5] });
  list.push({ batch: 2, m: 64, n: 64, k: 64, alpha: -2, beta: 0.25 });
  list.push({ m: 8, n: 8, k: 8, alpha: 0, beta: 3 });        // alpha=0: C = beta*C
  list.push({ m: 8, n: 8, k: 0, beta: 0 });                  // k=0: C = 0
  list.push({ m: 1, n: 1024, k: 512, tB: true, nts: [1, 2, 3, 4] }); // vector × matrix
  list.push({ m: 1, n: 1000, k: 300, nts: [1, 2, 3, 4] });
  list.push({ m: 4, n: 8, k: 8, nts: [1, 2] }); // smallest packed case
  list.push({ m: 6, n: 40, k: 9, tB: true, nts: [1, 2, 3] }); // last row block shorter than MR
  // bias: packed tiles and edges, several K blocks, several column blocks, the unpacked paths, k = 0
  list.push({ m: 37, n: 29, k: 65, bias: true }, { m: 130, n: 90, k: 600, beta: 0.5, bias: true, nts: [1, 2, 3] });
  list.push({ m: 9, n: 2100, k: 17, bias: true, nts: [1, 2] }, { batch: 3, m: 13, n: 21, k: 19, tA: true, bias: true });
  for (const tB of [false, true]) list.push({ m: 3, n: 77, k: 29, tB, bias: true, nts: [1, 2, 3] }, { m: 1, n: 45, k: 13, tB, beta: 0.5, bias: true });
  list.push({ m: 8, n: 8, k: 0, bias: true }, { m: 8, n: 8, k: 8, alpha: 0, beta: 3, bias: true });
  return list;
}

function timeIt(w, m, n, k) {
  w.reset();
  const pa = w.alloc(m * k), pb = w.alloc(k * n), pc = w.alloc(m * n);
  const A = w.f32(pa, m * k), B = w.f32(pb, k * n);
  for (let i = 0; i < A.length; i++) A[i] = rnd();
  for (let i = 0; i < B.length; i++) B[i] = rnd();
  const wb = w.ex.gemmWorkBytes(m, n, k), pw = w.alloc(wb / 4);
  const run = () => w.ex.gemm(0, 1, 1, m, n, k, pa, 0, k, 1, pb, 0, n, 1, pc, 0, n, 1, 0, 0, pw, wb);
  run(); run();
  let best = Infinity;
  const t0 = performance.now();
  for (let r = 0; r < 10 && (r < 3 || performance.now() - t0 < 3000); r++) {
    const t = performance.now();
    run();
    best = Math.min(best, performance.now() - t);
  }
  return (2 * m * n * k) / (best * 1e6);
}

let failed = false;
for (const [name, path] of Object.entries(builds)) {
  const w = await load(path);
  const list = cases();
  let ok = 0;
  for (const c of list) {
    try { runCase(w, c); ok++; } catch (e) { failed = true; console.error(`${name}: FAIL ${JSON.stringify(c)}: ${e.message}`); }
  }
  console.log(`${name}: ${ok}/${list.length} cases ok`);
  if (bench) {
    const g1 = timeIt(w, 1024, 1024, 1024);
    const g2 = timeIt(w, 4096, 3072, 768);
    console.log(`${name}: 1 thread  1024³ ${g1.toFixed(1)} GFLOP/s   4096×768×3072 ${g2.toFixed(1)} GFLOP/s`);
  }
}
process.exit(failed ? 1 : 0);
