/**
 * `nystromformer plot RUN_DIR… [--out FILE] [--metric NAME]`: the training curves of `train` and
 * `lra` run folders as one SVG — training loss (smoothed, the raw values faint behind), an evaluation
 * metric and the learning rate against step, one colour per run, and a legend naming each run.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';
import { readRunLog, type RunLog } from './run-log.js';
import { DASHES, legendPanel, linePanel, PALETTE, svgDocument, type Series } from './svg-chart.js';

export interface PlotOptions {
  out?: string;
  metric: string;
}

export interface PlottedRun {
  /** The legend's name: the run folder as given. */
  name: string;
  log: RunLog;
}

/** Past this many points a series keeps every k-th (and its last), so long runs stay small files. */
const MAX_POINTS = 2000;

/** The train.jsonl files named: a run folder, a train.jsonl itself, or a folder whose subfolders are runs. */
export function findLogs(paths: string[]): { name: string; path: string }[] {
  return paths.flatMap((p) => {
    if (!existsSync(p)) throw new Error(`plot: ${p} does not exist`);
    if (statSync(p).isFile()) return [{ name: dirname(p), path: p }];
    if (existsSync(join(p, 'train.jsonl'))) return [{ name: p, path: join(p, 'train.jsonl') }];
    const runs = readdirSync(p, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(p, d.name, 'train.jsonl')))
      .map((d) => ({ name: join(p, d.name), path: join(p, d.name, 'train.jsonl') }))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (runs.length === 0) throw new Error(`plot: ${p} has no train.jsonl, nor has any folder in it (plot reads the log that train and lra write into their --out folder)`);
    return runs;
  });
}

/** Debiased exponential moving average over about `span` steps (TensorBoard's smoothing). */
export function smooth(values: number[], span: number): number[] {
  const w = 1 - 1 / span;
  let [mean, weight] = [0, 0];
  return values.map((v) => {
    mean = w * mean + (1 - w) * v;
    weight = w * weight + (1 - w);
    return mean / weight;
  });
}

/** The smoothing span for a run of n steps: a twentieth of it, between 1 (none) and 100 steps. */
export const smoothingSpan = (n: number) => Math.min(100, Math.max(1, Math.round(n / 20)));

function thin(points: [number, number][]): [number, number][] {
  if (points.length <= MAX_POINTS) return points;
  const k = Math.ceil(points.length / MAX_POINTS);
  return points.filter((_, i) => i % k === 0 || i === points.length - 1);
}

const finite = (points: [number, number][]) => points.filter(([, y]) => Number.isFinite(y));
const fmt = (v: number) => `${+v.toPrecision(3)}`;

/** The legend's line for a run: its name, steps, and the metric's last and best values. */
function describe(run: PlottedRun, metric: string): string {
  const last = run.log.steps.at(-1)?.step ?? run.log.evals.at(-1)?.step ?? 0;
  const evals = run.log.evals.filter((e) => Number.isFinite(e[metric]));
  if (evals.length === 0) return `${run.name} (${last} steps)`;
  // higher is better for every metric but a loss
  const best = evals.reduce((b, e) => ((metric.includes('loss') ? e[metric] < b[metric] : e[metric] > b[metric]) ? e : b));
  return `${run.name} (${last} steps; ${metric} ${fmt(evals.at(-1)![metric])} at the end, best ${fmt(best[metric])} at step ${best.step})`;
}

export function curvesSvg(runs: PlottedRun[], metric: string): string {
  const style = (i: number) => ({ color: PALETTE[i % PALETTE.length], dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length] });
  const loss: Series[] = runs.flatMap((r, i) => {
    const raw = finite(r.log.steps.map((s): [number, number] => [s.step, s.loss]));
    const smoothed = smooth(raw.map(([, y]) => y), smoothingSpan(raw.length));
    return [
      { name: r.name, ...style(i), points: thin(raw), width: 1, opacity: 0.3, markers: false },
      { name: r.name, ...style(i), points: thin(raw.map(([x], j): [number, number] => [x, smoothed[j]])), markers: false },
    ];
  });
  const evals: Series[] = runs.map((r, i) => ({ name: r.name, ...style(i), points: thin(finite(r.log.evals.map((e): [number, number] => [e.step, e[metric]]))) }));
  const lr: Series[] = runs.map((r, i) => ({ name: r.name, ...style(i), points: thin(finite(r.log.steps.map((s): [number, number] => [s.step, s.lr]))), markers: false }));
  const drawn = (series: Series[]) => series.filter((s) => s.points.length > 0); // an evaluation-only log has no loss line
  // loss and metric axes fit their values (differences between runs are small); the learning rate's starts at 0
  const panel = (title: string, yLabel: string, yZero: boolean) => ({ title, xLabel: 'step', yLabel, yZero, legend: 'none' as const, empty: 'no step lines in these logs' });
  const legend = runs.map((r, i) => ({ name: describe(r, metric), ...style(i) }));
  return svgDocument([
    (box) => linePanel(box, panel('Training loss (faint: each step; line: moving average)', 'loss', false), drawn(loss)),
    (box) => linePanel(box, panel(`Evaluation ${metric}`, metric, false), drawn(evals)),
    (box) => linePanel(box, panel('Learning rate', 'learning rate', true), drawn(lr)),
  ], 3, 420, 320, { height: 40 + 15 * legend.length, draw: (box) => legendPanel(box, 'Runs', legend) });
}

/** Reads the runs, checking that there is something to draw; problems with single runs are warnings. */
export function readRuns(paths: string[], metric: string): { runs: PlottedRun[]; warnings: string[] } {
  const runs = findLogs(paths).map(({ name, path }) => ({ name, path, log: readRunLog(path) }));
  const warnings = runs.flatMap((r) => r.log.warnings);
  for (const r of runs) {
    if (r.log.steps.length === 0 && r.log.evals.length === 0) {
      throw new Error(`plot: ${r.path} has no step or eval lines (is it the log of nystromformer train or lra?)`);
    }
  }
  // reproduce.sh keeps only the evaluations of the committed LRA runs
  const evalOnly = runs.filter((r) => r.log.steps.length === 0).map((r) => r.path);
  if (evalOnly.length > 0) warnings.push(`plot: eval lines only, so no loss or learning-rate curve, in ${evalOnly.join(', ')}`);
  const has = (r: (typeof runs)[number]) => r.log.evals.some((e) => Number.isFinite(e[metric]));
  if (!runs.some(has)) {
    const fields = [...new Set(runs.flatMap((r) => r.log.evals.flatMap((e) => Object.keys(e).filter((k) => k !== 'step' && Number.isFinite(e[k])))))];
    throw new Error(`plot: no evaluation in ${runs.map((r) => r.path).join(', ')} has a value for '${metric}'${fields.length ? ` (--metric can be ${fields.join(', ')})` : ''}`);
  }
  for (const r of runs) if (!has(r)) warnings.push(`plot: ${r.path} has no evaluation with '${metric}'`);
  return { runs: runs.map(({ name, log }) => ({ name, log })), warnings };
}

export function plotCommand(paths: string[], o: PlotOptions): void {
  const { runs, warnings } = readRuns(paths, o.metric);
  for (const w of warnings) console.warn(w);
  const first = paths[0];
  const out = o.out ?? join(statSync(first).isFile() ? dirname(first) : first, 'curves.svg');
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomicSync(out, curvesSvg(runs, o.metric));
  console.log(`wrote ${out} (${runs.length} run${runs.length === 1 ? '' : 's'})`);
}
