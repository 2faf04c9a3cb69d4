/** Canvas drawings of the demo: an attention heat map and a log–log chart of time vs sequence length. */

/** (r, r) row-major values as an r×r image, each row scaled to its own maximum (rows sum to 1, so small rows would vanish). */
export function drawHeatmap(canvas: HTMLCanvasElement, values: Float32Array, r: number): void {
  canvas.width = r;
  canvas.height = r;
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(r, r);
  for (let i = 0; i < r; i++) {
    let max = 0;
    for (let j = 0; j < r; j++) max = Math.max(max, values[i * r + j]);
    for (let j = 0; j < r; j++) {
      const t = max > 0 ? Math.max(0, values[i * r + j]) / max : 0;
      const [red, green, blue] = viridisLike(Math.sqrt(t)); // sqrt: small weights stay visible
      const at = 4 * (i * r + j);
      image.data.set([red, green, blue, 255], at);
    }
  }
  ctx.putImageData(image, 0, 0);
}

/** Dark blue → teal → yellow. */
function viridisLike(t: number): [number, number, number] {
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

/** Lines on log–log axes (powers of two on x, decades on y), with a legend. */
export function drawChart(canvas: HTMLCanvasElement, series: Series[], xLabel: string, yLabel: string): void {
  const ctx = canvas.getContext('2d')!;
  const { width: W, height: H } = canvas;
  const pad = { left: 56, right: 16, top: 16, bottom: 40 };
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return;
  const lx = all.map((p) => Math.log2(p.x));
  const ly = all.map((p) => Math.log10(Math.max(p.y, 1e-3)));
  const [x0, x1] = [Math.floor(Math.min(...lx)), Math.ceil(Math.max(...lx, Math.min(...lx) + 1))];
  const [y0, y1] = [Math.floor(Math.min(...ly)), Math.ceil(Math.max(...ly, Math.min(...ly) + 1))];
  const px = (x: number) => pad.left + ((Math.log2(x) - x0) / (x1 - x0)) * (W - pad.left - pad.right);
  const py = (y: number) => H - pad.bottom - ((Math.log10(Math.max(y, 1e-3)) - y0) / (y1 - y0)) * (H - pad.top - pad.bottom);

  ctx.font = '11px system-ui, sans-serif';
  ctx.strokeStyle = '#ddd';
  ctx.fillStyle = '#444';
  ctx.textAlign = 'center';
  for (let e = x0; e <= x1; e++) {
    const x = px(2 ** e);
    ctx.beginPath();
    ctx.moveTo(x, pad.top);
    ctx.lineTo(x, H - pad.bottom);
    ctx.stroke();
    ctx.fillText(String(2 ** e), x, H - pad.bottom + 14);
  }
  ctx.textAlign = 'right';
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    ctx.beginPath();
    ctx.moveTo(pad.left, y);
    ctx.lineTo(W - pad.right, y);
    ctx.stroke();
    ctx.fillText(String(10 ** e), pad.left - 6, y + 4);
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
    ctx.textAlign = 'left';
    ctx.fillText(s.label, pad.left + 10, pad.top + 14 + 16 * k);
  });
  ctx.lineWidth = 1;
}
