/**
 * Just enough SVG plotting for reports: panels with linear or log axes, line series with markers,
 * and grouped bars. Output is a plain string, so charts are diffable files that need no browser.
 */

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  /** SVG stroke-dasharray, e.g. '6 3', to tell apart series of one color. */
  dash?: string;
  /** Line width (default 2) and opacity (default 1): a thin faint line shows raw values behind a smoothed one. */
  width?: number;
  opacity?: number;
  /** Point markers (default: when the series has at most 40 points). */
  markers?: boolean;
}

/** Paul Tol's 'bright' colours (distinct for colour-blind readers), then gray and black. */
export const PALETTE = ['#4477aa', '#ee6677', '#228833', '#ccbb44', '#66ccee', '#aa3377', '#bbbbbb', '#000000'];
/** Dash patterns to tell apart series that share a colour. */
export const DASHES = [undefined, '6 3', '2 2', '8 3 2 3', '1 3'];

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  /** Whether a linear y axis starts at zero (default: true; false fits it to the values). */
  yZero?: boolean;
  /** Said in the frame when no series has a point (default: 'no data'). */
  empty?: string;
  /** Where the legend goes (default: top left); 'none' when a legendPanel names the series. */
  legend?: 'top-left' | 'top-right' | 'none';
}

type Box = { x: number; y: number; w: number; h: number };
const MARGIN = { left: 58, right: 12, top: 28, bottom: 42 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v: number) => (Math.abs(v) >= 1000 ? `${+(v / 1000).toPrecision(3)}k` : `${+v.toPrecision(3)}`);

function scale(lo: number, hi: number, log: boolean, from: number, to: number): (v: number) => number {
  const f = log ? Math.log10 : (v: number) => v;
  const [a, b] = [f(lo), f(hi)];
  return (v) => from + ((f(v) - a) / (b - a || 1)) * (to - from);
}

/** Tick values: powers of ten (and 2×, 5×) for log axes, about five round steps for linear ones. */
function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [1, 2, 5]) if (m * 10 ** e >= lo * 0.999 && m * 10 ** e <= hi * 1.001) out.push(m * 10 ** e);
    }
    return out;
  }
  const raw = (hi - lo) / 5;
  const step = [1, 2, 5, 10].map((m) => m * 10 ** Math.floor(Math.log10(raw || 1))).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function range(values: number[], log: boolean, zero: boolean): [number, number] {
  let [lo, hi] = [Math.min(...values), Math.max(...values)];
  if (zero && !log) lo = Math.min(0, lo);
  if (log) return [lo / 1.3, hi * 1.3];
  const pad = (hi - lo) * 0.05 || 1;
  return [zero ? lo : lo - pad, hi + pad];
}

const title = (box: Box, text: string) => `<text x="${box.x + box.w / 2}" y="${box.y + 16}" text-anchor="middle" font-weight="bold">${esc(text)}</text>`;

function frame(box: Box, panel: Panel, x: (v: number) => number, y: (v: number) => number, xTicks: number[], yTicks: number[], xTickLabel = num): string[] {
  const { left, top, w, h } = inner(box);
  const out = [title(box, panel.title)];
  out.push(`<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (const t of yTicks) out.push(`<line x1="${left}" x2="${left + w}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/><text x="${left - 4}" y="${y(t) + 4}" text-anchor="end">${num(t)}</text>`);
  for (const t of xTicks) out.push(`<text x="${x(t)}" y="${top + h + 14}" text-anchor="middle">${esc(xTickLabel(t))}</text>`);
  out.push(`<text x="${left + w / 2}" y="${top + h + 32}" text-anchor="middle">${esc(panel.xLabel)}</text>`);
  out.push(`<text transform="translate(${box.x + 14},${top + h / 2}) rotate(-90)" text-anchor="middle">${esc(panel.yLabel)}</text>`);
  return out;
}

const inner = (box: Box) => ({ left: box.x + MARGIN.left, top: box.y + MARGIN.top, w: box.w - MARGIN.left - MARGIN.right, h: box.h - MARGIN.top - MARGIN.bottom });

/** One entry per distinct name, colour and dash: series that share all three (e.g. seeds of one run) share an entry. */
function legend(box: Box, all: { name: string; color: string; dash?: string }[], corner: Panel['legend'] = 'top-left'): string[] {
  if (corner === 'none') return [];
  const key = (e: (typeof all)[number]) => `${e.name}\u0000${e.color}\u0000${e.dash ?? ''}`;
  const entries = all.filter((e, i) => all.findIndex((f) => key(f) === key(e)) === i);
  const { w, h, ...at } = inner(box);
  const [left, top] = [corner === 'top-right' ? at.left + w - 175 : at.left, at.top];
  return entries.flatMap((e, i) => [
    e.dash
      ? `<line x1="${left + 6}" x2="${left + 20}" y1="${top + 13 + i * 15}" y2="${top + 13 + i * 15}" stroke="${e.color}" stroke-width="2" stroke-dasharray="${e.dash}"/>`
      : `<rect x="${left + 8}" y="${top + 8 + i * 15}" width="10" height="10" fill="${e.color}"/>`,
    `<text x="${left + 22}" y="${top + 17 + i * 15}">${esc(e.name)}</text>`,
  ]);
}

/** Line series with point markers. */
export function linePanel(box: Box, panel: Panel, series: Series[]): string {
  const all = series.flatMap((s) => s.points);
  const { left, top, w, h } = inner(box);
  if (all.length === 0) {
    const note = `<text x="${left + w / 2}" y="${top + h / 2}" text-anchor="middle" fill="#999">${esc(panel.empty ?? 'no data')}</text>`;
    return [...frame(box, panel, () => 0, () => 0, [], []), note].join('\n');
  }
  const [xl, xh] = range(all.map((p) => p[0]), !!panel.xLog, false);
  const [yl, yh] = range(all.map((p) => p[1]), !!panel.yLog, !panel.yLog && panel.yZero !== false);
  const x = scale(xl, xh, !!panel.xLog, left, left + w);
  const y = scale(yl, yh, !!panel.yLog, top + h, top);
  const out = frame(box, panel, x, y, ticks(xl, xh, !!panel.xLog), ticks(yl, yh, !!panel.yLog));
  for (const s of series) {
    const pts = s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`);
    const style = `${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}${s.opacity !== undefined ? ` stroke-opacity="${s.opacity}"` : ''}`;
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="${s.width ?? 2}"${style} points="${pts.join(' ')}"/>`);
    if (s.markers ?? s.points.length <= 40) for (const p of pts) out.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${s.color}"/>`);
  }
  return [...out, ...legend(box, series, panel.legend)].join('\n');
}

/** Bars per group (e.g. task) and series (e.g. model); `marks` draws a reference value as a black tick over a bar. */
export function barPanel(box: Box, panel: Panel, groups: string[], series: { name: string; color: string; values: (number | undefined)[]; marks?: (number | undefined)[] }[]): string {
  const { left, top, w, h } = inner(box);
  const values = series.flatMap((s) => [...s.values, ...(s.marks ?? [])]).filter((v): v is number => v !== undefined);
  const [, yh] = range(values.length ? values : [1], false, true);
  const y = scale(0, yh, false, top + h, top);
  const slot = w / Math.max(1, groups.length);
  const bar = (slot * 0.8) / Math.max(1, series.length);
  const out = frame(box, panel, (i) => left + slot * (i + 0.5), y, groups.map((_, i) => i), ticks(0, yh, false), (i) => groups[i]);
  series.forEach((s, k) => groups.forEach((_, g) => {
    const bx = left + slot * g + slot * 0.1 + k * bar;
    const v = s.values[g];
    if (v !== undefined) out.push(`<rect x="${bx.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bar - 2).toFixed(1)}" height="${(top + h - y(v)).toFixed(1)}" fill="${s.color}"><title>${esc(`${s.name}: ${num(v)}`)}</title></rect>`);
    const m = s.marks?.[g];
    if (m !== undefined) out.push(`<line x1="${bx.toFixed(1)}" x2="${(bx + bar - 2).toFixed(1)}" y1="${y(m).toFixed(1)}" y2="${y(m).toFixed(1)}" stroke="#000" stroke-width="2"/>`);
  }));
  return [...out, ...legend(box, series)].join('\n');
}

/** A panel that only names series (when several panels share them): a title, then one entry per series. */
export function legendPanel(box: Box, heading: string, entries: { name: string; color: string; dash?: string }[]): string {
  return [title(box, heading), ...legend(box, entries)].join('\n');
}

/** Panels laid out on a grid of `columns`, and a `footer` across the whole width below them (a shared legend), as one SVG document. */
export function svgDocument(panels: ((box: Box) => string)[], columns = 2, panelWidth = 480, panelHeight = 320, footer?: { height: number; draw: (box: Box) => string }): string {
  const rows = Math.ceil(panels.length / columns);
  const [W, H] = [columns * panelWidth, rows * panelHeight + (footer?.height ?? 0)];
  const body = panels.map((draw, i) => draw({ x: (i % columns) * panelWidth, y: Math.floor(i / columns) * panelHeight, w: panelWidth, h: panelHeight }));
  if (footer) body.push(footer.draw({ x: 0, y: rows * panelHeight, w: W, h: footer.height }));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">\n<rect width="${W}" height="${H}" fill="#fff"/>\n${body.join('\n')}\n</svg>\n`;
}
