/**
 * Every kernel a backend runs, with its arguments in order: the one source of truth from which
 * `Backend.dispatch`'s argument types derive (test/kernel-table.test checks it against the
 * AssemblyScript exports). Adding a kernel touches its op, its kernel and this table.
 *
 * Argument kinds, by the name's ending:
 *   'n'      a number (an i32, f32 or f64 scalar)
 *   'x*'     a buffer (BufferRef: a tensor, or a backend allocation)
 *   'x*?'    a buffer or null (the kernel skips what it would read or write there)
 *   'x*[]'   a list of buffers (or nulls), one per tensor of a multi-tensor kernel
 *   'x[]'    a list of integers
 *   'work#'  per-thread scratch: the caller passes bytes per thread, the backend allocates it for
 *            the call and the kernel receives (address, bytes per thread)
 * Lists reach the WebAssembly kernels as the address of an i32 array the backend writes per call.
 * The WebAssembly kernels take (tid, nt) before these: the pool's, not the caller's.
 */
import type { BufferRef } from './buffer.js';

const CONV = ['B', 'H', 'n', 'd', 'K'] as const;
const FLASH = ['BH', 'n', 'nk', 'd', 'scale', 'biasStride', 'work#'] as const;
/** The kernels that can drop attention probabilities (dropThreshold 0: none; softmax-attention.ts). */
const FLASH_DROP = ['BH', 'n', 'nk', 'd', 'scale', 'biasStride', 'dropSeed', 'dropThreshold', 'dropScale', 'work#'] as const;

export const KERNELS = {
  unary: ['op', 'x*', 'y*', 'n', 'alpha'],
  unaryGrad: ['op', 'x*', 'y*', 'dy*', 'dx*', 'n', 'alpha'],
  geluWithGrad: ['x*', 'y*', 'd*', 'n'],
  binary: ['op', 'a*', 'b*', 'out*', 'n', 'desc*?'],
  where: ['cond*', 'a*', 'b*', 'out*', 'n', 'desc*'],
  copyStrided: ['x*', 'y*', 'n', 'desc*'],
  copyToStrided: ['x*', 'y*', 'n', 'desc*'],
  fill: ['y*', 'n', 'value'],
  castI32F32: ['x*', 'y*', 'n'],
  castF32I32: ['x*', 'y*', 'n'],
  randomUniform: ['y*', 'n', 'seed', 'offset'],
  dropout: ['x*', 'residual*?', 'mask*?', 'y*', 'n', 'seed', 'p', 'scale'],
  dropoutGrad: ['dy*', 'mask*', 'dx*', 'n', 'scale'],
  reduceRows: ['op', 'x*', 'y*', 'rows', 'cols'],
  reduceCols: ['x*', 'y*', 'rows', 'cols'],
  softmaxRows: ['x*', 'y*', 'rows', 'cols'],
  softmaxRowsGrad: ['y*', 'dy*', 'dx*', 'rows', 'cols'],
  logSoftmaxRows: ['x*', 'y*', 'rows', 'cols'],
  logSoftmaxRowsGrad: ['y*', 'dy*', 'dx*', 'rows', 'cols'],
  takeRows: ['x*', 'idx*', 'y*', 'numIdx', 'rowLen'],
  takeRowsGrad: ['dy*', 'idx*', 'dx*', 'numIdx', 'rowLen'],
  gatherLast: ['x*', 'idx*', 'y*', 'rows', 'cols', 'k'],
  gatherLastGrad: ['dy*', 'idx*', 'dx*', 'rows', 'cols', 'k'],
  dwconv: ['x*', 'w*', 'y*', ...CONV],
  dwconvGradInput: ['dy*', 'w*', 'dx*', ...CONV],
  dwconvGradWeight: ['dy*', 'x*', 'dw*', ...CONV, 'work#'],
  segmentMeans: ['x*', 'y*', 'bh', 'n', 'd', 'm'],
  segmentMeansGrad: ['dy*', 'dx*', 'acc*?', 'bh', 'n', 'd', 'm'],
  flashForward: ['q*', 'k*', 'v*', 'bias*?', 'out*', 'stats*', ...FLASH_DROP],
  flashProbs: ['q*', 'k*', 'bias*?', 'stats*', 'probs*', ...FLASH],
  flashBackwardQuery: ['q*', 'k*', 'v*', 'bias*?', 'out*', 'dout*', 'stats*', 'delta*', 'dq*?', ...FLASH_DROP],
  flashBackwardKey: ['q*', 'k*', 'v*', 'bias*?', 'dout*', 'stats*', 'delta*', 'dk*?', 'dv*?', ...FLASH_DROP],
  adamw: [
    'ws*[]', 'gs*[]', 'ms*[]', 'vs*[]', 'sizes[]', 'decays[]', 'count', 'total',
    'gradScale', 'lr', 'beta1', 'beta2', 'c1', 'c2', 'eps', 'shrink',
  ],
  sgd: ['ws*[]', 'gs*[]', 'bufs*[]', 'sizes[]', 'count', 'total', 'gradScale', 'lr', 'momentum', 'weightDecay'],
  sumSquares: ['x*', 'n', 'acc*'],
  layerNormRows: ['x*', 'w*?', 'b*?', 'y*', 'stats*', 'rows', 'cols', 'eps'],
  layerNormRowsGrad: ['x*', 'w*?', 'stats*', 'dy*', 'dx*', 'dyXhat*?', 'rows', 'cols'],
  quantizeRows: ['x*', 'q*', 'params*', 'rows', 'k', 'kPad'],
  gemmQ8: ['q*', 'params*', 'w*', 'wScale*', 'wSum*', 'bias*?', 'y*', 'm', 'n', 'kPad'],
  gemm: [
    'batch', 'm', 'n', 'k',
    'a*', 'aBatchStride', 'aRowStride', 'aColStride',
    'b*', 'bBatchStride', 'bRowStride', 'bColStride',
    'c*', 'cBatchStride', 'ldc', 'alpha', 'beta', 'bias*?', 'work#',
  ],
} as const;

/** Exports of the kernel module that are not kernels: the backend calls them directly. */
export const HELPERS = { heapBase: 0, gemmWorkBytes: 3 } as const;

export type KernelName = keyof typeof KERNELS;

/** What a caller passes for one argument of the given spec. */
export type ArgValue<S> =
  S extends `${string}*[]` ? readonly (BufferRef | null)[]
  : S extends `${string}[]` ? readonly number[]
  : S extends `${string}*?` ? BufferRef | null
  : S extends `${string}*` ? BufferRef
  : number;

/** The arguments of kernel K, as a tuple: the compiler catches a missing or mistyped one. */
export type KernelArgs<K extends KernelName> = ArgValues<(typeof KERNELS)[K]>;
type ArgValues<T extends readonly string[]> = { readonly [I in keyof T]: ArgValue<T[I]> };

export type ArgKind = 'number' | 'buffer' | 'optionalBuffer' | 'scratch' | 'bufferList' | 'numberList';

export function argKind(spec: string): ArgKind {
  if (spec.endsWith('*[]')) return 'bufferList';
  if (spec.endsWith('[]')) return 'numberList';
  if (spec.endsWith('*?')) return 'optionalBuffer';
  if (spec.endsWith('*')) return 'buffer';
  return spec.endsWith('#') ? 'scratch' : 'number';
}

const kinds = new Map<KernelName, readonly ArgKind[]>();

/** A kernel's argument kinds, for backends that resolve arguments at run time. */
export function argKinds(kernel: KernelName): readonly ArgKind[] {
  let k = kinds.get(kernel);
  if (!k) kinds.set(kernel, (k = specsOf(kernel).map(argKind)));
  return k;
}

/** A kernel's specs, widened: the union of the table's tuples has no callable map. */
function specsOf(kernel: KernelName): readonly string[] {
  return KERNELS[kernel];
}
