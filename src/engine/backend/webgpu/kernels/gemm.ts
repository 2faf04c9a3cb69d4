/**
 * GEMM in WGSL: C[b] = alpha·A[b]·B[b] + beta·C[b] (+ bias, a row of n) for every batch b in one
 * dispatch, with A and B addressed by arbitrary element strides (transposes and broadcast batches,
 * stride 0) and C by a batch stride and a row stride. The semantics are the WebAssembly kernel's (kernels/gemm.ts):
 * beta = 0 never reads C (it may hold NaN), and alpha = 0 or k = 0 gives beta·C without
 * evaluating A·B.
 *
 * Each workgroup of 256 invocations computes one 64×64 tile of one batch, each invocation a 4×4
 * micro-tile (rows ty + 16r, columns tx + 16c: neighbours read neighbouring shared words and
 * write neighbouring C elements). K advances in steps of 16: the workgroup stages a 64×16 slice
 * of A and a 16×64 slice of B in workgroup memory (zeros past the matrix edges), then every
 * invocation accumulates its 16 sums over that slice, in order of k.
 *
 * A and B may be views of one allocation (x·xᵀ): a second variant binds that buffer once.
 */
import type { MatmulSpec } from '../../backend.js';
import type { RunShader } from '../shader.js';
import { shader } from '../shader.js';
import type { GpuKernelTable } from './table.js';

const TILE = 64;
const TK = 16;

const PRELUDE = /* wgsl */ `
const TILE: u32 = ${TILE}u;
const TK: u32 = ${TK}u;
// Rows of the staged slices are padded to 65 words so that both load orders below write
// workgroup memory without bank conflicts.
const LD: u32 = ${TILE + 1}u;
var<workgroup> As: array<f32, ${TK * (TILE + 1)}>; // As[kk * LD + row]
var<workgroup> Bs: array<f32, ${TK * (TILE + 1)}>; // Bs[kk * LD + col]
`;

/** A and B may be views of one allocation (x·xᵀ): the backend then binds it once. */
const GEMM_SHADER = shader('gemm', {
  buffers: ['a', 'b', 'c', 'bias'],
  params: [
    'batch:u32', 'm:u32', 'n:u32', 'k:u32',
    'aBatch:i32', 'aRow:i32', 'aCol:i32',
    'bBatch:i32', 'bRow:i32', 'bCol:i32',
    'cBatch:u32', 'ldc:u32', 'alpha:f32', 'beta:f32', 'tilesN:u32', 'tiles:u32',
  ],
  workgroupSize: 256,
  prelude: PRELUDE,
  body: /* wgsl */ `
  // Every branch before a barrier depends on the workgroup id and uniforms only: uniform.
  let bat = group / p.tiles;
  if (bat >= p.batch) { return; } // the dispatch's spare workgroups
  let tile = group % p.tiles;
  let row0 = (tile / p.tilesN) * TILE;
  let col0 = (tile % p.tilesN) * TILE;
  let tx = lid.x % 16u;
  let ty = lid.x / 16u;
  // Strides may be negative (i32): u32 arithmetic wraps to the same element index.
  let aBase = p.o_a + bat * u32(p.aBatch);
  let bBase = p.o_b + bat * u32(p.bBatch);
  let aRow = u32(p.aRow);
  let aCol = u32(p.aCol);
  let bRow = u32(p.bRow);
  let bCol = u32(p.bCol);
  // Load order: consecutive invocations walk the operand's unit-stride direction where it has one.
  let aAlongK = p.aCol == 1;
  let bAlongK = p.bRow == 1 && p.bCol != 1;
  var acc: array<vec4f, 4>; // acc[r][c]: row ty + 16r, column tx + 16c
  for (var k0 = 0u; k0 < p.k; k0 += TK) {
    for (var q = 0u; q < 4u; q++) {
      let e = lid.x + q * 256u;
      let ar = select(e % TILE, e / TK, aAlongK);
      let ak = select(e / TILE, e % TK, aAlongK);
      var va = 0.0;
      if (row0 + ar < p.m && k0 + ak < p.k) { va = a[aBase + (row0 + ar) * aRow + (k0 + ak) * aCol]; }
      As[ak * LD + ar] = va;
      let bc = select(e % TILE, e / TK, bAlongK);
      let bk = select(e / TILE, e % TK, bAlongK);
      var vb = 0.0;
      if (col0 + bc < p.n && k0 + bk < p.k) { vb = b[bBase + (k0 + bk) * bRow + (col0 + bc) * bCol]; }
      Bs[bk * LD + bc] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let s = kk * LD;
      let bv = vec4f(Bs[s + tx], Bs[s + tx + 16u], Bs[s + tx + 32u], Bs[s + tx + 48u]);
      acc[0] += As[s + ty] * bv;
      acc[1] += As[s + ty + 16u] * bv;
      acc[2] += As[s + ty + 32u] * bv;
      acc[3] += As[s + ty + 48u] * bv;
    }
    workgroupBarrier();
  }
  let cBase = p.o_c + bat * p.cBatch;
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + ty + 16u * r;
    for (var cc = 0u; cc < 4u; cc++) {
      let col = col0 + tx + 16u * cc;
      if (row < p.m && col < p.n) {
        let at = cBase + row * p.ldc + col;
        // As the WebAssembly kernel: alpha·acc (+ beta·C only where beta ≠ 0); for k = 0
        // (alpha = 0 arrives as k = 0) beta·C, or 0 when beta = 0.
        var v = p.alpha * acc[r][cc];
        if (p.k == 0u) {
          v = select(p.beta * c[at], 0.0, p.beta == 0.0);
        } else if (p.beta != 0.0) {
          v = v + p.beta * c[at];
        }
        if (p.o_bias != NONE) { v = v + bias[p.o_bias + col]; }
        c[at] = v;
      }
    }
  }
`,
});

/** MatmulSpec with C's layout of its own (the 'gemm' kernel's arguments). */
type Gemm = Required<Omit<MatmulSpec, 'bias'>> & Pick<MatmulSpec, 'bias'> & { cBatchStride: number; ldc: number };

function encodeGemm(g: Gemm, run: RunShader): void {
  if (g.batch <= 0 || g.m <= 0 || g.n <= 0) return;
  if (g.c.handle === g.a.handle || g.c.handle === g.b.handle) {
    throw new Error('webgpu: gemm: C shares a buffer with A or B (the product is not computed in place)');
  }
  const tilesN = Math.ceil(g.n / TILE);
  const tiles = Math.ceil(g.m / TILE) * tilesN;
  // alpha = 0: A·B is not evaluated (NaN or Inf there must not reach C), as with k = 0.
  const k = g.alpha === 0 ? 0 : g.k;
  const params = [g.batch, g.m, g.n, k, ...g.aStrides, ...g.bStrides, g.cBatchStride, g.ldc, g.alpha, g.beta, tilesN, tiles];
  run(GEMM_SHADER, [g.a, g.b, g.c, g.bias ?? null], params, g.batch * tiles);
}

/** The backend's matmul: C contiguous [batch, m, n]; alpha 1 and beta 0 unless given. */
export function encodeMatmul(spec: MatmulSpec, run: RunShader): void {
  encodeGemm({ ...spec, cBatchStride: spec.m * spec.n, ldc: spec.n, alpha: spec.alpha ?? 1, beta: spec.beta ?? 0 }, run);
}

export const GEMM: Partial<GpuKernelTable> = {
  // The scratch argument is the CPU kernel's packing space: nothing to do with it here.
  gemm: ([batch, m, n, k, a, aB, aR, aC, b, bB, bR, bC, c, cBatchStride, ldc, alpha, beta, bias], run) =>
    encodeGemm({ batch, m, n, k, a, aStrides: [aB, aR, aC], b, bStrides: [bB, bR, bC], c, cBatchStride, ldc, alpha, beta, bias }, run),
};
