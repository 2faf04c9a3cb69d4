/**
 * The demo's canvas drawings on a recording stand-in for a 2D context (Node has no canvas): the
 * heat map's axes, token labels, colour scale and cells, and charts sized to the width they get.
 * test/browser-e2e.test.ts draws them in Chromium.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { drawChart } from '../src/web/draw.js';
import { drawHeatmap, formatWeight, positionTicks } from '../src/web/draw-heatmap.js';

interface Recorded {
  canvas: HTMLCanvasElement;
  texts: string[];
  images: { x: number; y: number; width: number; height: number; data: Uint8ClampedArray }[];
}

/** A canvas laid out `clientWidth` CSS pixels wide whose context records text and images (other calls do nothing). */
function fakeCanvas(clientWidth: number, width: number, height: number): Recorded {
  const texts: string[] = [];
  const images: Recorded['images'] = [];
  const calls: Record<string, unknown> = {
    fillText: (text: string) => texts.push(text),
    createImageData: (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(4 * w * h) }),
    putImageData: (image: { width: number; height: number; data: Uint8ClampedArray }, x: number, y: number) => images.push({ x, y, ...image }),
  };
  const ctx = new Proxy(calls, { get: (target, key: string) => (key in target ? target[key] : () => undefined) });
  const canvas = { width, height, clientWidth, dataset: {}, getContext: () => ctx } as unknown as HTMLCanvasElement;
  return { canvas, texts, images };
}

/** An r×r block whose weights rise along the rows: the top-left cell smallest, the bottom-right largest. */
const block = (r: number) => Float32Array.from({ length: r * r }, (_, i) => 0.001 + i * 1e-5);

afterEach(() => {
  delete (globalThis as { devicePixelRatio?: number }).devicePixelRatio;
});

test('position ticks are round steps, at most as many as asked; weights print short', () => {
  assert.deepEqual(positionTicks(256, 10), [0, 50, 100, 150, 200, 250]);
  assert.deepEqual(positionTicks(12, 12), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.deepEqual(positionTicks(30, 4), [0, 10, 20]);
  assert.deepEqual(['0', '0.25', '1.2e-4', '-4.0e-4', '0.0012'], [0, 0.25, 0.000123, -0.0004, 0.00123].map(formatWeight));
});

test('a short text: the tokens along both axes, the colour scale with the smallest and largest weight', () => {
  const tokens = ['[CLS]', 'the', 'landmarks', 'summarise', 'a', 'long', 'sequence', '[SEP]'];
  const r = tokens.length;
  const { canvas, texts, images } = fakeCanvas(480, 480, 480);
  drawHeatmap(canvas, block(r), r, tokens);
  for (const t of ['[CLS]', 'the', 'landmar…', 'summari…', 'sequence', '[SEP]']) assert.equal(texts.filter((x) => x === t).length, 2, `${t}: a row and a column label`);
  for (const t of ['key token →', 'query token ↓', formatWeight(0.001), formatWeight(0.001 + (r * r - 1) * 1e-5)]) assert.ok(texts.includes(t), t);
  // cells: 480 − 70 (labels) − 12 wide, from (70, 70); the canvas is as tall as they and the scale need
  const [cells] = images;
  assert.deepEqual([cells.x, cells.y, cells.width, cells.height], [70, 70, 398, 398]);
  assert.deepEqual([canvas.width, canvas.height], [480, 70 + 398 + 54]);
  const pixel = (x: number, y: number) => Array.from(cells.data.subarray(4 * (y * cells.width + x), 4 * (y * cells.width + x) + 4));
  assert.deepEqual(pixel(0, 0), [68, 1, 84, 255], 'the smallest weight is the scale\'s first colour');
  assert.deepEqual(pixel(397, 397), [253, 231, 37, 255], 'the largest its last');
});

test('a long text, or a narrow screen: position ticks instead of tokens; device pixels for sharpness', () => {
  const long = fakeCanvas(480, 480, 480);
  drawHeatmap(long.canvas, block(256), 256, Array.from({ length: 256 }, (_, i) => `t${i}`));
  assert.ok(!long.texts.includes('t1') && long.texts.includes('key position →') && long.texts.includes('query position ↓'));
  for (const tick of ['0', '50', '100', '200', '250']) assert.equal(long.texts.filter((x) => x === tick).length, 2, `tick ${tick} on both axes`);

  (globalThis as { devicePixelRatio?: number }).devicePixelRatio = 2;
  const phone = fakeCanvas(330, 480, 480);
  drawHeatmap(phone.canvas, block(40), 40, Array.from({ length: 40 }, (_, i) => `t${i}`));
  assert.ok(!phone.texts.includes('t1'), '40 tokens do not fit 330 px');
  const side = 330 - 44 - 12;
  assert.deepEqual([phone.canvas.width, phone.canvas.height], [660, 2 * (40 + side + 54)]);
  assert.deepEqual([phone.images[0].x, phone.images[0].width], [88, 2 * side]);
});

test('charts take the width they are given, at the aspect of their attributes', () => {
  const { canvas, texts } = fakeCanvas(330, 640, 360);
  const series = [{ label: 'Nyström (m = 64)', color: '#1f77b4', points: [{ x: 512, y: 3 }, { x: 1024, y: 6 }] }];
  drawChart(canvas, series, 'sequence length n', 'peak MB');
  assert.deepEqual([canvas.width, canvas.height], [330, Math.round((330 * 360) / 640)]);
  for (const t of ['Nyström (m = 64)', 'peak MB', '512', '1024']) assert.ok(texts.includes(t), t);
});
