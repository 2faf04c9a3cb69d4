/** Canvas drawings of the demo: line charts (time and memory vs sequence length, loss vs step), and what they share with the heat map (draw-heatmap.ts). */

/**
 * Sizes a canvas's pixels to its displayed width (sharp on phones and high-density screens), keeping
 * the aspect ratio of its width and height attributes in the page, or the height `height` gives for
 * the width. Returns a white context that draws in CSS pixels, and its size in them.
 */
export function fitCanvas(canvas: HTMLCanvasElement, height?: (width: number) => number): { ctx: CanvasRenderingContext2D; W: number; H: number; dpr: number } {
  const W = displayWidth(canvas);
  canvas.dataset.aspect ??= String(canvas.height / canvas.width);
  const H = Math.round(height ? height(W) : W * Number(canvas.dataset.aspect));
  const dpr = globalThis.devicePixelRatio || 1;
  canvas.width = Math.round(W * dpr);
  canvas.height = Math.round(H * dpr);
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  ctx.font = '11px system-ui, sans-serif';
  return { ctx, W, H, dpr };
}

/** The canvas's width in the page, in CSS pixels; its width attribute as the page first had it where it is not laid out. */
export function displayWidth(canvas: HTMLCanvasElement): number {
  canvas.dataset.width ??= String(canvas.width);
  return Math.round(canvas.clientWidth || Number(canvas.dataset.width));
}

/** Dark blue → teal → yellow. */
export function viridisLike(t: number): [number, number, number] {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1);
  const i = Math.floor(x);
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(stops[i][c] + f * (stops[i + 1][c] - stops[i][c]))) as [number, number, number];
}

export interface Series {
  label: string;
  color: string;
  points: { x: number; y: number }[];
}

/** Where values fall on an axis (0 at its start, 1 at its end) and the gridlines to draw. */
interface Axis {
  at(v: number): number;
  ticks: number[];
}

/** Whole powers of `base` around the values (time against sequence length). */
function logAxis(values: number[], base: number): Axis {
  const log = (v: number) => Math.log(Math.max(v, 1e-3)) / Math.log(base);
  const lo = Math.floor(Math.min(...values.map(log)));
  const hi = Math.ceil(Math.max(...values.map(log), lo + 1));
  return { at: (v) => (log(v) - lo) / (hi - lo), ticks: Array.from({ length: hi - lo + 1 }, (_, i) => base ** (lo + i)) };
}

/** Round steps of 1, 2 or 5 × 10^k, about five of them (loss against step). */
function linearAxis(values: number[]): Axis {
  const [min, max] = [Math.min(...values), Math.max(...values)];
  const raw = (max - min || Math.abs(max) || 1) / 5;
  const unit = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * unit).find((s) => s >= raw)!;
  const [lo, hi] = [Math.floor(min / step) * step, Math.max(Math.ceil(max / step), Math.floor(min / step) + 1) * step];
  const ticks = Array.from({ length: Math.round((hi - lo) / step) + 1 }, (_, i) => Number((lo + i * step).toPrecision(12)));
  return { at: (v) => (v - lo) / (hi - lo), ticks };
}

/**
 * Lines with a legend. 'log': powers of two on x, decades on y (time against sequence length);
 * 'linear': round steps on both (a loss curve).
 */
export function drawChart(canvas: HTMLCanvasElement, series: Series[], xLabel: string, yLabel: string, scale: 'log' | 'linear' = 'log'): void {
  const { ctx, W, H } = fitCanvas(canvas);
  const pad = { left: 56, right: 16, top: 16, bottom: 40 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return;
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const [ax, ay] = scale === 'log' ? [logAxis(xs, 2), logAxis(ys, 10)] : [linearAxis(xs), linearAxis(ys)];
  const px = (x: number) => pad.left + ax.at(x) * (W - pad.left - pad.right);
  const py = (y: number) => H - pad.bottom - ay.at(y) * (H - pad.top - pad.bottom);

  ctx.strokeStyle = '#ddd';
  ctx.fillStyle = '#444';
  ctx.textAlign = 'center';
  for (const t of ax.ticks) {
    const x = px(t);
    ctx.beginPath();
    ctx.moveTo(x, pad.top);
    ctx.lineTo(x, H - pad.bottom);
    ctx.stroke();
    ctx.fillText(String(t), x, H - pad.bottom + 14);
  }
  ctx.textAlign = 'right';
  for (const t of ay.ticks) {
    const y = py(t);
    ctx.beginPath();
    ctx.moveTo(pad.left, y);
    ctx.lineTo(W - pad.right, y);
    ctx.stroke();
    ctx.fillText(String(t), pad.left - 6, y + 4);
  }
  ctx.textAlign = 'center';
  ctx.fillText(xLabel, (pad.left + W - pad.right) / 2, H - 8);
  ctx.save();
  ctx.translate(14, (pad.top + H - pad.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(yLabel, 0, 0);
  ctx.restore();

  series.forEach((s, k) => {
    ctx.strokeStyle = ctx.fillStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.points.forEach((p, i) => (i === 0 ? ctx.moveTo(px(p.x), py(p.y)) : ctx.lineTo(px(p.x), py(p.y))));
    ctx.stroke();
    for (const p of s.points) ctx.fillRect(px(p.x) - 3, py(p.y) - 3, 6, 6);
    // a falling curve starts top-left: keep the legend out of its way
    ctx.textAlign = scale === 'log' ? 'left' : 'right';
    ctx.fillText(s.label, scale === 'log' ? pad.left + 10 : W - pad.right - 10, pad.top + 14 + 16 * k);
  });
  ctx.lineWidth = 1;
}
