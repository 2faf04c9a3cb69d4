// Correctness checks for the elementwise / reduce / indexing / conv / random wasm kernels.
//   node src/engine/kernels/kernels.check.mjs                      scratch-build these kernel files
//                                                                   (both builds) into a temp dir
//   node src/engine/kernels/kernels.check.mjs a.wasm [b.wasm ...]   check the given builds instead
// Every export is compared with a float64 plain-JS reference on odd sizes and broadcasting
// descriptors, and every call is run as tid = 0..nt-1 (sequentially) for nt = 1, 2, 3: outputs
// must be bit-identical across nt (outputs start as NaN garbage, so unwritten elements show up).
// Prints a pass/fail line per kernel; exits 1 on any failure.
import v8 from 'node:v8';
import { readFileSync, writeFileSync, mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); // before any WebAssembly.compile

const here = dirname(fileURLToPath(import.meta.url));
const MODULES = ['elementwise', 'reduce', 'indexing', 'conv', 'random', 'optimizers'];

async function scratchBuild() {
  const { main } = await import('assemblyscript/asc');
  const dir = mkdtempSync(join(tmpdir(), 'kernels-check-'));
  for (const f of ['tsconfig.json', 'memory.ts', 'partition.ts', 'op-codes.ts', ...MODULES.map((m) => `${m}.ts`)]) {
    copyFileSync(join(here, f), join(dir, f));
  }
  writeFileSync(join(dir, 'entry.ts'),
    `export { heapBase } from './memory';\n${MODULES.map((m) => `export * from './${m}';`).join('\n')}\n`);
  const common = [join(dir, 'entry.ts'), '--runtime', 'stub', '-O3', '--noAssert', '--converge',
    '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536',
    '--enable', 'simd', '--enable', 'threads'];
  const out = [];
  for (const [name, extra] of [['simd', []], ['relaxed', ['--enable', 'relaxed-simd']]]) {
    const file = join(dir, `${name}.wasm`);
    const { error, stderr } = await main([...common, ...extra, '-o', file]);
    if (error) { console.error(stderr.toString()); throw error; }
    out.push(file);
  }
  return out;
}

// ------------------------------------------------------------------ harness
class Ctx {
  constructor(ex, memory) {
    this.ex = ex; this.memory = memory;
    this.base = Math.max(1 << 20, ex.heapBase ? Number(ex.heapBase()) : 0);
    this.top = this.base;
  }
  reset() { this.top = this.base; }
  alloc(n) {
    const p = (this.top + 63) & ~63;
    this.top = p + Math.max(4 * n, 4) + 64;
    while (this.top > this.memory.buffer.byteLength) this.memory.grow(256);
    return p;
  }
  f32(p, n) { return new Float32Array(this.memory.buffer, p, n); }
  u32(p, n) { return new Uint32Array(this.memory.buffer, p, n); }
  i32(p, n) { return new Int32Array(this.memory.buffer, p, n); }
  put(arr) { // copies a typed array in, returns its byte offset
    const p = this.alloc(arr.length);
    new Uint32Array(this.memory.buffer, p, arr.length).set(new Uint32Array(arr.buffer, arr.byteOffset, arr.length));
    return p;
  }
  /** Runs call(tid, nt) for tid < nt, nt = 1..3, after initialising each output ({p, n, zero});
   *  checks bit-identical outputs across nt; returns the nt = 1 outputs as Float32Arrays. */
  run(label, outs, call) {
    let first = null;
    for (let nt = 1; nt <= 3; nt++) {
      for (const o of outs) this.u32(o.p, o.n).fill(o.zero ? 0 : 0x7fa5a5a5);
      for (let tid = 0; tid < nt; tid++) call(tid, nt);
      const snap = outs.map((o) => this.u32(o.p, o.n).slice());
      if (!first) first = snap;
      else {
        for (let k = 0; k < outs.length; k++) {
          const a = first[k], b = snap[k];
          for (let i = 0; i < a.length; i++) {
            if (a[i] !== b[i]) { fail(label, `nt=${nt} differs from nt=1 at [${i}]`); break; }
          }
        }
      }
    }
    return first.map((u) => new Float32Array(u.buffer));
  }
}

const results = new Map(); // kernel name → { checks, fails, worst }
let current = '';
function stat() {
  if (!results.has(current)) results.set(current, { checks: 0, fails: 0, worst: 0, msgs: [] });
  return results.get(current);
}
function fail(label, msg) {
  const s = stat();
  s.fails++;
  if (s.msgs.length < 4) s.msgs.push(`${label}: ${msg}`);
}
/** Compares got (Float32Array) with ref (float64 values): NaN ↔ NaN, infinities exact, otherwise
 *  |got − ref| ≤ tol(i, ref). Records the worst error in units of the tolerance. */
function compare(label, got, ref, tol) {
  const s = stat();
  s.checks++;
  let bad = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i], g = got[i], rf = Math.fround(r);
    let ok;
    if (Number.isNaN(r)) ok = Number.isNaN(g);
    else if (!Number.isFinite(rf)) ok = g === rf;
    else {
      const t = tol(i, r);
      const e = Math.abs(g - r);
      ok = e <= t || g === rf;
      if (t > 0 && Number.isFinite(e)) s.worst = Math.max(s.worst, g === rf ? 0 : e / t);
    }
    if (!ok) { if (bad++ < 1) fail(label, `[${i}] got ${g}, want ${r}`); }
  }
}
function exact(label, got, want) { compare(label, got, want, () => 0); }
function bitsEqual(label, got, want) { // Uint32 views
  const s = stat();
  s.checks++;
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) { fail(label, `[${i}] bits ${got[i].toString(16)} != ${want[i].toString(16)}`); return; }
  }
}

let seed = 0x12345;
function rand() { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 4294967296; }
function randArr(n, lo = -1, hi = 1) { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand(); return a; }
const SIZES = [1, 3, 17, 63, 65, 1000];

// ------------------------------------------------------------------ float64 references
function erf64(x) {
  const a = Math.abs(x);
  if (Number.isNaN(x)) return NaN;
  if (a < 2.5) { // Maclaurin series: 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let s = 0, t = x, n = 0; const x2 = x * x;
    for (;;) { const term = t / (2 * n + 1); s += term; if (Math.abs(term) <= 1e-17 * Math.abs(s)) break; n++; t *= -x2 / n; }
    return (s * 2) / Math.sqrt(Math.PI);
  }
  return Math.sign(x) * (1 - erfc64(a));
}
function erfc64(x) { // continued fraction for x ≥ 2.5: e^(−x²)/√π / (x + ½/(x + 1/(x + (3/2)/(x + …))))
  if (x < 2.5) return 1 - erf64(x);
  if (x === Infinity) return 0;
  let f = x;
  for (let k = 80; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}
const Phi = (x) => (x < 0 ? 0.5 * erfc64(-x / Math.SQRT2) : 1 - 0.5 * erfc64(x / Math.SQRT2));
const K2 = 2 * Math.sqrt(2 / Math.PI);
const sig = (x) => 1 / (1 + Math.exp(-x));
const gelu = (x) => (x === -Infinity ? 0 : x * Phi(x));
const geluT = (x) => (x === -Infinity ? 0 : x * sig(K2 * (x + 0.044715 * x ** 3)));
const UNARY = [ // [name, f(x, α), f'(x, α), data range]
  ['neg', (x) => -x, () => -1, [-4, 4]],
  ['exp', Math.exp, Math.exp, [-20, 20]],
  ['log', Math.log, (x) => 1 / x, [1e-3, 100]],
  ['sqrt', Math.sqrt, (x) => 0.5 / Math.sqrt(x), [1e-3, 100]],
  ['rsqrt', (x) => 1 / Math.sqrt(x), (x) => -0.5 * x ** -1.5, [1e-2, 100]],
  ['tanh', Math.tanh, (x) => 1 - Math.tanh(x) ** 2, [-6, 6]],
  ['relu', (x) => Math.max(x, 0), (x) => (x > 0 ? 1 : 0), [-4, 4]],
  ['gelu', gelu, (x) => Phi(x) + (x * Math.exp(-x * x / 2)) / Math.sqrt(2 * Math.PI), [-6, 6]],
  ['gelu_tanh', geluT, (x) => { const s = sig(K2 * (x + 0.044715 * x ** 3)); return s + x * s * (1 - s) * K2 * (1 + 3 * 0.044715 * x * x); }, [-6, 6]],
  ['sigmoid', sig, (x) => sig(x) * (1 - sig(x)), [-20, 20]],
  ['addScalar', (x, a) => x + a, () => 1, [-4, 4]],
  ['mulScalar', (x, a) => x * a, (x, a) => a, [-4, 4]],
  ['powScalar', (x, a) => Math.pow(x, a), (x, a) => (a === 0 ? 0 : a * Math.pow(x, a - 1)), [0.05, 4]],
  ['abs', Math.abs, (x) => Math.sign(x), [-4, 4]],
  ['square', (x) => x * x, (x) => 2 * x, [-4, 4]],
  ['erf', erf64, (x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x), [-5, 5]],
  ['reciprocal', (x) => 1 / x, (x) => -1 / (x * x), [0.05, 10]],
  ['step', (x) => (x > 0 ? 1 : 0), () => 0, [-4, 4]],
];
const SPECIALS = [0, -0, Infinity, -Infinity, NaN, 1e-40, -1e-40, 1e-30, 0.5, -0.5, 3, -3, 10, -10, 30, -30,
  88, -88, 89, -89, -100, -110, 1e20, -1e20, 3e38, -3e38];
// relative tolerance per op, scaled for ill-conditioned tails (gelu: cond ≈ x², gelu_tanh ≈ 2|x|³/10)
function unaryTol(name, x) {
  if (name === 'gelu') return 4e-7 * (1 + x * x);
  if (name === 'gelu_tanh') return 4e-7 * (1 + Math.abs(x) ** 3);
  if (name === 'exp' || name === 'sigmoid') return 2.5e-7 * (1 + Math.abs(x) / 16);
  return 2.5e-7;
}

// ------------------------------------------------------------------ tests
function testUnary(c) {
  current = 'unary';
  for (let op = 0; op < UNARY.length; op++) {
    const [name, f, , [lo, hi]] = UNARY[op];
    const alphas = name === 'powScalar' ? [2, 3, -1, 0.5, 2.5, 0, -2] : name.endsWith('Scalar') ? [0.75, -3] : [0];
    for (const alpha of alphas) {
      for (const n of [...SIZES, SPECIALS.length]) {
        const special = n === SPECIALS.length;
        const xa = special ? Float32Array.from(SPECIALS) : randArr(n, lo, hi);
        if (name === 'powScalar' && Number.isInteger(alpha) && !special) for (let i = 0; i < n; i += 2) xa[i] = -xa[i];
        c.reset();
        const x = c.put(xa), y = c.alloc(n);
        const [got] = c.run(`${name} n=${n}`, [{ p: y, n }], (tid, nt) => c.ex.unary(tid, nt, op, x, y, n, alpha));
        const ref = Array.from(xa, (v) => f(v, Math.fround(alpha)));
        compare(`${name}(α=${alpha}) n=${n}`, got, ref, (i, r) => unaryTol(name, xa[i]) * Math.abs(r) + 1e-44);
        // in place (y = x)
        if (n === 65) {
          const xi = c.put(xa);
          c.ex.unary(0, 1, op, xi, xi, n, alpha);
          bitsEqual(`${name} in-place`, c.u32(xi, n), new Uint32Array(got.buffer));
        }
      }
    }
  }
}

function testUnaryGrad(c) {
  current = 'unaryGrad';
  for (let op = 0; op < UNARY.length; op++) {
    const [name, , df, [lo, hi]] = UNARY[op];
    const alphas = name === 'powScalar' ? [2, 3, 0.5, 0] : name.endsWith('Scalar') ? [0.75] : [0];
    for (const alpha of alphas) {
      for (const n of SIZES) {
        const xa = randArr(n, lo, hi);
        if (n >= 3 && ['relu', 'abs', 'step'].includes(name)) xa[1] = 0;
        const dya = randArr(n, -2, 2);
        c.reset();
        const x = c.put(xa), y = c.alloc(n), dy = c.put(dya), dx = c.alloc(n);
        c.ex.unary(0, 1, op, x, y, n, alpha);
        const [got] = c.run(`${name}' n=${n}`, [{ p: dx, n }], (tid, nt) => c.ex.unaryGrad(tid, nt, op, x, y, dy, dx, n, alpha));
        const ref = Array.from(xa, (v, i) => dya[i] * df(v, Math.fround(alpha)));
        compare(`${name}'(α=${alpha}) n=${n}`, got, ref, (i, r) => 2e-6 * Math.abs(r) + 4e-7 * Math.abs(dya[i]) * (name === 'gelu_tanh' ? 1 + xa[i] ** 2 : 1));
      }
    }
  }
}

/** geluWithGrad: y and the slope have the bits of unary(gelu) and of unaryGrad(gelu) at dy = 1. */
function testGeluWithGrad(c) {
  current = 'geluWithGrad';
  const op = UNARY.findIndex(([name]) => name === 'gelu');
  for (const n of SIZES) {
    const xa = randArr(n, -6, 6);
    if (n >= 4) [xa[0], xa[1], xa[2]] = [-Infinity, Infinity, NaN];
    c.reset();
    const x = c.put(xa), y = c.alloc(n), d = c.alloc(n), y1 = c.alloc(n), ones = c.put(new Float32Array(n).fill(1)), d1 = c.alloc(n);
    c.run(`gelu+slope n=${n}`, [{ p: y, n }, { p: d, n }], (tid, nt) => c.ex.geluWithGrad(tid, nt, x, y, d, n));
    c.ex.unary(0, 1, op, x, y1, n, 0);
    c.ex.unaryGrad(0, 1, op, x, y1, ones, d1, n, 0);
    bitsEqual(`gelu n=${n}`, c.u32(y, n), c.u32(y1, n));
    bitsEqual(`gelu' n=${n}`, c.u32(d, n), c.u32(d1, n));
  }
}

/** Writes a descriptor [rank, shape, strides...] into memory. */
function putDesc(c, shape, ...strides) {
  return c.put(Int32Array.from([shape.length, ...shape, ...strides.flat()]));
}
/** Element offsets of a broadcast view: in-shape dims of 1 broadcast (stride 0); perm gives the
 *  physical (storage) order of the input's dimensions (identity = contiguous). */
function viewStrides(outShape, inShape, perm = inShape.map((_, i) => i)) {
  const st = new Array(inShape.length).fill(0);
  let s = 1;
  for (let k = perm.length - 1; k >= 0; k--) { const d = perm[k]; st[d] = s; s *= inShape[d]; }
  return inShape.map((v, d) => (v === 1 && outShape[d] !== 1 ? 0 : st[d]));
}
const numel = (sh) => sh.reduce((a, b) => a * b, 1);
/** Reference strided read: out element k → Σ idx[d]·strides[d]. */
function offsets(shape, strides) {
  const n = numel(shape), off = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    let r = k, o = 0;
    for (let d = shape.length - 1; d >= 0; d--) { const i = r % shape[d]; r = (r - i) / shape[d]; o += i * strides[d]; }
    off[k] = o;
  }
  return off;
}
// broadcasting cases: [outShape, aShape, aPerm?, bShape, bPerm?]
const BCASE = [
  [[], [], null, [], null],
  [[17], [17], null, [1], null],
  [[17], [1], null, [17], null],
  [[3, 65], [3, 65], null, [1, 65], null],
  [[3, 65], [3, 1], null, [3, 65], null],
  [[5, 17], [5, 17], [1, 0], [5, 17], null],
  [[2, 3, 17], [2, 1, 17], null, [1, 3, 1], null],
  [[2, 3, 4, 63], [2, 3, 4, 63], [0, 2, 1, 3], [4, 1], null],
  [[1, 3, 1, 5, 2, 3, 1, 7], [1, 3, 1, 5, 2, 3, 1, 7], null, [1, 1, 1, 5, 1, 3, 1, 7], null],
  [[1000], [1000], null, [1000], null],
];
function makeInput(c, outShape, inShape, perm, lo, hi) {
  // inputs of lower rank are right-aligned (leading 1s)
  const full = [...new Array(outShape.length - inShape.length).fill(1), ...inShape];
  const pm = perm ? [...new Array(outShape.length - inShape.length).keys(), ...perm.map((d) => d + outShape.length - inShape.length)] : undefined;
  const data = randArr(Math.max(numel(full), 1), lo, hi);
  return { p: c.put(data), data, strides: viewStrides(outShape, full, pm) };
}

const BOPS = [['add', (a, b) => a + b], ['sub', (a, b) => a - b], ['mul', (a, b) => a * b], ['div', (a, b) => a / b],
  ['max', (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b))], ['min', (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b))],
  ['eq', (a, b) => +(a === b)], ['gt', (a, b) => +(a > b)], ['ge', (a, b) => +(a >= b)], ['lt', (a, b) => +(a < b)],
  ['pow', (a, b) => Math.pow(a, b)]];
function testBinary(c) {
  current = 'binary';
  for (let op = 0; op < BOPS.length; op++) {
    const [name, f] = BOPS[op];
    const tol = name === 'pow' ? (i, r) => 1.2e-7 * Math.abs(r) : () => 0; // IEEE ops are exact
    const lo = name === 'pow' ? 0.1 : -2, hi = 2;
    for (const n of SIZES) { // contiguous
      const aa = randArr(n, lo, hi), ba = randArr(n, lo, hi);
      for (let i = 0; i < n; i += 5) ba[i] = aa[i]; // ties for eq / ge
      if (name === 'pow') for (let i = 1; i < n; i += 3) { aa[i] = -aa[i]; ba[i] = Math.round(ba[i] * 3); }
      if (n === 17) { aa[3] = NaN; ba[4] = Infinity; aa[5] = -0; ba[5] = 0; }
      c.reset();
      const a = c.put(aa), b = c.put(ba), o = c.alloc(n);
      const [got] = c.run(`${name} n=${n}`, [{ p: o, n }], (tid, nt) => c.ex.binary(tid, nt, op, a, b, o, n, 0));
      compare(`${name} n=${n}`, got, Array.from(aa, (v, i) => f(v, ba[i])), tol);
    }
    for (const [sh, as, ap, bs, bp] of BCASE) { // broadcasting descriptors
      c.reset();
      const A = makeInput(c, sh, as, ap, lo, hi), B = makeInput(c, sh, bs, bp, lo, hi);
      const n = numel(sh), o = c.alloc(n), desc = putDesc(c, sh, A.strides, B.strides);
      const [got] = c.run(`${name} ${JSON.stringify(sh)}`, [{ p: o, n }], (tid, nt) => c.ex.binary(tid, nt, op, A.p, B.p, o, n, desc));
      const oa = offsets(sh, A.strides), ob = offsets(sh, B.strides);
      compare(`${name} ${JSON.stringify(sh)}`, got, Array.from(oa, (v, k) => f(A.data[v], B.data[ob[k]])), tol);
    }
  }
}

function testWhere(c) {
  current = 'where';
  const specials = (arr) => { for (let i = 0; i < arr.length; i += 4) arr[i] = [Infinity, -Infinity, NaN, -0][(i / 4) % 4]; return arr; };
  for (const n of SIZES) {
    const ca = Float32Array.from(randArr(n), (v) => +(v > 0)), aa = specials(randArr(n)), ba = specials(randArr(n, 5, 6));
    c.reset();
    const cp = c.put(ca), a = c.put(aa), b = c.put(ba), o = c.alloc(n);
    const [got] = c.run(`where n=${n}`, [{ p: o, n }], (tid, nt) => c.ex.where(tid, nt, cp, a, b, o, n, 0));
    const want = Float32Array.from(ca, (v, i) => (v !== 0 ? aa[i] : ba[i]));
    bitsEqual(`where n=${n}`, new Uint32Array(got.buffer), new Uint32Array(want.buffer));
  }
  for (const [sh, as, ap, bs] of BCASE) {
    c.reset();
    const C = makeInput(c, sh, bs, null, -1, 1), A = makeInput(c, sh, as, ap, -1, 1), B = makeInput(c, sh, sh.slice(1), null, -1, 1);
    const cv = c.f32(C.p, C.data.length);
    for (let i = 0; i < cv.length; i++) cv[i] = C.data[i] = +(C.data[i] > 0);
    const n = numel(sh), o = c.alloc(n), desc = putDesc(c, sh, C.strides, A.strides, B.strides);
    const [got] = c.run(`where ${JSON.stringify(sh)}`, [{ p: o, n }], (tid, nt) => c.ex.where(tid, nt, C.p, A.p, B.p, o, n, desc));
    const oc = offsets(sh, C.strides), oa = offsets(sh, A.strides), ob = offsets(sh, B.strides);
    const want = Float32Array.from(oc, (v, k) => (C.data[v] !== 0 ? A.data[oa[k]] : B.data[ob[k]]));
    bitsEqual(`where ${JSON.stringify(sh)}`, new Uint32Array(got.buffer), new Uint32Array(want.buffer));
  }
}

function testCopy(c) {
  current = 'copyStrided';
  const cases = [[[1], [1], null], [[17], [1], null], [[63], [63], null], [[3, 65], [3, 65], [1, 0]], [[4, 5, 6], [4, 5, 6], [2, 0, 1]],
    [[2, 3, 5, 7, 3], [2, 1, 5, 7, 3], [4, 3, 2, 1, 0]], [[1000], [1000], null], [[], [], null], [[10, 100], [10, 100], [1, 0]]];
  for (const [sh, is, perm] of cases) {
    c.reset();
    const X = makeInput(c, sh, is, perm, 0, 1);
    const bits = c.u32(X.p, X.data.length);
    for (let i = 0; i < bits.length; i++) bits[i] = (Math.imul(i + 1, 2654435761) >>> 0) | 0x7f800001; // NaN payloads
    const src = bits.slice();
    const n = numel(sh), y = c.alloc(n), desc = putDesc(c, sh, X.strides);
    const [got] = c.run(`copy ${JSON.stringify(sh)}`, [{ p: y, n }], (tid, nt) => c.ex.copyStrided(tid, nt, X.p, y, n, desc));
    bitsEqual(`copy ${JSON.stringify(sh)}`, new Uint32Array(got.buffer), Uint32Array.from(offsets(sh, X.strides), (o) => src[o]));
  }
  for (const n of SIZES) { // desc == 0: plain contiguous copy
    c.reset();
    const xa = randArr(n), x = c.put(xa), y = c.alloc(n);
    const [got] = c.run(`copy n=${n}`, [{ p: y, n }], (tid, nt) => c.ex.copyStrided(tid, nt, x, y, n, 0));
    bitsEqual(`copy n=${n}`, new Uint32Array(got.buffer), new Uint32Array(xa.buffer));
  }
}

function testFillCast(c) {
  for (const n of SIZES) {
    c.reset();
    current = 'fill';
    const y = c.alloc(n);
    const [got] = c.run(`fill n=${n}`, [{ p: y, n }], (tid, nt) => c.ex.fill(tid, nt, y, n, -2.5));
    exact(`fill n=${n}`, got, new Array(n).fill(-2.5));
    current = 'castI32F32';
    const ia = Int32Array.from({ length: n }, (_, i) => Math.round((rand() - 0.5) * 2 ** (i % 32)) | 0);
    if (n > 2) { ia[0] = 2147483647; ia[1] = -2147483648; ia[2] = 16777217; }
    const xi = c.put(ia), yf = c.alloc(n);
    const [gf] = c.run(`castI32F32 n=${n}`, [{ p: yf, n }], (tid, nt) => c.ex.castI32F32(tid, nt, xi, yf, n));
    exact(`castI32F32 n=${n}`, gf, Array.from(ia, (v) => Math.fround(v)));
    current = 'castF32I32';
    const fa = randArr(n, -1e3, 1e3);
    const sp = [NaN, Infinity, -Infinity, 3e9, -3e9, -0.7, 0.7, -2.5, 2.5, -0];
    for (let i = 0; i < Math.min(n, sp.length); i++) fa[i] = sp[i];
    const xf = c.put(fa), yi = c.alloc(n);
    const [gi] = c.run(`castF32I32 n=${n}`, [{ p: yi, n }], (tid, nt) => c.ex.castF32I32(tid, nt, xf, yi, n));
    const want = Int32Array.from(fa, (v) => (Number.isNaN(v) ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(v)))));
    bitsEqual(`castF32I32 n=${n}`, new Uint32Array(gi.buffer), new Uint32Array(want.buffer));
  }
}

const RC = [[1, 1], [3, 17], [5, 63], [2, 65], [7, 1000], [17, 3], [1, 100000], [65, 64]];
function testReduce(c) {
  for (const [rows, cols] of [...RC, [100000, 5]]) {
    const xa = randArr(rows * cols, -1, 1);
    if (rows === 7) for (let j = 0; j < cols; j++) xa[3 * cols + j] += 1000; // offset row: cancellation-free sum
    c.reset();
    const x = c.put(xa), y = c.alloc(rows), yc = c.alloc(cols);
    current = 'reduceRows';
    for (let op = 0; op < 3; op++) {
      const [got] = c.run(`reduceRows op=${op} ${rows}x${cols}`, [{ p: y, n: rows }], (tid, nt) => c.ex.reduceRows(tid, nt, op, x, y, rows, cols));
      const ref = [], mag = [];
      for (let r = 0; r < rows; r++) {
        const row = xa.subarray(r * cols, (r + 1) * cols);
        ref.push(op === 0 ? row.reduce((s, v) => s + v, 0) : op === 1 ? Math.max(...row) : Math.min(...row));
        mag.push(row.reduce((s, v) => s + Math.abs(v), 0));
      }
      compare(`reduceRows op=${op} ${rows}x${cols}`, got, ref, (i) => (op === 0 ? 1e-6 * mag[i] + 1e-7 : 0));
    }
    current = 'reduceCols';
    const [gc] = c.run(`reduceCols ${rows}x${cols}`, [{ p: yc, n: cols }], (tid, nt) => c.ex.reduceCols(tid, nt, x, yc, rows, cols));
    const ref = new Float64Array(cols), mag = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) { ref[j] += xa[r * cols + j]; mag[j] += Math.abs(xa[r * cols + j]); }
    compare(`reduceCols ${rows}x${cols}`, gc, ref, (i) => 1e-6 * mag[i] + 1e-7);
  }
  current = 'reduceRows';
  { // NaN propagation and empty-free edge: max/min of a row with NaN
    c.reset();
    const x = c.put(Float32Array.from([1, NaN, 3, -Infinity, 2, 5])), y = c.alloc(2);
    for (const op of [1, 2]) {
      c.ex.reduceRows(0, 1, op, x, y, 2, 3);
      compare(`reduceRows op=${op} NaN`, c.f32(y, 2), [NaN, op === 1 ? 5 : -Infinity], () => 0);
    }
  }
}

function softmaxRef(row) {
  const m = Math.max(...row);
  const e = Array.from(row, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return { sm: e.map((v) => v / s), lsm: Array.from(row, (v) => v - m - Math.log(s)) };
}
function testSoftmax(c) {
  for (const [rows, cols] of RC) {
    const xa = randArr(rows * cols, -8, 8);
    if (rows >= 3) {
      xa[cols] = -Infinity; // some −inf entries in row 1
      for (let j = 0; j < cols; j++) xa[2 * cols + j] = -Infinity; // row 2 fully masked → NaN
    }
    if (rows >= 5) for (let j = 0; j < cols; j++) xa[4 * cols + j] += 1e4; // large shift
    c.reset();
    const x = c.put(xa), y = c.alloc(rows * cols), y2 = c.alloc(rows * cols), n = rows * cols;
    const dya = randArr(n), dy = c.put(dya), dx = c.alloc(n);
    current = 'softmaxRows';
    const [sm] = c.run(`softmax ${rows}x${cols}`, [{ p: y, n }], (tid, nt) => c.ex.softmaxRows(tid, nt, x, y, rows, cols));
    current = 'logSoftmaxRows';
    const [lsm] = c.run(`logSoftmax ${rows}x${cols}`, [{ p: y2, n }], (tid, nt) => c.ex.logSoftmaxRows(tid, nt, x, y2, rows, cols));
    const rs = [], rl = [], rg = [], rlg = [], gmag = [], lgmag = [], xr = [];
    for (let r = 0; r < rows; r++) {
      const row = xa.subarray(r * cols, (r + 1) * cols);
      const { sm: s, lsm: l } = softmaxRef(row);
      const m = Math.max(...row);
      rs.push(...s); rl.push(...l); xr.push(...Array.from(row, (v) => (Number.isFinite(v - m) ? Math.abs(v - m) : 0)));
      const d = dya.subarray(r * cols, (r + 1) * cols);
      // grads use the kernel's own y (as autograd will)
      const yk = sm.subarray(r * cols, (r + 1) * cols), lk = lsm.subarray(r * cols, (r + 1) * cols);
      const dot = d.reduce((a, v, j) => a + v * yk[j], 0), sd = d.reduce((a, v) => a + v, 0);
      const sdm = d.reduce((a, v) => a + Math.abs(v), 0);
      for (let j = 0; j < cols; j++) {
        rg.push(yk[j] * (d[j] - dot)); gmag.push(yk[j] * (Math.abs(d[j]) + sdm));
        rlg.push(d[j] - Math.exp(lk[j]) * sd); lgmag.push(Math.abs(d[j]) + Math.exp(lk[j]) * sdm);
      }
    }
    current = 'softmaxRows';
    compare(`softmax ${rows}x${cols}`, sm, rs, (i, r) => 3e-7 * (1 + xr[i]) * Math.abs(r) + 1e-9);
    current = 'logSoftmaxRows';
    compare(`logSoftmax ${rows}x${cols}`, lsm, rl, (i, r) => 3e-7 * (Math.abs(r) + xr[i] + 1));
    current = 'softmaxRowsGrad';
    const [g] = c.run(`softmaxGrad ${rows}x${cols}`, [{ p: dx, n }], (tid, nt) => c.ex.softmaxRowsGrad(tid, nt, y, dy, dx, rows, cols));
    compare(`softmaxGrad ${rows}x${cols}`, g, rg, (i) => 3e-7 * gmag[i] + 1e-12);
    current = 'logSoftmaxRowsGrad';
    const [lg] = c.run(`logSoftmaxGrad ${rows}x${cols}`, [{ p: dx, n }], (tid, nt) => c.ex.logSoftmaxRowsGrad(tid, nt, y2, dy, dx, rows, cols));
    compare(`logSoftmaxGrad ${rows}x${cols}`, lg, rlg, (i) => 4e-7 * lgmag[i] + 1e-12);
  }
}

function testIndexing(c) {
  for (const [numIdx, rowLen, srcRows] of [[1, 1, 1], [3, 17, 5], [17, 63, 4], [65, 3, 1000], [1000, 65, 7], [5, 1000, 2]]) {
    c.reset();
    const xa = randArr(srcRows * rowLen), ia = Int32Array.from({ length: numIdx }, () => Math.floor(rand() * srcRows));
    const x = c.put(xa), idx = c.put(ia), y = c.alloc(numIdx * rowLen);
    current = 'takeRows';
    const [got] = c.run(`takeRows ${numIdx}x${rowLen}`, [{ p: y, n: numIdx * rowLen }], (tid, nt) => c.ex.takeRows(tid, nt, x, idx, y, numIdx, rowLen));
    const want = new Float32Array(numIdx * rowLen);
    for (let i = 0; i < numIdx; i++) want.set(xa.subarray(ia[i] * rowLen, (ia[i] + 1) * rowLen), i * rowLen);
    bitsEqual(`takeRows ${numIdx}x${rowLen}`, new Uint32Array(got.buffer), new Uint32Array(want.buffer));
    current = 'takeRowsGrad';
    const dya = randArr(numIdx * rowLen), dy = c.put(dya), dx = c.alloc(srcRows * rowLen);
    const [g] = c.run(`takeRowsGrad ${numIdx}x${rowLen}`, [{ p: dx, n: srcRows * rowLen, zero: true }], (tid, nt) => c.ex.takeRowsGrad(tid, nt, dy, idx, dx, numIdx, rowLen));
    const wg = new Float32Array(srcRows * rowLen); // f32 accumulation in increasing i: exact match expected
    for (let i = 0; i < numIdx; i++) for (let j = 0; j < rowLen; j++) wg[ia[i] * rowLen + j] += dya[i * rowLen + j];
    bitsEqual(`takeRowsGrad ${numIdx}x${rowLen}`, new Uint32Array(g.buffer), new Uint32Array(wg.buffer));
  }
  for (const [rows, cols, k] of [[1, 1, 1], [3, 17, 5], [17, 3, 63], [65, 1000, 17], [1000, 5, 3]]) {
    c.reset();
    const xa = randArr(rows * cols), ia = Int32Array.from({ length: rows * k }, () => Math.floor(rand() * cols));
    const x = c.put(xa), idx = c.put(ia), y = c.alloc(rows * k);
    current = 'gatherLast';
    const [got] = c.run(`gatherLast ${rows}x${cols}x${k}`, [{ p: y, n: rows * k }], (tid, nt) => c.ex.gatherLast(tid, nt, x, idx, y, rows, cols, k));
    bitsEqual(`gatherLast ${rows}x${cols}x${k}`, new Uint32Array(got.buffer),
      new Uint32Array(Float32Array.from(ia, (v, i) => xa[Math.floor(i / k) * cols + v]).buffer));
    current = 'gatherLastGrad';
    const dya = randArr(rows * k), dy = c.put(dya), dx = c.alloc(rows * cols);
    const [g] = c.run(`gatherLastGrad ${rows}x${cols}x${k}`, [{ p: dx, n: rows * cols, zero: true }], (tid, nt) => c.ex.gatherLastGrad(tid, nt, dy, idx, dx, rows, cols, k));
    const wg = new Float32Array(rows * cols);
    for (let i = 0; i < rows * k; i++) wg[Math.floor(i / k) * cols + ia[i]] += dya[i];
    bitsEqual(`gatherLastGrad ${rows}x${cols}x${k}`, new Uint32Array(g.buffer), new Uint32Array(wg.buffer));
  }
}

function testConv(c) {
  for (const [B, H, n, d, K] of [[1, 1, 1, 1, 1], [2, 3, 17, 3, 5], [1, 2, 63, 65, 35], [2, 2, 65, 17, 3], [1, 1, 3, 64, 7],
    [1, 2, 1000, 5, 33], [1, 1, 20, 36, 65]]) {
    c.reset();
    const N = B * H * n * d;
    const xa = randArr(N), wa = randArr(H * K), dya = randArr(N);
    const x = c.put(xa), w = c.put(wa), dy = c.put(dya), y = c.alloc(N), dx = c.alloc(N), dw = c.alloc(H * K);
    const p = K >> 1, at = (b, h, i, ch) => ((b * H + h) * n + i) * d + ch;
    const ry = new Float64Array(N), my = new Float64Array(N), rdx = new Float64Array(N), mdx = new Float64Array(N);
    const rdw = new Float64Array(H * K), mdw = new Float64Array(H * K);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < n; i++) for (let t = 0; t < K; t++) {
      const j = i + t - p;
      if (j < 0 || j >= n) continue;
      const wt = wa[h * K + t];
      for (let ch = 0; ch < d; ch++) {
        const o = at(b, h, i, ch), s = at(b, h, j, ch);
        ry[o] += wt * xa[s]; my[o] += Math.abs(wt * xa[s]);
        rdx[s] += wt * dya[o]; mdx[s] += Math.abs(wt * dya[o]);
        rdw[h * K + t] += dya[o] * xa[s]; mdw[h * K + t] += Math.abs(dya[o] * xa[s]);
      }
    }
    const label = `B${B} H${H} n${n} d${d} K${K}`;
    current = 'dwconv';
    const [gy] = c.run(`dwconv ${label}`, [{ p: y, n: N }], (tid, nt) => c.ex.dwconv(tid, nt, x, w, y, B, H, n, d, K));
    compare(`dwconv ${label}`, gy, ry, (i) => 4e-7 * my[i] + 1e-30);
    current = 'dwconvGradInput';
    const [gx] = c.run(`dwconvGradInput ${label}`, [{ p: dx, n: N }], (tid, nt) => c.ex.dwconvGradInput(tid, nt, dy, w, dx, B, H, n, d, K));
    compare(`dwconvGradInput ${label}`, gx, rdx, (i) => 4e-7 * mdx[i] + 1e-30);
    current = 'dwconvGradWeight';
    const workBytes = 264, work = c.alloc((3 * workBytes) / 4); // per thread (ops/conv.ts), up to 3 threads
    const [gw] = c.run(`dwconvGradWeight ${label}`, [{ p: dw, n: H * K }], (tid, nt) => c.ex.dwconvGradWeight(tid, nt, dy, x, dw, B, H, n, d, K, work, workBytes));
    compare(`dwconvGradWeight ${label}`, gw, rdw, (i) => 2e-7 * mdw[i] + 1e-30);
  }
}

function testRandom(c) {
  current = 'randomUniform';
  for (const n of [...SIZES, 100000]) {
    c.reset();
    const y = c.alloc(n), y2 = c.alloc(n + 10);
    const [got] = c.run(`random n=${n}`, [{ p: y, n }], (tid, nt) => c.ex.randomUniform(tid, nt, y, n, 42, 7));
    const s = stat();
    s.checks++;
    let sum = 0, sq = 0, lo = 1, hi = 0;
    for (const v of got) { sum += v; sq += v * v; lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (!(lo >= 0 && hi < 1)) fail(`random n=${n}`, `range [${lo}, ${hi}]`);
    if (n >= 1000) {
      const mean = sum / n, vr = sq / n - mean * mean;
      if (Math.abs(mean - 0.5) > 4 * Math.sqrt(1 / 12 / n) || Math.abs(vr - 1 / 12) > 0.01) fail(`random n=${n}`, `mean ${mean} var ${vr}`);
    }
    // stream property: offset 0 over n+10 elements contains the offset-7 run; another seed differs
    c.ex.randomUniform(0, 1, y2, n + 10, 42, 0);
    bitsEqual(`random offset n=${n}`, new Uint32Array(got.buffer), c.u32(y2 + 28, n));
    c.ex.randomUniform(0, 1, y2, n, 43, 7);
    const other = c.f32(y2, n);
    let same = 0;
    for (let i = 0; i < n; i++) same += +(other[i] === got[i]);
    if (n >= 17 && same > n / 100 + 1) fail(`random seed n=${n}`, `${same} equal values for different seeds`);
  }
}

// The float64 references are the optimizers' former JavaScript loops: the kernels must match bit for bit.
function adamwRef(w, g, m, v, [gradScale, lr, b1, b2, c1, c2, eps, shrink]) {
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] * gradScale;
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    w[i] = w[i] * shrink - (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
  }
}
function sgdRef(w, g, buf, [gradScale, lr, momentum, weightDecay]) {
  for (let i = 0; i < w.length; i++) {
    let d = g[i] * gradScale + weightDecay * w[i];
    if (buf) d = buf[i] = momentum * buf[i] + d;
    w[i] -= lr * d;
  }
}
function testOptimizers(c) {
  const u32 = (a) => new Uint32Array(a.buffer, a.byteOffset, a.length);
  const list = (xs) => c.put(Int32Array.from(xs));
  for (const n of SIZES) {
    c.reset();
    // three tensors of n, 2, n + 5 elements in one call; the second takes no decay
    const sizes = [n, 2, n + 5];
    const total = n * 2 + 7;
    const fresh = (lo, hi) => sizes.map((k) => randArr(k, lo, hi));
    const [w0, g, m0, v0, b0] = [fresh(-1, 1), fresh(-3, 3), fresh(-0.1, 0.1), fresh(0, 0.01), fresh(-0.1, 0.1)];
    const [pw, pg, pm, pv, pb] = [w0, g, m0, v0, b0].map((ts) => ts.map((a) => c.put(a)));
    const outsOf = (...ps) => ps.flatMap((p) => p.map((q, t) => ({ p: q, n: sizes[t] })));
    const restore = () => [[pw, w0], [pm, m0], [pv, v0], [pb, b0]].forEach(([p, a]) => p.forEach((q, t) => c.f32(q, sizes[t]).set(a[t])));

    current = 'adamw';
    const sc = [0.7, 1e-3, 0.9, 0.999, 1 - 0.9 ** 3, 1 - 0.999 ** 3, 1e-8, 1 - 1e-3 * 0.01];
    const [w, m, v] = [w0, m0, v0].map((ts) => ts.map((a) => a.slice()));
    sizes.forEach((_, t) => adamwRef(w[t], g[t], m[t], v[t], t === 1 ? [...sc.slice(0, 7), 1] : sc));
    const lists = [pw, pg, pm, pv].map(list);
    const decays = list([1, 0, 1]);
    const got = runFrom(c, 'adamw', outsOf(pw, pm, pv), restore, (tid, nt) => c.ex.adamw(tid, nt, ...lists, list(sizes), decays, 3, total, ...sc));
    [...w, ...m, ...v].forEach((want, k) => bitsEqual(`adamw n=${n} out ${k}`, u32(got[k]), u32(want)));

    current = 'sgd';
    for (const momentum of [0, 0.9]) {
      const scS = [1.3, 0.05, momentum, 0.01];
      const [ws, bs] = [w0.map((a) => a.slice()), b0.map((a) => a.slice())];
      sizes.forEach((_, t) => sgdRef(ws[t], g[t], momentum ? bs[t] : null, scS));
      const bufs = list(momentum ? pb : [0, 0, 0]);
      const gotS = runFrom(c, 'sgd', outsOf(pw, ...(momentum ? [pb] : [])), restore,
        (tid, nt) => c.ex.sgd(tid, nt, list(pw), list(pg), bufs, list(sizes), 3, total, ...scS));
      [...ws, ...(momentum ? bs : [])].forEach((want, k) => bitsEqual(`sgd n=${n} momentum=${momentum} out ${k}`, u32(gotS[k]), u32(want)));
    }

    current = 'sumSquares';
    const acc = c.alloc(2);
    const start = 0.25;
    let want = start;
    for (let i = 0; i < n; i++) want += g[0][i] * g[0][i];
    for (let nt = 1; nt <= 3; nt++) {
      new Float64Array(c.memory.buffer, acc, 1)[0] = start;
      for (let tid = 0; tid < nt; tid++) c.ex.sumSquares(tid, nt, pg[0], n, acc);
      const s = stat();
      s.checks++;
      const gotSum = new Float64Array(c.memory.buffer, acc, 1)[0];
      if (gotSum !== want) fail(`sumSquares n=${n} nt=${nt}`, `got ${gotSum}, want ${want}`);
    }
  }
}
/** Ctx.run for in-place kernels: restore() resets the outputs before each thread split. */
function runFrom(c, label, outs, restore, call) {
  let first = null;
  for (let nt = 1; nt <= 3; nt++) {
    restore();
    for (let tid = 0; tid < nt; tid++) call(tid, nt);
    const snap = outs.map((o) => c.u32(o.p, o.n).slice());
    if (!first) first = snap;
    else snap.forEach((b, k) => { if (b.some((x, i) => x !== first[k][i])) fail(label, `nt=${nt} differs from nt=1`); });
  }
  return first.map((u) => new Float32Array(u.buffer));
}

// ------------------------------------------------------------------ main
async function checkBuild(file) {
  const memory = new WebAssembly.Memory({ initial: 2048, maximum: 65536, shared: true });
  const mod = await WebAssembly.compile(readFileSync(file));
  const inst = await WebAssembly.instantiate(mod, { env: { memory, abort: () => { throw new Error('wasm abort'); } } });
  const c = new Ctx(inst.exports, memory);
  results.clear();
  seed = 0x12345;
  for (const t of [testUnary, testUnaryGrad, testGeluWithGrad, testBinary, testWhere, testCopy, testFillCast, testReduce, testSoftmax, testIndexing, testConv, testRandom, testOptimizers]) {
    try { t(c); } catch (e) { current = t.name; fail(t.name, `threw ${e.stack}`); }
  }
  let failed = 0;
  console.log(`\n${file}`);
  for (const [name, s] of results) {
    failed += s.fails;
    console.log(`  ${s.fails ? 'FAIL' : 'ok  '} ${name.padEnd(20)} ${String(s.checks).padStart(4)} checks, worst err/tol ${s.worst.toFixed(3)}`);
    for (const m of s.msgs) console.log(`       ${m}`);
  }
  return failed;
}

const files = process.argv.length > 2 ? process.argv.slice(2) : await scratchBuild();
let failed = 0;
for (const f of files) failed += await checkBuild(f);
console.log(failed ? `\nFAILED (${failed} failures)` : '\nall kernel checks passed');
process.exit(failed ? 1 : 0);
