/**
 * The demo's attention heat map: an r×r block of one head's attention matrix, query positions down
 * and key positions across, the tokens themselves along the axes when there are few enough to read,
 * and a colour scale under it with the block's smallest and largest weights.
 */
import { displayWidth, fitCanvas, viridisLike } from './draw.js';

/** Token labels are drawn for at most this many tokens, and only when a cell is at least MIN_CELL pixels. */
export const TOKEN_LABELS_UP_TO = 48;
const MIN_CELL = 7;
/** Widest drawing in CSS pixels (the page's CSS caps the canvas at the same). */
const MAX_WIDTH = 480;

/** Position ticks: a step of 1, 2 or 5 × 10^k, with at most `most` ticks over 0..r−1. */
export function positionTicks(r: number, most: number): number[] {
  const raw = r / Math.max(1, most);
  const unit = 10 ** Math.floor(Math.log10(Math.max(1, raw)));
  const step = [1, 2, 5, 10].map((f) => f * unit).find((s) => s >= raw) ?? 10 * unit;
  return Array.from({ length: Math.ceil(r / step) }, (_, i) => i * step);
}

/** A weight for the colour scale's labels: two significant digits, exponent form when small. */
export function formatWeight(v: number): string {
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(2)));
}

/** Short enough to sit beside a row: long tokens end in '…'. */
const shortToken = (t: string) => (t.length > 8 ? `${t.slice(0, 7)}…` : t);

/**
 * (r, r) row-major `values` with axes and a colour scale; `tokens`: the strings of the first r tokens.
 * Colour ∝ √((v − min) / (max − min)) over the block: the square root keeps small weights visible.
 */
export function drawHeatmap(canvas: HTMLCanvasElement, values: Float32Array, r: number, tokens?: readonly string[]): void {
  let [lo, hi] = [Infinity, -Infinity];
  for (let i = 0; i < r * r; i++) [lo, hi] = [Math.min(lo, values[i]), Math.max(hi, values[i])];
  const margin = (labels: boolean) => ({ left: labels ? 70 : 44, top: labels ? 70 : 40, right: 12, bottom: 54 });
  const sideFor = (W: number, labels: boolean) => Math.min(MAX_WIDTH, W) - margin(labels).left - margin(labels).right;
  const labelled = !!tokens && r <= TOKEN_LABELS_UP_TO && sideFor(displayWidth(canvas), true) / r >= MIN_CELL;
  const m = margin(labelled);
  const { ctx, W, dpr } = fitCanvas(canvas, (w) => m.top + sideFor(w, labelled) + m.bottom);
  const side = sideFor(W, labelled);
  const cell = side / r;

  // the cells, written at device resolution (putImageData ignores the transform)
  const px = Math.max(1, Math.round(side * dpr));
  const image = ctx.createImageData(px, px);
  const colours = new Map<number, [number, number, number]>();
  for (let y = 0; y < px; y++) {
    const i = Math.min(r - 1, Math.floor((y / px) * r));
    for (let x = 0; x < px; x++) {
      const v = values[i * r + Math.min(r - 1, Math.floor((x / px) * r))];
      let c = colours.get(v);
      if (!c) colours.set(v, (c = viridisLike(Math.sqrt(hi > lo ? (v - lo) / (hi - lo) : 0))));
      const at = 4 * (y * px + x);
      image.data[at] = c[0];
      image.data[at + 1] = c[1];
      image.data[at + 2] = c[2];
      image.data[at + 3] = 255;
    }
  }
  ctx.putImageData(image, Math.round(m.left * dpr), Math.round(m.top * dpr));
  ctx.strokeStyle = '#999';
  ctx.strokeRect(m.left, m.top, side, side);

  ctx.fillStyle = '#444';
  const centre = (i: number) => (i + 0.5) * cell;
  if (labelled) {
    ctx.font = `${Math.min(11, Math.floor(cell))}px system-ui, sans-serif`;
    ctx.textAlign = 'right';
    tokens!.slice(0, r).forEach((t, i) => {
      ctx.fillText(shortToken(t), m.left - 4, m.top + centre(i) + 3);
      ctx.save();
      ctx.translate(m.left + centre(i) + 3, m.top - 4);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'left';
      ctx.fillText(shortToken(t), 0, 0);
      ctx.restore();
    });
    ctx.font = '11px system-ui, sans-serif';
  } else {
    const ticks = positionTicks(r, Math.floor(side / 36));
    ctx.textAlign = 'right';
    for (const t of ticks) ctx.fillText(String(t), m.left - 4, m.top + centre(t) + 4);
    ctx.textAlign = 'center';
    for (const t of ticks) ctx.fillText(String(t), m.left + centre(t), m.top - 6);
  }
  ctx.textAlign = 'center';
  ctx.fillText(labelled ? 'key token →' : 'key position →', m.left + side / 2, 12);
  ctx.save();
  ctx.translate(12, m.top + side / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(labelled ? 'query token ↓' : 'query position ↓', 0, 0);
  ctx.restore();

  // the colour scale: the block's weights from smallest to largest
  const barTop = m.top + side + 10;
  for (let x = 0; x < side; x++) {
    const [red, green, blue] = viridisLike(Math.sqrt(x / Math.max(1, side - 1)));
    ctx.fillStyle = `rgb(${red},${green},${blue})`;
    ctx.fillRect(m.left + x, barTop, 1.5, 10);
  }
  ctx.fillStyle = '#444';
  ctx.textAlign = 'left';
  ctx.fillText(formatWeight(lo), m.left, barTop + 22);
  ctx.textAlign = 'right';
  ctx.fillText(formatWeight(hi), m.left + side, barTop + 22);
  ctx.textAlign = 'center';
  ctx.fillText('attention weight, smallest to largest here (colour ∝ √)', m.left + side / 2, barTop + 38);
}
