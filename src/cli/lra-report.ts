/**
 * `nystromformer lra-report DIR… [--scaling FILE] [--out DIR]`: the runs of `nystromformer lra`
 * side by side with the paper's Long Range Arena numbers (docs/algorithm.md §3) as markdown, and an SVG chart:
 * test accuracy per task and model, validation accuracy during training, and — from the JSON lines of
 * `bench lra-step` — time and memory of a training step against length.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';
import { makeDir } from '../io/make-dir.js';
import { isKnown } from '../io/lookup.js';
import { LRA_SETTINGS } from '../data/index.js';
import { readRunLog } from './run-log.js';
import { barPanel, DASHES, linePanel, PALETTE, svgDocument, type Series } from './svg-chart.js';

const TASKS = ['listops', 'text', 'retrieval', 'image', 'pathfinder'] as const;

/** Test accuracy (%) reported by the paper, by model. */
const PAPER: Record<string, number[]> = {
  Standard: [37.1, 65.02, 79.35, 38.2, 74.16],
  Reformer: [19.05, 64.88, 78.64, 43.29, 69.36],
  Linformer: [37.25, 55.91, 79.37, 37.84, 67.6],
  Performer: [18.8, 63.81, 78.62, 37.07, 69.87],
  'Nyströmformer': [37.15, 65.52, 79.56, 41.58, 70.94],
};

/** The paper's row for one of our attention names. */
function paperModel(attention: string): string {
  if (attention.startsWith('softmax')) return 'Standard';
  if (attention.startsWith('nystrom')) return 'Nyströmformer';
  return attention.startsWith('linformer') ? 'Linformer' : 'Performer';
}

const [standard, nystrom, linformer, performer, ...EXTRA] = PALETTE;
const COLORS: Record<string, string> = { Standard: standard, 'Nyströmformer': nystrom, Linformer: linformer, Performer: performer };

export interface Run {
  dir: string;
  result: { task: string; attention: string; seed?: number; steps: number; batch: number; length: number; lr: number; train_examples?: number; data?: string;
    val_accuracy: number; test_accuracy: number; ms_per_step: number; peak_mb: number;
    /** The step whose weights the test scored (the best validation); absent in runs that tested their last weights. */
    best_step?: number;
    /** The fixed input length (0 or absent: each batch padded to its longest input). */
    pad_to?: number;
    /** ListOps fed without its closing brackets (--drop-brackets). */
    drop_brackets?: boolean;
    /** Generated ListOps: the generator's version (2: LRA's tree depth; absent in runs before it was recorded). */
    generator?: number;
    /** Who trained it, when not this library (scripts/lra/lra_torch.py writes 'PyTorch'). */
    implementation?: string };
  curve: [number, number][];
}

interface StepBench { attention: string; n: number; batch: number; ms: number; peak_mb: number }

function readRun(dir: string): Run {
  const path = join(dir, 'result.json');
  let result: Run['result'];
  try {
    result = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not a readable run result (${(e as Error).message})`);
  }
  for (const key of ['task', 'attention', 'test_accuracy', 'ms_per_step'] as const) {
    if (result[key] === undefined) throw new Error(`${path}: missing '${key}' (is this a folder written by nystromformer lra?)`);
  }
  const log = join(dir, 'train.jsonl');
  const { evals, warnings } = existsSync(log) ? readRunLog(log) : { evals: [], warnings: [] };
  for (const w of warnings) console.warn(`lra-report: ${w}`);
  const curve = evals.filter((e) => Number.isFinite(e.accuracy)).map((e): [number, number] => [e.step, 100 * e.accuracy]);
  return { dir, result, curve };
}

/** Run folders: each DIR holding result.json, or whose subfolders do. */
export function findRuns(dirs: string[]): Run[] {
  return dirs.flatMap((dir) => {
    if (existsSync(join(dir, 'result.json'))) return [readRun(dir)];
    const subs = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'result.json'))) : [];
    if (subs.length === 0) throw new Error(`${dir}: no result.json here or in its subfolders (run nystromformer lra --out ${dir} first)`);
    return subs.map((d) => readRun(join(dir, d.name))).sort((a, b) => a.dir.localeCompare(b.dir));
  });
}

export function readScaling(path: string): StepBench[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    const r = JSON.parse(l);
    if (r.bench !== 'lra-step') throw new Error(`${path}:${i + 1}: not a bench lra-step line`);
    return r as StepBench;
  });
}

const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(1) : '–');

/** A run's model as the report names it: the attention, and who trained it when not this library. */
const modelOf = (r: Run) => (r.result.implementation ? `${r.result.attention}, ${r.result.implementation}` : r.result.attention);

const runsOf = (runs: Run[], task: string, model: string) => runs.filter((r) => r.result.task === task && modelOf(r) === model);

/** Whether a run had the paper's budget for its task: its steps, length and batch (docs/algorithm.md §3). */
export function isPaperBudget(r: Run): boolean {
  if (!isKnown(LRA_SETTINGS, r.result.task)) return false; // not an LRA task: no paper budget to match
  const task = LRA_SETTINGS[r.result.task];
  return r.result.steps === task.steps && r.result.length === task.length && r.result.batch === task.batchSize;
}

/** How the run fed its inputs, where not as batches padded to their longest: a fixed length, ListOps without brackets. */
const feeding = (r: Run) => [r.result.pad_to ? `padded to ${r.result.pad_to}` : '', r.result.drop_brackets ? 'no ]' : ''].filter(Boolean).join(', ');

/** Which ListOps generator made the run's data, for runs that recorded it. */
const generatorOf = (r: Run) => (r.result.generator ? `generator ${r.result.generator}` : '');

/** The run's data, with its generator where recorded. */
const dataOf = (r: Run) => `${r.result.data ?? '–'}${generatorOf(r) ? ` (${generatorOf(r)})` : ''}`;

/** Seeds are averaged only within one budget, fed one way, on one kind of data. */
const budgetKey = (r: Run) => `${r.result.steps}/${r.result.length}/${r.result.batch}/${feeding(r)}/${r.result.generator ?? ''}`;

/** Mean test accuracy (%) of several runs (the seeds of one budget). */
function meanAccuracy(runs: Run[]): number | undefined {
  return runs.length ? (100 * runs.reduce((sum, r) => sum + r.result.test_accuracy, 0)) / runs.length : undefined;
}

/** Runs grouped by their budget (steps, length, batch), fewest steps first: seeds are only averaged within one budget. */
function byBudget(runs: Run[]): Run[][] {
  const keys = [...new Set(runs.map(budgetKey))];
  const groups = keys.map((k) => runs.filter((r) => budgetKey(r) === k));
  return groups.sort((a, b) => a[0].result.steps - b[0].result.steps || a[0].result.length - b[0].result.length || a[0].result.batch - b[0].result.batch);
}

/** The runs of one task and attention with the longest budget: what the chart shows. */
const longestBudget = (runs: Run[]): Run[] => byBudget(runs).at(-1) ?? [];

/** One table cell: per budget, a single run, or several seeds as their mean and each value. */
function accuracyCell(runs: Run[]): string {
  if (runs.length === 0) return '–';
  const groups = byBudget(runs);
  // length and batch are named only where they tell this cell's budgets apart
  const shapes = new Set(groups.map((g) => `${g[0].result.length}/${g[0].result.batch}`));
  const feedings = new Set(groups.map((g) => feeding(g[0])));
  return groups.map((group) => {
    const { length, batch } = group[0].result;
    const fed = (feedings.size > 1 ? `, ${feeding(group[0]) || 'batches padded to their longest'}` : '') +
      (generatorOf(group[0]) ? `, ${generatorOf(group[0])}` : '');
    const budget = `${group[0].result.steps} steps${shapes.size > 1 ? ` × ${batch}, length ${length}` : ''}${fed}`;
    if (group.length === 1) return `${pct(group[0].result.test_accuracy)} (${budget}, seed ${group[0].result.seed ?? '–'})`;
    const seeds = group.map((r) => r.result.seed ?? '–').join(', ');
    return `mean ${meanAccuracy(group)!.toFixed(1)} over seeds ${seeds}: ${group.map((r) => pct(r.result.test_accuracy)).join(', ')} (${budget})`;
  }).join('<br>');
}

export function reportMarkdown(runs: Run[], scaling: StepBench[]): string {
  const tasks = TASKS.filter((t) => runs.some((r) => r.result.task === t));
  const models = [...new Set(runs.map(modelOf))];
  const lines = ['## Test accuracy (%)', '', `| model | ${tasks.join(' | ')} |`, `|---|${tasks.map(() => '---|').join('')}`];
  // reduced budgets first, then the paper's budget right above the paper's own numbers
  const row = (model: string, label: string, chosen: Run[]) => {
    if (chosen.some((r) => modelOf(r) === model)) lines.push(`| ${model} (${label}) | ${tasks.map((t) => accuracyCell(runsOf(chosen, t, model))).join(' | ')} |`);
  };
  const paper = runs.filter(isPaperBudget);
  for (const m of models) row(m, 'here', runs.filter((r) => !isPaperBudget(r)));
  for (const m of models) row(m, 'here, paper budget', paper);
  for (const [model, values] of Object.entries(PAPER)) lines.push(`| ${model} (paper) | ${tasks.map((t) => values[TASKS.indexOf(t)].toFixed(2)).join(' | ')} |`);
  lines.push('', "The paper trained with its full budgets on the official data (docs/algorithm.md §3; Image is CIFAR-10); runs here state their budget and data below (paper: the paper's steps, length and batch for the task; padded to N: every input padded to N tokens, as the official code; no ]: ListOps without its closing brackets, as the paper's pipeline fed it; generator 2: ListOps generated with LRA's tree depth, where runs that name no generator drew trees one level deeper).", '', '## Runs', '',
    '| task | model | seed | budget | steps | batch | length | lr | train examples | data | val acc | test acc | tested | ms/step | peak MB |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const run of runs) {
    const r = run.result;
    const length = `${r.length}${feeding(run) ? ` (${feeding(run)})` : ''}`;
    lines.push(`| ${r.task} | ${modelOf(run)} | ${r.seed ?? '–'} | ${isPaperBudget(run) ? 'paper' : 'reduced'} | ${r.steps} | ${r.batch} | ${length} | ${r.lr} | ${r.train_examples ?? '–'} | ${dataOf(run)} | ${pct(r.val_accuracy)} | ${pct(r.test_accuracy)} | ${r.best_step === undefined ? 'last' : `best val, step ${r.best_step}`} | ${r.ms_per_step} | ${r.peak_mb} |`);
  }
  if (scaling.length > 0) {
    const ns = [...new Set(scaling.map((s) => s.n))].sort((a, b) => a - b);
    lines.push('', `## One training step (batch ${scaling[0].batch}): ms, peak MB`, '', `| attention | ${ns.join(' | ')} |`, `|---|${ns.map(() => '---|').join('')}`);
    for (const a of [...new Set(scaling.map((s) => s.attention))]) {
      lines.push(`| ${a} | ${ns.map((n) => scaling.find((s) => s.attention === a && s.n === n)).map((s) => (s ? `${s.ms} ms, ${s.peak_mb} MB` : '–')).join(' | ')} |`);
    }
  }
  return lines.join('\n') + '\n';
}

/** A validation curve's legend name: task and attention, with the budget and the number of seeds when there are several. */
function curveName(shown: Run[], r: Run): string {
  const seeds = runsOf(shown, r.result.task, modelOf(r)).filter((s) => s.curve.length > 0).length;
  return `${r.result.task} ${modelOf(r)}${seeds > 1 ? ` (${seeds} seeds, ${r.result.steps} steps)` : ''}`;
}

export function reportSvg(runs: Run[], scaling: StepBench[]): string {
  const tasks = TASKS.filter((t) => runs.some((r) => r.result.task === t));
  const attentions = [...new Set([...runs.map(modelOf), ...scaling.map((s) => s.attention)])];
  const colorOf = (a: string) => (attentions.filter((b) => paperModel(b) === paperModel(a)).length === 1 ? COLORS[paperModel(a)] : EXTRA[attentions.indexOf(a) % EXTRA.length]);
  const runAttentions = attentions.filter((a) => runs.some((r) => modelOf(r) === a));
  // per task and attention, only the longest budget: seeds of different budgets are not averaged together
  const shown = tasks.flatMap((t) => runAttentions.flatMap((a) => longestBudget(runsOf(runs, t, a))));
  const bars = runAttentions.map((a) => ({ name: a, color: colorOf(a), values: tasks.map((t) => meanAccuracy(runsOf(shown, t, a))), marks: tasks.map((t) => PAPER[paperModel(a)][TASKS.indexOf(t)]) }));
  const curves: Series[] = shown.filter((r) => r.curve.length > 0).map((r) => ({
    name: curveName(shown, r), color: colorOf(modelOf(r)), points: r.curve, dash: DASHES[tasks.indexOf(r.result.task as (typeof TASKS)[number])],
  }));
  const perAttention = (value: (s: StepBench) => number): Series[] => [...new Set(scaling.map((s) => s.attention))].map((a) => ({
    name: a, color: colorOf(a), points: scaling.filter((s) => s.attention === a).sort((x, y) => x.n - y.n).map((s) => [s.n, value(s)] as [number, number]),
  }));
  const batch = scaling[0]?.batch ?? 1;
  return svgDocument([
    (box) => barPanel(box, { title: 'Test accuracy (bars: here, mean over seeds of the longest budget; ticks: paper)', xLabel: 'task', yLabel: 'accuracy %' }, tasks, bars),
    (box) => linePanel(box, { title: 'Validation accuracy during training', xLabel: 'step', yLabel: 'accuracy %', legend: 'top-right' }, curves),
    (box) => linePanel(box, { title: `Training step time (batch ${batch})`, xLabel: 'tokens', yLabel: 'ms', xLog: true, yLog: true }, perAttention((s) => s.ms)),
    (box) => linePanel(box, { title: `Training step peak memory (batch ${batch})`, xLabel: 'tokens', yLabel: 'MB', xLog: true, yLog: true }, perAttention((s) => Math.max(1, s.peak_mb))),
  ]);
}

export interface LraReportOptions {
  scaling?: string;
  out?: string;
}

export function lraReportCommand(dirs: string[], o: LraReportOptions): void {
  const runs = findRuns(dirs);
  const scaling = o.scaling ? readScaling(o.scaling) : [];
  const markdown = reportMarkdown(runs, scaling);
  if (o.out) {
    makeDir(o.out);
    writeFileAtomicSync(join(o.out, 'lra-report.md'), `# Long Range Arena: runs on this machine\n\n![chart](lra-report.svg)\n\n${markdown}`);
    writeFileAtomicSync(join(o.out, 'lra-report.svg'), reportSvg(runs, scaling));
    console.error(`wrote ${join(o.out, 'lra-report.md')} and ${join(o.out, 'lra-report.svg')}`);
  }
  process.stdout.write(markdown);
}
