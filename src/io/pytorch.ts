/**
 * PyTorch checkpoints (`pytorch_model.bin`, torch.save's zip format since PyTorch 1.6), read
 * without executing anything:
 *
 *   <archive>/data.pkl     the pickled state dict; each tensor is
 *                          _rebuild_tensor_v2(storage, offset, size, stride, …) and each storage
 *                          a persistent id ('storage', torch.FloatStorage, key, location, numel)
 *   <archive>/data/<key>   the storages' raw bytes, little-endian
 *   <archive>/byteorder    'little' (absent in older files, which are little-endian)
 *
 * Tensors come back contiguous and row-major, whatever their strides and offsets were
 * (transposed views and tied weights sharing one storage both occur).
 */
import { readFile } from 'node:fs/promises';
import { PickleGlobal, unpickle } from './pickle.js';
import type { RawTensor, SafetensorsDType } from './safetensors.js';
import { readZip } from './zip.js';

const STORAGE_DTYPES: Record<string, [SafetensorsDType, number]> = {
  'torch.FloatStorage': ['F32', 4],
  'torch.HalfStorage': ['F16', 2],
  'torch.BFloat16Storage': ['BF16', 2],
  'torch.DoubleStorage': ['F64', 8],
  'torch.LongStorage': ['I64', 8],
  'torch.IntStorage': ['I32', 4],
  'torch.CharStorage': ['I8', 1],
  'torch.ByteStorage': ['U8', 1],
  'torch.BoolStorage': ['BOOL', 1],
};

interface Storage {
  dtype: SafetensorsDType;
  itemSize: number;
  bytes: Uint8Array;
  name: string;
}

/** A tensor as the pickle describes it, before its bytes are gathered. */
class TensorRef {
  constructor(readonly storage: Storage, readonly offset: number, readonly shape: number[], readonly strides: number[]) {}
}

export async function readTorchCheckpoint(path: string): Promise<Map<string, RawTensor>> {
  return parseTorchCheckpoint(await readFile(path), path);
}

export function parseTorchCheckpoint(bytes: Uint8Array, source = 'pytorch_model.bin'): Map<string, RawTensor> {
  try {
    return parse(bytes, source);
  } catch (e) {
    // Every check names the file; anything else a malformed file trips over is wrapped to do so too.
    if (e instanceof Error && e.message.startsWith(source)) throw e;
    throw new Error(`${source}: malformed checkpoint (${e instanceof Error ? e.message : String(e)})`);
  }
}

function parse(bytes: Uint8Array, source: string): Map<string, RawTensor> {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    fail('this is the legacy (pre-1.6) torch.save format, which is not supported; convert it with PyTorch ≥ 1.6: torch.save(torch.load(f), f2)');
  }
  const entries = readZip(bytes, source);
  const pklName = [...entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pklName) fail('no data.pkl in the archive: not a torch.save checkpoint');
  const prefix = pklName!.slice(0, -'data.pkl'.length);
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== 'little') fail('big-endian checkpoints are not supported');

  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) fail(`unexpected persistent id ${JSON.stringify(pid)}`);
    const [, type, key] = pid as [string, PickleGlobal, unknown];
    const kind = STORAGE_DTYPES[type?.name];
    if (!kind) fail(`unsupported storage type ${type?.name}`);
    if (typeof key !== 'string') fail(`storage key ${JSON.stringify(key)} is not a string`);
    const cached = storages.get(key as string);
    if (cached) return cached;
    const data = entries.get(`${prefix}data/${key}`);
    if (!data) fail(`storage '${key}' is missing from the archive`);
    const storage = { dtype: kind[0], itemSize: kind[1], bytes: data!, name: `${prefix}data/${key}` };
    storages.set(key as string, storage);
    return storage;
  };
  const rebuildTensor = (args: unknown[]): TensorRef => {
    const [storage, offset, size, stride] = args;
    const ints = (v: unknown) => Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0);
    if (!(storage && typeof storage === 'object' && 'bytes' in storage) || !Number.isInteger(offset) || (offset as number) < 0 || !ints(size) || !ints(stride) || (size as number[]).length !== (stride as number[]).length) {
      fail('malformed tensor record (_rebuild_tensor_v2 arguments)');
    }
    return new TensorRef(storage as Storage, offset as number, [...(size as number[])], [...(stride as number[])]);
  };
  const unwrapParameter = (args: unknown[]) => (args[0] instanceof TensorRef ? args[0] : fail('malformed parameter record'));

  const root = unpickle(entries.get(pklName!)!, {
    callables: {
      'collections.OrderedDict': () => new Map(),
      'torch._utils._rebuild_tensor_v2': rebuildTensor,
      'torch._utils._rebuild_parameter': unwrapParameter,
      'torch._utils._rebuild_parameter_with_state': unwrapParameter,
    },
    names: new Set(Object.keys(STORAGE_DTYPES)),
    persistentLoad,
  }, `${source} (${pklName})`);
  return collect(root, source);
}

/** name → tensor for every tensor in the (possibly nested) top-level dict; other leaves are skipped. */
function collect(root: unknown, source: string): Map<string, RawTensor> {
  if (!(root instanceof Map)) throw new Error(`${source}: the checkpoint is not a dict of tensors (a state dict)`);
  const out = new Map<string, RawTensor>();
  const walk = (dict: Map<unknown, unknown>, prefix: string, depth: number) => {
    if (depth > 16) throw new Error(`${source}: dicts nested more than 16 deep`);
    for (const [key, value] of dict) {
      const name = `${prefix}${String(key)}`;
      if (value instanceof TensorRef) out.set(name, materialize(value, name, source));
      else if (value instanceof Map) walk(value, `${name}.`, depth + 1);
    }
  };
  walk(root, '', 0);
  return out;
}

/** The tensor's elements, contiguous and row-major, checked against its storage's size. */
function materialize(t: TensorRef, name: string, source: string): RawTensor {
  const { storage, offset, shape, strides } = t;
  const { itemSize } = storage;
  const count = shape.reduce((a, b) => a * b, 1);
  const available = Math.floor(storage.bytes.length / itemSize);
  const last = count === 0 ? offset : offset + shape.reduce((s, d, i) => s + (d - 1) * strides[i], 0);
  if (count > 0 && last >= available) {
    throw new Error(`${source}: tensor '${name}' of shape [${shape}] (offset ${offset}, strides [${strides}]) reaches element ${last} of a storage that holds ${available}`);
  }
  const src = storage.bytes;
  let contiguous = true;
  for (let i = shape.length - 1, s = 1; i >= 0; s *= shape[i], i--) if (shape[i] !== 1 && strides[i] !== s) contiguous = false;
  if (contiguous) {
    return { dtype: storage.dtype, shape, data: src.subarray(offset * itemSize, (offset + count) * itemSize) };
  }
  const data = new Uint8Array(count * itemSize);
  const index = new Array<number>(shape.length).fill(0);
  for (let e = 0; e < count; e++) {
    let at = offset;
    for (let a = 0; a < shape.length; a++) at += index[a] * strides[a];
    data.set(src.subarray(at * itemSize, (at + 1) * itemSize), e * itemSize);
    for (let a = shape.length - 1; a >= 0 && ++index[a] === shape[a]; a--) index[a] = 0;
  }
  return { dtype: storage.dtype, shape, data };
}
