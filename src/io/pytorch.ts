/**
 * PyTorch checkpoints (`pytorch_model.bin`: torch.save's zip format, PyTorch ≥ 1.6), read without
 * executing anything:
 *
 *   <archive>/data.pkl     the pickled state dict (a restricted unpickler reads it, see pickle.ts);
 *                          each tensor is _rebuild_tensor_v2(storage, offset, size, stride, …) and
 *                          each storage a persistent id ('storage', torch.FloatStorage, key, location, numel)
 *   <archive>/data/<key>   each storage's raw bytes, numel × item size of them
 *   <archive>/byteorder    'little' or 'big' (torch ≥ 2.1; absent files are little-endian)
 *   <archive>/version      and, in newer files, .data/serialization_id: not needed
 *
 * Tensors come back contiguous, row-major and little-endian whatever their strides, offsets and
 * byte order were: a contiguous tensor is a view into the file, any other one a copy. Transposed
 * views and tied weights sharing one storage both occur in real checkpoints.
 */
import { isKnown } from './lookup.js';
import { PickleGlobal, PickleTuple, describe, unpickle } from './pickle.js';
import { MAX_TENSORS, type RawTensor, type SafetensorsDType } from './safetensors-format.js';
import { readZip } from './zip.js';

const STORAGE_TYPES: Record<string, [SafetensorsDType, number]> = {
  'torch.FloatStorage': ['F32', 4],
  'torch.HalfStorage': ['F16', 2],
  'torch.BFloat16Storage': ['BF16', 2],
  'torch.DoubleStorage': ['F64', 8],
  'torch.LongStorage': ['I64', 8],
  'torch.IntStorage': ['I32', 4],
  'torch.ShortStorage': ['I16', 2],
  'torch.CharStorage': ['I8', 1],
  'torch.ByteStorage': ['U8', 1],
  'torch.BoolStorage': ['BOOL', 1],
};

/** Non-contiguous tensors are copied; a file whose strides repeat elements (stride 0) may not expand beyond this. */
const copyBudget = (fileBytes: number) => 2 * fileBytes + 64 * 2 ** 20;
const MAX_DEPTH = 64;

/** One data/<key> entry, typed by the first persistent id that named it. */
class Storage {
  constructor(readonly key: string, readonly dtype: SafetensorsDType, readonly itemSize: number, readonly numel: number, readonly bytes: Uint8Array) {}
}

/** A tensor as the pickle describes it, before its elements are gathered. */
class TensorRef {
  constructor(readonly storage: Storage, readonly offset: number, readonly shape: number[], readonly strides: number[]) {}
}

/** Node only; node:fs is imported when called, so that the parser below also runs in browsers. */
export async function readTorchCheckpoint(path: string): Promise<Map<string, RawTensor>> {
  const { readFile } = await import('node:fs/promises');
  return parseTorchCheckpoint(await readFile(path), path);
}

/**
 * Every tensor of a torch.save'd state dict by name (nested dicts flattened with '.'; other values
 * skipped). Refuses, before building anything, a pickle that names any global outside torch's
 * tensor-rebuilding ones. `source` names the file in errors.
 */
export function parseTorchCheckpoint(bytes: Uint8Array, source = 'pytorch_model.bin'): Map<string, RawTensor> {
  try {
    return parse(bytes, source);
  } catch (e) {
    // Every check names the file; anything a malformed file trips over beyond them is made to as well.
    if (e instanceof Error && e.message.startsWith(`${source}: `)) throw e;
    throw new Error(`${source}: malformed checkpoint (${e instanceof Error ? e.message : String(e)})`);
  }
}

function parse(bytes: Uint8Array, source: string): Map<string, RawTensor> {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  // The legacy format is a bare pickle (PROTO) of a magic number; a zip starts with "PK".
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    fail('this is the legacy torch.save format (PyTorch < 1.6, or _use_new_zipfile_serialization=False), which is not supported; '
      + 'convert it with PyTorch ≥ 1.6: torch.save(torch.load(f), f2)');
  }
  const entries = readZip(bytes, source);
  const pickles = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    fail(pickles.length === 0
      ? `the zip archive has no <archive>/data.pkl, so it is not a torch.save checkpoint${entries.has('constants.pkl') || [...entries.keys()].some((n) => n.endsWith('/constants.pkl')) ? ' (it looks like a TorchScript archive)' : ''}`
      : `the zip archive holds ${pickles.length} data.pkl files (${pickles.join(', ')}); torch.save writes one`);
  }
  const pklName = pickles[0];
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const order = entries.get(`${prefix}byteorder`);
  const orderText = order === undefined ? 'little' : new TextDecoder().decode(order).trim();
  if (orderText !== 'little' && orderText !== 'big') fail(`${prefix}byteorder is ${JSON.stringify(orderText.slice(0, 20))}, not 'little' or 'big'`);

  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: unknown): Storage => {
    const items = pid instanceof PickleTuple ? pid.items : [];
    if (items[0] !== 'storage' || items.length !== 5) fail(`${pklName}: persistent id ${describe(pid)} is not ('storage', type, key, location, numel)`);
    const [, type, key, , numel] = items;
    const kind = type instanceof PickleGlobal && isKnown(STORAGE_TYPES, type.name) ? STORAGE_TYPES[type.name] : undefined;
    if (!kind) fail(`${pklName}: persistent id names storage type ${describe(type)}, not one of ${Object.keys(STORAGE_TYPES).join(', ')}`);
    if (typeof key !== 'string') fail(`${pklName}: storage key ${describe(key)} is not a string`);
    if (!isCount(numel)) fail(`storage '${key}': element count ${describe(numel)} is not a non-negative integer`);
    const [dtype, itemSize] = kind!;
    const known = storages.get(key as string);
    if (known) {
      if (known.dtype !== dtype || known.numel !== numel) {
        fail(`storage '${key}' is named as ${known.numel} × ${known.dtype} and as ${numel} × ${dtype}`);
      }
      return known;
    }
    const name = `${prefix}data/${key}`;
    const data = entries.get(name) ?? fail(`storage '${key}' is missing from the archive (no entry '${name}')`);
    if (data.length !== (numel as number) * itemSize) {
      fail(`entry '${name}' holds ${data.length} bytes but its storage is ${numel} × ${dtype} (${(numel as number) * itemSize} bytes)`);
    }
    const storage = new Storage(key as string, dtype, itemSize, numel as number, data);
    storages.set(key as string, storage);
    return storage;
  };

  const root = unpickle(entries.get(pklName)!, { globals: allowedGlobals(source, pklName), persistentLoad, refuse }, source);
  return flatten(root, source, orderText === 'big', copyBudget(bytes.length), 2 * entries.get(pklName)!.length + 1024);
}

/** The refusal message: storage types get their own, since they are not executable but still unknown. */
function refuse(name: string): string {
  if (/^torch\.\w+Storage$/.test(name)) {
    return `pickle refers to storage type '${name}', which is not supported (supported: ${Object.keys(STORAGE_TYPES).join(', ')})`;
  }
  return `pickle refers to '${name}', which a state dict never contains; refusing to load it (nothing was executed)`;
}

/**
 * The globals torch.save writes for a dict of tensors, as TypeScript functions: tensors,
 * parameters (which unwrap to their tensor), tensors with Python attributes (dropped),
 * OrderedDict and Size. Storage types are inert names used by persistent ids.
 */
function allowedGlobals(source: string, pklName: string): Map<string, PickleGlobal> {
  const fail = (what: string, msg: string): never => {
    throw new Error(`${source}: ${pklName}: ${what} ${msg}`);
  };
  const tensorArg = (what: string, v: unknown) => (v instanceof TensorRef ? v : fail(what, `expects a tensor, got ${describe(v)}`));
  const arity = (what: string, args: readonly unknown[], min: number, max: number) => {
    if (args.length < min || args.length > max) fail(what, `takes ${min === max ? min : `${min} to ${max}`} arguments, got ${args.length}`);
  };
  const g = new Map<string, PickleGlobal>();
  const add = (name: string, call?: (args: readonly unknown[]) => unknown) => g.set(name, new PickleGlobal(name, call));
  let tensors = 0;

  add('torch._utils._rebuild_tensor_v2', (args) => {
    // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    const what = '_rebuild_tensor_v2';
    if (++tensors > MAX_TENSORS) throw new Error(tooMany(source));
    arity(what, args, 6, 7);
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof Storage)) return fail(what, `expects a storage first, got ${describe(storage)}`);
    if (!isCount(offset)) return fail(what, `storage offset ${describe(offset)} is not a non-negative integer`);
    const shape = counts(size) ?? fail(what, `size ${describe(size)} is not a tuple of non-negative integers`);
    const strides = counts(stride) ?? fail(what, `stride ${describe(stride)} is not a tuple of non-negative integers`);
    if (shape.length !== strides.length) fail(what, `size [${shape}] and stride [${strides}] differ in length`);
    return new TensorRef(storage, offset as number, shape, strides);
  });
  // (data, requires_grad, backward_hooks[, state]): a parameter is its tensor
  add('torch._utils._rebuild_parameter', (args) => (arity('_rebuild_parameter', args, 3, 3), tensorArg('_rebuild_parameter', args[0])));
  add('torch._utils._rebuild_parameter_with_state', (args) => (arity('_rebuild_parameter_with_state', args, 4, 4), tensorArg('_rebuild_parameter_with_state', args[0])));
  // (func, type, args, state): a tensor with Python attributes; func is an allowed global, called as REDUCE would
  add('torch._tensor._rebuild_from_type_v2', (args) => {
    const what = '_rebuild_from_type_v2';
    arity(what, args, 4, 4);
    const [fn, type, inner] = args;
    if (!(type instanceof PickleGlobal) || !['torch.Tensor', 'torch.nn.parameter.Parameter'].includes(type.name)) {
      fail(what, `rebuilds ${describe(type)}, not a tensor or parameter`);
    }
    if (!(fn instanceof PickleGlobal) || !fn.call || !(inner instanceof PickleTuple)) return fail(what, `expects an allowed function and its argument tuple`);
    return tensorArg(what, fn.call(inner.items));
  });
  add('torch.Tensor');
  add('torch.nn.parameter.Parameter');
  // OrderedDict() then SETITEMS, as pickle writes it; or OrderedDict([(k, v), …])
  add('collections.OrderedDict', (args) => {
    arity('OrderedDict', args, 0, 1);
    const dict = new Map<unknown, unknown>();
    if (args.length === 0) return dict;
    const pairs = args[0] instanceof PickleTuple ? args[0].items : Array.isArray(args[0]) ? args[0] : fail('OrderedDict', `expects a list of pairs, got ${describe(args[0])}`);
    for (const pair of pairs) {
      if (!(pair instanceof PickleTuple) || pair.items.length !== 2) fail('OrderedDict', `expects (key, value) pairs, got ${describe(pair)}`);
      dict.set((pair as PickleTuple).items[0], (pair as PickleTuple).items[1]);
    }
    return dict;
  });
  add('torch.Size', (args) => (arity('torch.Size', args, 1, 1), args[0] instanceof PickleTuple ? args[0] : fail('torch.Size', `expects a tuple, got ${describe(args[0])}`)));
  for (const name of Object.keys(STORAGE_TYPES)) add(name);
  return g;
}

/** name → tensor for every tensor in the top-level dict and the dicts nested in it. */
function flatten(root: unknown, source: string, bigEndian: boolean, budget: number, maxVisits: number): Map<string, RawTensor> {
  if (!(root instanceof Map)) {
    throw new Error(`${source}: the checkpoint holds ${root instanceof TensorRef ? 'a single tensor' : describe(root)}, not a dict of tensors (a state dict)`);
  }
  const out = new Map<string, RawTensor>();
  const done = new Map<TensorRef, RawTensor>(); // a tensor reached twice (memo) is gathered once
  const path = new Set<Map<unknown, unknown>>();
  const left = { copy: budget, visits: maxVisits };
  const walk = (dict: Map<unknown, unknown>, prefix: string) => {
    if (path.has(dict)) throw new Error(`${source}: dict '${prefix.slice(0, -1)}' contains itself`);
    if (path.size >= MAX_DEPTH) throw new Error(`${source}: dicts nested more than ${MAX_DEPTH} deep at '${prefix.slice(0, -1)}'`);
    path.add(dict);
    for (const [key, value] of dict) {
      // Shared sub-dicts are walked once per path; bound that by the pickle's size so it cannot explode
      // (a dict entry takes 3 bytes of pickle or more, so 2 visits per byte leave room for sharing).
      if (--left.visits < 0) throw new Error(`${source}: the pickle's dicts share sub-dicts so often that flattening them would not end`);
      if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'bigint') continue;
      if (value instanceof TensorRef) {
        const name = `${prefix}${key}`;
        if (out.size >= MAX_TENSORS && !out.has(name)) throw new Error(tooMany(source));
        let t = done.get(value);
        if (!t) done.set(value, (t = materialize(value, name, source, bigEndian, left)));
        out.set(name, t);
      } else if (value instanceof Map) {
        walk(value, `${prefix}${key}.`);
      }
    }
    path.delete(dict);
  };
  walk(root, '');
  return out;
}

/** The tensor's elements, contiguous, row-major and little-endian, checked against its storage. */
function materialize(t: TensorRef, name: string, source: string, bigEndian: boolean, left: { copy: number }): RawTensor {
  const { storage, offset, shape, strides } = t;
  const { itemSize, dtype } = storage;
  const where = `${source}: tensor '${name}' (${dtype} [${shape.join(', ')}], storage '${storage.key}' of ${storage.numel} elements, offset ${offset}, strides [${strides.join(', ')}])`;
  if (shape.includes(0)) return { dtype, shape, data: new Uint8Array(0) };
  let count = 1;
  for (const d of shape) count *= d;
  if (!Number.isSafeInteger(count)) throw new Error(`${where} has more than 2^53 elements`);
  // The last element it reaches must lie in the storage (every term is ≥ 0, so no overflow hides).
  let last = offset;
  for (let i = 0; i < shape.length; i++) last += (shape[i] - 1) * strides[i];
  if (!Number.isSafeInteger(last) || last >= storage.numel) {
    throw new Error(`${where} reaches element ${Number.isSafeInteger(last) ? last : '≥ 2^53'}, beyond its storage`);
  }
  let contiguous = true;
  for (let i = shape.length - 1, s = 1; i >= 0; s *= shape[i], i--) if (shape[i] !== 1 && strides[i] !== s) contiguous = false;
  const src = storage.bytes;
  if (contiguous && !bigEndian) return { dtype, shape, data: src.subarray(offset * itemSize, (offset + count) * itemSize) };

  const length = count * itemSize;
  if (length > left.copy) {
    throw new Error(`${where}: copying it to row-major order needs ${length} bytes, beyond the ${left.copy} left for a file of this size (do its strides repeat elements?)`);
  }
  left.copy -= length;
  const data = new Uint8Array(length);
  if (contiguous) data.set(src.subarray(offset * itemSize, offset * itemSize + length));
  else gather(src, data, itemSize, offset, shape, strides);
  if (bigEndian && itemSize > 1) for (let i = 0; i < length; i += itemSize) data.subarray(i, i + itemSize).reverse();
  return { dtype, shape, data };
}

/** Row-major copy of a strided view: an odometer over the outer axes, the last axis in the inner loop. */
function gather(src: Uint8Array, dst: Uint8Array, itemSize: number, offset: number, shape: number[], strides: number[]) {
  const rank = shape.length;
  const inner = shape[rank - 1];
  const innerStride = strides[rank - 1] * itemSize;
  const index = new Array<number>(rank).fill(0);
  let base = offset * itemSize; // byte offset of the current row's first element
  for (let o = 0; o < dst.length; ) {
    if (innerStride === itemSize) {
      dst.set(src.subarray(base, base + inner * itemSize), o);
      o += inner * itemSize;
    } else {
      for (let j = 0, s = base; j < inner; j++, s += innerStride) for (let b = 0; b < itemSize; b++) dst[o++] = src[s + b];
    }
    // advance the outer axes
    for (let a = rank - 2; a >= 0; a--) {
      base += strides[a] * itemSize;
      if (++index[a] < shape[a]) break;
      base -= shape[a] * strides[a] * itemSize;
      index[a] = 0;
    }
  }
}

const tooMany = (source: string) =>
  `${source}: the checkpoint holds more than ${MAX_TENSORS} tensors (the largest real models have fewer than 100,000 in all their shards); refusing to go on`;

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** A tuple (or list) of non-negative integers as an array, else undefined. */
function counts(v: unknown): number[] | undefined {
  const items = v instanceof PickleTuple ? v.items : Array.isArray(v) ? v : undefined;
  return items && items.every(isCount) ? [...items] as number[] : undefined;
}
