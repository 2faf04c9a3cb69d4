/**
 * Long Range Arena's Image task (docs/algorithm.md §3): an image as a sequence of gray levels, row by row, each
 * level (0–255) a token. Reads CIFAR-10's binary batches (converted to gray as LRA does) and any IDX
 * image set (the MNIST file format, e.g. MNIST or Fashion-MNIST, gzipped or not).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { grayLevel } from '../io/png.js';
import type { TokenExample } from './synthetic.js';

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    throw new Error(`${path}: cannot read the ${what}`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes);
    } catch (e) {
      throw new Error(`${path}: corrupt gzip data (${(e as Error).message})`);
    }
  }
  return bytes;
}

const CIFAR_RECORD = 1 + 3 * 1024;

/** One CIFAR-10 binary batch: records of a label byte then 1024 red, 1024 green and 1024 blue bytes (32×32). */
export async function readCifar10Batch(path: string): Promise<TokenExample[]> {
  const bytes = await readBytes(path, 'CIFAR-10 batch');
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD !== 0) {
    throw new Error(`${path}: ${bytes.length} bytes is not a whole number of ${CIFAR_RECORD}-byte CIFAR-10 records (a truncated or different file?)`);
  }
  const out: TokenExample[] = [];
  for (let at = 0; at < bytes.length; at += CIFAR_RECORD) {
    const label = bytes[at];
    if (label > 9) throw new Error(`${path}: record ${at / CIFAR_RECORD} has label ${label}; CIFAR-10 labels are 0–9`);
    const inputIds = new Array<number>(1024);
    for (let p = 0; p < 1024; p++) inputIds[p] = grayLevel(bytes[at + 1 + p], bytes[at + 1025 + p], bytes[at + 2049 + p]);
    out.push({ inputIds, label });
  }
  return out;
}

/** An IDX file's dimensions and its unsigned-byte payload. */
function parseIdx(path: string, bytes: Uint8Array, rank: number): { dims: number[]; data: Uint8Array } {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new Error(`${path}: not an IDX file (bad magic number)`);
  if (bytes[2] !== 0x08) throw new Error(`${path}: IDX element type 0x${bytes[2].toString(16)} is not unsigned bytes (0x08)`);
  if (bytes[3] !== rank) throw new Error(`${path}: expected ${rank} dimensions, the file has ${bytes[3]}`);
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw new Error(`${path}: truncated IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== header + size) throw new Error(`${path}: dimensions ${dims.join('×')} need ${header + size} bytes, the file has ${bytes.length}`);
  return { dims, data: bytes.subarray(header) };
}

/**
 * An IDX image set (rank 3: count, rows, columns) with its IDX labels (rank 1), images flattened row
 * by row. With `classes`, every label must be below it: a stray one would otherwise stop training
 * at whichever step first draws it.
 */
export async function readIdxImages(imagesPath: string, labelsPath: string, classes = 256): Promise<TokenExample[]> {
  const images = parseIdx(imagesPath, await readBytes(imagesPath, 'IDX images'), 3);
  const labels = parseIdx(labelsPath, await readBytes(labelsPath, 'IDX labels'), 1);
  const [count, rows, cols] = images.dims;
  if (labels.dims[0] !== count) throw new Error(`${labelsPath}: ${labels.dims[0]} labels for ${count} images in ${imagesPath}`);
  const pixels = rows * cols;
  const stray = labels.data.findIndex((l) => l >= classes);
  if (stray >= 0) throw new Error(`${labelsPath}: label ${labels.data[stray]} of image ${stray} is not a class 0–${classes - 1}`);
  return Array.from({ length: count }, (_, i) => ({ inputIds: Array.from(images.data.subarray(i * pixels, (i + 1) * pixels)), label: labels.data[i] }));
}

const first = (dir: string, names: string[]) => names.map((n) => join(dir, n)).find((p) => existsSync(p));

/**
 * The train and test sets of an image folder: CIFAR-10's `data_batch_{1..5}.bin` + `test_batch.bin`
 * (the `cifar-10-batches-bin` folder), or IDX files `train-images-idx3-ubyte` / `t10k-images-idx3-ubyte`
 * with their `…-labels-idx1-ubyte` (each may end in .gz).
 */
export async function readImageFolder(dir: string): Promise<{ train: TokenExample[]; test: TokenExample[]; format: 'cifar10' | 'idx' }> {
  if (existsSync(join(dir, 'test_batch.bin'))) {
    const train: TokenExample[] = [];
    for (let i = 1; i <= 5; i++) {
      const path = join(dir, `data_batch_${i}.bin`);
      if (existsSync(path)) train.push(...(await readCifar10Batch(path)));
    }
    if (train.length === 0) throw new Error(`${dir}: test_batch.bin but no data_batch_*.bin`);
    return { train, test: await readCifar10Batch(join(dir, 'test_batch.bin')), format: 'cifar10' };
  }
  const idx = (split: string, kind: string, rank: number) => first(dir, [`${split}-${kind}-idx${rank}-ubyte`, `${split}-${kind}-idx${rank}-ubyte.gz`, `${split}-${kind}.idx${rank}-ubyte`]);
  const files = [idx('train', 'images', 3), idx('train', 'labels', 1), idx('t10k', 'images', 3), idx('t10k', 'labels', 1)];
  if (files.some((f) => f === undefined)) {
    throw new Error(`${dir}: no image set found; expected CIFAR-10 binary batches (data_batch_1.bin … test_batch.bin) or IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])`);
  }
  const [trainImages, trainLabels, testImages, testLabels] = files as string[];
  // LRA Image has ten classes, as CIFAR-10 and Fashion-MNIST do.
  return { train: await readIdxImages(trainImages, trainLabels, 10), test: await readIdxImages(testImages, testLabels, 10), format: 'idx' };
}
