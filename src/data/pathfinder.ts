/**
 * Long Range Arena's Pathfinder (after Linsley et al. 2018; docs/algorithm.md §3): a 32×32 gray image with two
 * endpoint dots, label 1 when a dashed curve joins them. The image is a sequence of its 1024 gray
 * levels, row by row, each level (0–255) a token.
 *
 * The official layout (pathfinder32/<difficulty>/, as LRA's lra_benchmarks/data/pathfinder.py reads it):
 * `imgs/<k>/sample_<j>.png` and `metadata/<k>.npy`, batches of up to 1000 images. Despite the extension
 * the metadata files are text, one image a line, fields separated by spaces: the image folder, the file
 * name, the index in the batch, the label, then the generator's settings (drewlinsley/pathfinder's
 * accumulate_meta: continuity, contour length, distractor length, paddle length, paddle thickness,
 * paddle margin, number of paddle contrasts), e.g. `imgs/0 sample_0.png 0 0 1.0 6 2 2 0.5 1 1`.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '../engine/seeded.js'; // (not the engine index: data generation needs no kernels)
import { writeFileAtomicSync } from '../io/atomic.js';
import { makeDir } from '../io/make-dir.js';
import { decodePng, encodeGrayPng, toGray } from '../io/png.js';

export interface PathfinderImage {
  /** size × size gray levels, row by row. */
  pixels: Uint8Array;
  label: number;
}

export interface PathfinderExample {
  inputIds: number[];
  label: number;
}

export interface PathfinderOptions {
  count: number;
  seed: number;
  size?: number;
  /** Dashed curves without endpoint dots, each a third as long as the two target curves. */
  distractors?: number;
  /** Dashes in each target curve: 6, as LRA's curv_baseline contour length (its harder sets' 9 and 14 need a larger size here). */
  dashes?: number;
  dashLength?: number;
  gapLength?: number;
}

const DOT = 255;
const DASH = 191; // the 32-pixel set's paddle contrast, 0.75
const MAX_TURN = Math.PI / 5; // per dash: smooth enough to follow, curved enough to need following
const PAD = 2; // curves keep this far from the border, so an endpoint's dot (3×3) stays inside too

interface Canvas {
  size: number;
  pixels: Uint8Array;
  owner: Int16Array; // curve id + 1 of each drawn pixel, 0 where empty
  step: Int16Array; // which dash of its curve drew the pixel
}

/** The pixels of a one-pixel line from (x0, y0) to (x1, y1), or null if one leaves the padded image or comes near another curve. */
function dashPixels(c: Canvas, id: number, s: number, x0: number, y0: number, x1: number, y1: number): number[] | null {
  const n = Math.ceil(2 * Math.hypot(x1 - x0, y1 - y0)) + 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = Math.round(x0 + ((x1 - x0) * i) / (n - 1 || 1));
    const y = Math.round(y0 + ((y1 - y0) * i) / (n - 1 || 1));
    if (x < PAD || y < PAD || x >= c.size - PAD || y >= c.size - PAD) return null;
    // Two pixels of clearance from other curves and from this curve's older dashes (all but the two just
    // before, which are near by construction), so curves never touch or cross and dots stay apart.
    for (let dy = -2; dy <= 2; dy++)
      for (let dx = -2; dx <= 2; dx++) {
        const o = (y + dy) * c.size + x + dx;
        if (c.owner[o] !== 0 && (c.owner[o] !== id + 1 || c.step[o] < s - 2)) return null;
      }
    const at = y * c.size + x;
    if (!out.includes(at)) out.push(at);
  }
  return out;
}

/** A random walk of `dashes` dashes from (x, y) with a bounded turn per dash; its two ends, or null (and nothing drawn) if it gets stuck. */
function drawCurve(c: Canvas, rand: () => number, id: number, x: number, y: number, dashes: number, dash: number, gap: number): [number, number][] | null {
  let angle = rand() * 2 * Math.PI;
  const start: [number, number] = [Math.round(x), Math.round(y)];
  let end = start;
  const drawn: number[] = [];
  for (let s = 0; s < dashes; s++) {
    let placed = false;
    for (let tries = 0; tries < 12 && !placed; tries++) {
      const a = s === 0 && tries > 0 ? rand() * 2 * Math.PI : angle + (2 * rand() - 1) * MAX_TURN;
      const [x1, y1] = [x + dash * Math.cos(a), y + dash * Math.sin(a)];
      const pixels = dashPixels(c, id, s, x, y, x1, y1);
      if (!pixels) continue;
      for (const p of pixels) [c.pixels[p], c.owner[p], c.step[p]] = [DASH, id + 1, s];
      drawn.push(...pixels);
      [angle, end, placed] = [a, [Math.round(x1), Math.round(y1)], true];
      [x, y] = [x1 + gap * Math.cos(a), y1 + gap * Math.sin(a)];
    }
    if (!placed) {
      for (const p of drawn) [c.pixels[p], c.owner[p]] = [0, 0];
      return null;
    }
  }
  return [start, end];
}

function drawDot(c: Canvas, [x, y]: [number, number]): void {
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) c.pixels[(y + dy) * c.size + x + dx] = DOT;
}

/**
 * Seeded pathfinder-style images. As in the original generator, every image has two target curves and
 * the first dot sits at the start of one of them; the second dot sits at the far end of the same curve
 * (label 1) or of the other (label 0), so dots, curves and their counts look alike in both classes.
 * The two curves start a short way apart (the original's seed distance) so the dots' distance is no cue.
 */
export function generatePathfinder(o: PathfinderOptions): PathfinderImage[] {
  const { count, seed, size = 32, distractors = 2, dashes = 6, dashLength = 2, gapLength = 2 } = o;
  if (!(size >= 16 && dashes >= 1 && dashLength > 0 && gapLength > 0)) throw new Error(`Pathfinder: need size ≥ 16, dashes ≥ 1, dashLength and gapLength > 0`);
  const rand = seededRandom(seed);
  const seedDistance = (7 * size) / 32;
  const c: Canvas = { size, pixels: new Uint8Array(size * size), owner: new Int16Array(size * size), step: new Int16Array(size * size) };
  const inner = () => PAD + rand() * (size - 1 - 2 * PAD);
  const out: PathfinderImage[] = [];
  for (let failures = 0; out.length < count; ) {
    if (failures > 1000) throw new Error(`Pathfinder: cannot fit two ${dashes}-dash curves and ${distractors} distractors in ${size}×${size}`);
    [c.pixels, c.owner, c.step].forEach((a) => a.fill(0));
    const [x0, y0] = [inner(), inner()];
    const a = rand() * 2 * Math.PI;
    const first = drawCurve(c, rand, 0, x0, y0, dashes, dashLength, gapLength);
    const second = first && drawCurve(c, rand, 1, x0 + seedDistance * Math.cos(a), y0 + seedDistance * Math.sin(a), dashes, dashLength, gapLength);
    if (!first || !second) {
      failures++;
      continue;
    }
    failures = 0;
    // A distractor that finds no room in 20 tries is left out, as the original generator allows.
    for (let d = 0; d < distractors; d++) {
      for (let t = 0; t < 20; t++) if (drawCurve(c, rand, 2 + d, inner(), inner(), Math.max(1, Math.floor(dashes / 3)), dashLength, gapLength)) break;
    }
    const label = rand() < 0.5 ? 1 : 0;
    const [mine, other] = rand() < 0.5 ? [first, second] : [second, first];
    drawDot(c, mine[0]);
    drawDot(c, label === 1 ? mine[1] : other[1]);
    out.push({ pixels: c.pixels.slice(), label });
  }
  return out;
}

const BATCH = 1000;

/** The generator settings that LRA's files carry after the label (fields 4–10), by difficulty; written as plausible constants, never read. */
function settingsFields(difficulty: string): string {
  const length = Number(/(\d+)$/.exec(difficulty)?.[1] ?? 6);
  return `1.0 ${length} ${Math.floor(length / 3)} 2 0.5 1 1`;
}

/** Writes `examples` in the official layout under `<root>/<difficulty>/`, readable by readPathfinder (and LRA's own reader). */
export function writePathfinder(root: string, examples: PathfinderImage[], difficulty = 'curv_baseline'): void {
  const dir = join(root, difficulty);
  const metaDir = join(dir, 'metadata');
  const batches = Math.ceil(examples.length / BATCH);
  makeDir(metaDir);
  // Metadata beyond the last batch would come from an earlier, larger write and be read back as data.
  const stale = readdirSync(metaDir).filter((f) => /^\d+\.npy$/.test(f) && Number.parseInt(f, 10) >= batches);
  if (stale.length > 0) throw new Error(`${metaDir}: holds metadata of an earlier write (${stale[0]}); write into an empty folder`);
  for (let k = 0; k < batches; k++) {
    const imgDir = join(dir, 'imgs', String(k));
    makeDir(imgDir);
    let meta = '';
    for (let j = 0; j < BATCH && k * BATCH + j < examples.length; j++) {
      const { pixels, label } = examples[k * BATCH + j];
      const size = Math.sqrt(pixels.length);
      if (!Number.isInteger(size) || (label !== 0 && label !== 1)) throw new Error(`writePathfinder: example ${k * BATCH + j} needs square pixels and a 0/1 label`);
      writeFileSync(join(imgDir, `sample_${j}.png`), encodeGrayPng(pixels, size, size)); // plain: only the metadata below commits a batch
      meta += `imgs/${k} sample_${j}.png ${j} ${label} ${settingsFields(difficulty)}\n`;
    }
    // After its images, atomically: a batch whose metadata exists is complete.
    writeFileAtomicSync(join(metaDir, `${k}.npy`), meta);
  }
}

/**
 * Reads `<root>/<difficulty>/metadata/*.npy` in batch order and the images they list; `limit` stops
 * after that many examples. Images must be size × size; color images are turned gray.
 */
export async function readPathfinder(root: string, difficulty = 'curv_baseline', limit?: number, size = 32): Promise<PathfinderExample[]> {
  const dir = join(root, difficulty);
  const metaDir = join(dir, 'metadata');
  let files: string[];
  try {
    files = (await readdir(metaDir)).filter((f) => f.endsWith('.npy'));
  } catch {
    throw new Error(`${metaDir}: cannot read the metadata folder (expected LRA's pathfinder32/${difficulty}/metadata/*.npy)`);
  }
  if (files.length === 0) throw new Error(`${metaDir}: no metadata files (*.npy)`);
  files.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10) || a.localeCompare(b));

  const entries: { where: string; path: string; label: number }[] = [];
  for (const f of files) {
    if (limit !== undefined && entries.length >= limit) break;
    const path = join(metaDir, f);
    const bytes = await readFile(path);
    if (bytes[0] === 0x93 && bytes.subarray(1, 6).toString() === 'NUMPY') throw new Error(`${path}: a binary NumPy file; LRA's release has text metadata, one image a line`);
    const lines = bytes.toString('utf8').split(/\r?\n/);
    for (let i = 0; i < lines.length && (limit === undefined || entries.length < limit); i++) {
      const fields = lines[i].trim().split(/\s+/);
      if (fields[0] === '') continue;
      const where = `${path}:${i + 1}`;
      if (fields.length < 4) throw new Error(`${where}: malformed metadata line (expected '<folder> <file> <index> <label> …'), got '${lines[i].trim()}'`);
      if (fields[3] !== '0' && fields[3] !== '1') throw new Error(`${where}: label must be 0 or 1, got '${fields[3]}'`);
      if ([fields[0], fields[1]].some((p) => p.split('/').includes('..'))) throw new Error(`${where}: image path leaves the dataset folder`);
      entries.push({ where, path: join(dir, fields[0], fields[1]), label: Number(fields[3]) });
    }
  }

  const out: PathfinderExample[] = new Array(entries.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < entries.length; i = next++) {
      const { where, path, label } = entries[i];
      if (!existsSync(path)) throw new Error(`${where}: image ${path} not found`);
      let image;
      try {
        image = decodePng(await readFile(path), path);
      } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}`);
      }
      if (image.width !== size || image.height !== size) throw new Error(`${where}: ${path} is ${image.width}×${image.height}, expected ${size}×${size}`);
      out[i] = { inputIds: Array.from(toGray(image)), label };
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return out;
}
