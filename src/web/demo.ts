/**
 * The demo page's logic (web/index.html): tokenizes on the page, computes in a Web Worker
 * (demo-worker.ts), draws the results. `window.demo` exposes the same actions as the buttons, for
 * scripts and the end-to-end test.
 */
import { cosineSimilarity, fetchHubModel, Tokenizer } from './index.js';
import type { AttentionTiming, TimingShape } from './demo-compute.js';
import type { DemoReply, DemoRequest, ModelSummary, RunResult } from './demo-protocol.js';
import { maskedTextExamples } from '../data/masking.js';
import { DEMO_TRAINING, syntheticExamples, type TrainStep } from './demo-train.js';
import { drawChart, type Series } from './draw.js';
import { drawHeatmap } from './draw-heatmap.js';
import { droppedFiles, inputFiles, readModelFolder, type PickedFile } from './model-folder.js';

const MODEL_URL = new URL('/models/tiny-mlm/', location.href).href;
/** The Hub the "load by id" button asks: huggingface.co, or `?hub=URL` (a mirror, or the tests' stand-in). */
const HUB = new URLSearchParams(location.search).get('hub') ?? 'https://huggingface.co';
/** `bench attention`'s defaults: 12 heads of 64, 64 landmarks, conv 33 on V. */
const TIMING_SHAPE: TimingShape = { heads: 12, dim: 64, landmarks: 64, conv: 33, seconds: 0.5 };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export interface Ready {
  threads: number;
  build: string;
  device: string;
  model: ModelSummary;
}

export interface TrainView {
  /** What was learned: 'mlm' on document A, or the synthetic task for a classifier. */
  task: 'mlm' | 'synthetic';
  examples: number;
  steps: TrainStep[];
}

export interface RunView extends RunResult {
  tokensA: number;
  tokensB: number;
  similarity: number;
  /** The decoded candidates per mask, best first. */
  candidates: { token: string; score: number }[][];
}

/** The worker with a promise per request: replies come back in order, one computation at a time. */
class Engine {
  readonly #worker = new Worker(new URL('./demo-worker.js', import.meta.url), { type: 'module', name: 'demo' });
  #listener: ((reply: DemoReply) => void) | undefined;

  constructor(onFailure: (message: string) => void) {
    this.#worker.addEventListener('message', (e: MessageEvent<DemoReply>) => this.#listener?.(e.data));
    this.#worker.addEventListener('error', (e) => onFailure(`the worker failed: ${e.message || 'it could not load'}`));
  }

  /** Sends a request and collects replies until `until` says one finishes it. */
  request<T>(message: DemoRequest, until: (reply: DemoReply) => T | undefined, onReply?: (reply: DemoReply) => void, transfer: Transferable[] = []): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#listener = (reply) => {
        if (reply.type === 'error') return reject(new Error(reply.message));
        onReply?.(reply);
        const done = until(reply);
        if (done !== undefined) resolve(done);
      };
      this.#worker.postMessage(message, transfer);
    });
  }
}

let tokenizer: Tokenizer;
let model: ModelSummary;
/** Documents are cut to the model's position table. */
let maxTokens = 0;
const engine = new Engine((message) => setStatus(message, 'error'));
const timings: AttentionTiming[] = [];
/** One loss curve per training run of the current model. */
let lossCurves: Series[] = [];
/** What each canvas shows, drawn again when the page's width changes (the canvases follow it). */
const drawings = new Map<string, () => void>();

function draw(canvasId: string, paint: () => void): void {
  drawings.set(canvasId, paint);
  paint();
}

function setStatus(text: string, state: 'busy' | 'ready' | 'done' | 'error'): void {
  const status = $('status');
  status.textContent = text;
  status.dataset.state = state;
}

function setProgress(done: number, total: number, what: string): void {
  const bar = $<HTMLProgressElement>('progress');
  bar.max = total;
  bar.value = done;
  $('progress-label').textContent = what;
}

async function start(): Promise<Ready> {
  if (!crossOriginIsolated) {
    throw new Error('this page is not cross-origin isolated, so it has no shared memory: serve it with `npx nystromformer serve`');
  }
  setStatus('loading the tokenizer, the model and the kernels…', 'busy');
  const fetchJson = async (name: string) => {
    const response = await fetch(new URL(name, MODEL_URL));
    if (!response.ok) throw new Error(`fetching ${name} failed: ${response.status}`);
    return response.json() as Promise<object>;
  };
  tokenizer = Tokenizer.fromJSON(await fetchJson('tokenizer.json'), await fetchJson('tokenizer_config.json'), await fetchJson('special_tokens_map.json'));
  const params = new URLSearchParams(location.search);
  const threads = Number(params.get('threads')) || navigator.hardwareConcurrency || 1;
  const device = params.get('device') ?? 'auto';
  if (device !== 'auto' && device !== 'webgpu' && device !== 'cpu') throw new Error(`?device= must be auto, webgpu or cpu, got '${device}'`);
  const ready = await engine.request<Ready>({ type: 'init', threads, device, modelUrl: MODEL_URL }, (r) => (r.type === 'ready' ? r : undefined));
  useModel(ready, tokenizer, 'tiny-mlm, shipped with the package (random weights)');
  setStatus('ready', 'ready');
  return ready;
}

/** Shows what the worker loaded and sets the page up for its head. */
function useModel(loaded: Ready, modelTokenizer: Tokenizer, name: string): void {
  const m = (model = loaded.model);
  tokenizer = modelTokenizer;
  maxTokens = m.maxPositions;
  const mlm = m.architecture === 'NystromformerForMaskedLM';
  $('engine').textContent = loaded.device === 'WebAssembly' ? `WebAssembly: ${loaded.threads} kernel threads, ${loaded.build} SIMD` : loaded.device;
  $('model-name').textContent = `${name}: ${m.architecture}, ${m.layers} layers, ${m.heads} heads, hidden ${m.hidden}, ${m.landmarks} landmarks, up to ${m.maxPositions} tokens`;
  fillSelect($<HTMLSelectElement>('layer'), m.layers);
  fillSelect($<HTMLSelectElement>('head'), m.heads);
  $('result-title').textContent = mlm ? 'Fill-mask (top 5 per [MASK])' : 'Classification of document A';
  $('fill').replaceChildren();
  $('train-task').textContent = mlm
    ? `masked-language modelling on document A (sequences of ${Math.min(DEMO_TRAINING.seqLen, maxTokens)} tokens, 15% masked)`
    : 'the embedded synthetic task: which of tokens 5 and 6 occurs more often';
  lossCurves = [];
  showLoss();
  updateCounts();
}

/** Loads a model folder the visitor picked or dropped (or one fetched from the Hub, `named` by its id); on failure the current model stays. */
async function loadFolder(picked: PickedFile[] | Promise<PickedFile[]>, named?: string): Promise<ModelSummary> {
  await ready;
  setStatus('reading the model folder…', 'busy');
  const folder = await readModelFolder(await picked, named);
  const loaded = await engine.request<Ready>(
    { type: 'load', files: folder.files }, (r) => (r.type === 'ready' ? r : undefined), undefined, [folder.files.weights.buffer],
  );
  useModel(loaded, folder.tokenizer, folder.name);
  setStatus(`loaded ${folder.name}`, 'ready');
  return loaded.model;
}

/**
 * Loads a model by Hub id, `owner/name` or `owner/name@revision` (fetched once, then from the
 * browser's Cache API), through the same checks as a picked folder.
 */
async function loadHub(id = $<HTMLInputElement>('hub-id').value.trim()): Promise<ModelSummary> {
  await ready;
  setStatus(`fetching ${id} from ${HUB}…`, 'busy');
  const at = id.indexOf('@');
  const files = await fetchHubModel(at < 0 ? id : id.slice(0, at), {
    endpoint: HUB, revision: at < 0 ? undefined : id.slice(at + 1),
    progressCallback: (e) => e.status === 'progress' && setProgress(e.loaded, e.total, `${e.file}: ${(e.loaded / 1e6).toFixed(1)} MB`),
  });
  return loadFolder([...files].map(([name, bytes]) => ({ path: name, file: new File([bytes as Uint8Array<ArrayBuffer>], name) })), id);
}

function fillSelect(select: HTMLSelectElement, count: number): void {
  select.replaceChildren(...Array.from({ length: count }, (_, i) => new Option(String(i), String(i))));
}

function encode(text: string): { inputIds: number[]; tokens: string[] } {
  return tokenizer.encode(text, { truncation: true, maxLength: maxTokens });
}

function updateCounts(): void {
  if (!tokenizer) return;
  for (const which of ['a', 'b']) {
    $(`count-${which}`).textContent = `${encode($<HTMLTextAreaElement>(`doc-${which}`).value).inputIds.length} tokens`;
  }
}

async function run(): Promise<RunView> {
  await ready;
  setStatus('running…', 'busy');
  const { inputIds: idsA, tokens: tokensA } = encode($<HTMLTextAreaElement>('doc-a').value);
  const idsB = encode($<HTMLTextAreaElement>('doc-b').value).inputIds;
  const request: DemoRequest = {
    type: 'run', idsA, idsB, maskId: tokenizer.maskTokenId, topK: 5,
    layer: Number($<HTMLSelectElement>('layer').value), head: Number($<HTMLSelectElement>('head').value),
  };
  const result = await engine.request<RunResult>(request, (r) => (r.type === 'result' ? r : undefined), (r) => {
    if (r.type === 'progress') setProgress(r.done, r.total, r.what);
  });
  const view: RunView = {
    ...result, tokensA: idsA.length, tokensB: idsB.length, similarity: cosineSimilarity(result.embA, result.embB),
    candidates: result.fill.map((f) => f.tokens.map((t, i) => ({ token: tokenizer.decode([t]), score: f.scores[i] }))),
  };
  showRun(view, tokensA);
  setStatus(`done in ${view.ms.toFixed(0)} ms`, 'done');
  return view;
}

const row = (cells: string[]) => {
  const tr = document.createElement('tr');
  tr.replaceChildren(...cells.map((text) => Object.assign(document.createElement('td'), { textContent: text })));
  return tr;
};

function showRun(view: RunView, tokensA: string[]): void {
  const rows = model.architecture === 'NystromformerForMaskedLM'
    ? view.candidates.map((c, i) => row([`#${i + 1} (token ${view.fill[i].position})`, ...c.map((x) => `${x.token || '∅'} ${(100 * x.score).toFixed(1)}%`)]))
    : view.classes.map((c) => row([c.label, `${(100 * c.score).toFixed(1)}%`, '█'.repeat(Math.round(20 * Math.max(0, Math.min(1, c.score))))]));
  $('fill').replaceChildren(...(rows.length ? rows : [row([`no ${tokenizer.maskToken} in document A`])]));
  $('similarity').textContent = `cosine similarity of A (${view.tokensA} tokens) and B (${view.tokensB} tokens): ${view.similarity.toFixed(4)}`;
  const a = view.attention;
  draw('heatmap', () => drawHeatmap($<HTMLCanvasElement>('heatmap'), a.values, a.r, tokensA));
  $('heatmap-label').textContent = a.m >= a.n
    ? `exact attention (n = ${a.n} ≤ m = ${a.m}), first ${a.r} tokens: row i is how query token i spreads its attention over the keys`
    : `(F·Z)·B from ${a.m} landmarks: the first ${a.r} × ${a.r} of the ${a.n} × ${a.n} matrix; row i is how query token i spreads its attention over the keys`;
  $('shares').textContent = `kernel shares per thread during the run: ${view.shares.join(', ')}`;
}

async function bench(options: { nystrom?: number[]; softmax?: number[]; seconds?: number } = {}): Promise<AttentionTiming[]> {
  await ready;
  setStatus('measuring attention…', 'busy');
  const nystrom = options.nystrom ?? [512, 1024, 2048, 4096, 8192, 16384];
  const softmax = options.softmax ?? [512, 1024, 2048, 4096];
  const total = nystrom.length + softmax.length;
  const measured: AttentionTiming[] = [];
  setProgress(0, total, 'attention timings');
  await engine.request<true>(
    { type: 'bench', nystrom, softmax, shape: { ...TIMING_SHAPE, seconds: options.seconds ?? TIMING_SHAPE.seconds } },
    (r) => (r.type === 'bench-done' ? true : undefined),
    (r) => {
      if (r.type !== 'timing') return;
      measured.push(r.timing);
      timings.push(r.timing);
      setProgress(measured.length, total, `${r.timing.impl} n = ${r.timing.n}: ${r.timing.ms.toFixed(1)} ms`);
      showTimings();
    },
  );
  setStatus('measured', 'done');
  return measured;
}

function showTimings(): void {
  const latest = new Map(timings.map((t) => [`${t.impl} ${t.n}`, t])); // a rerun replaces a point
  const sorted = [...latest.values()].sort((a, b) => a.n - b.n);
  const series = (value: (t: AttentionTiming) => number): Series[] => [
    { label: 'Nyström (m = 64)', color: '#1f77b4', points: sorted.filter((t) => t.impl === 'nystrom').map((t) => ({ x: t.n, y: value(t) })) },
    { label: 'softmax (exact)', color: '#d62728', points: sorted.filter((t) => t.impl === 'softmax').map((t) => ({ x: t.n, y: value(t) })) },
  ];
  const xLabel = 'sequence length n (B = 1, 12 heads × 64)';
  draw('chart', () => drawChart($<HTMLCanvasElement>('chart'), series((t) => t.ms), xLabel, 'forward ms'));
  draw('memory', () => drawChart($<HTMLCanvasElement>('memory'), series((t) => t.peakMb), xLabel, 'peak MB'));
  $('timings').replaceChildren(...[...latest.values()].map((t) => {
    const tr = document.createElement('tr');
    tr.replaceChildren(...[t.impl, String(t.n), t.ms.toFixed(1), t.peakMb.toFixed(1)].map((text) => Object.assign(document.createElement('td'), { textContent: text })));
    return tr;
  }));
}

/** Trains the loaded model in the worker for a few steps, drawing the loss as each step ends. */
async function train(options: { steps?: number } = {}): Promise<TrainView> {
  await ready;
  const steps = options.steps ?? (Number($<HTMLInputElement>('train-steps').value) || DEMO_TRAINING.steps);
  const task = model.architecture === 'NystromformerForMaskedLM' ? 'mlm' : 'synthetic';
  const { seed, seqLen } = DEMO_TRAINING;
  const examples = task === 'mlm'
    ? maskedTextExamples(tokenizer, $<HTMLTextAreaElement>('doc-a').value, Math.min(seqLen, maxTokens), seed)
    : syntheticExamples(maxTokens, model.vocabSize, seed);
  const curve: Series = { label: `run ${lossCurves.length + 1}`, color: CURVE_COLORS[lossCurves.length % CURVE_COLORS.length], points: [] };
  lossCurves.push(curve);
  setStatus('training…', 'busy');
  setProgress(0, steps, `training on ${examples.length} examples`);
  const records = await engine.request<TrainStep[]>(
    { type: 'train', examples, settings: { ...DEMO_TRAINING, steps, padId: tokenizer.padTokenId } },
    (r) => (r.type === 'train-done' ? r.steps : undefined),
    (r) => {
      if (r.type !== 'train-step') return;
      curve.points.push({ x: r.step, y: r.loss });
      setProgress(r.step, steps, `step ${r.step}: loss ${r.loss.toFixed(3)} (${r.ms.toFixed(0)} ms)`);
      showLoss();
    },
  );
  const [first, last] = [records[0], records[records.length - 1]];
  setStatus(`trained ${records.length} steps: loss ${first.loss.toFixed(3)} → ${last.loss.toFixed(3)}`, 'done');
  return { task, examples: examples.length, steps: records };
}

const CURVE_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd'];

function showLoss(): void {
  draw('loss', () => drawChart($<HTMLCanvasElement>('loss'), lossCurves, 'optimizer step (AdamW, batch 4)', 'training loss', 'linear'));
}

/** Loads a text file into document A. */
function loadFile(input: HTMLInputElement): void {
  const file = input.files?.[0];
  if (!file) return;
  void file.text().then((text) => {
    $<HTMLTextAreaElement>('doc-a').value = text;
    updateCounts();
  });
}

const ready = start();
ready.catch((e: Error) => setStatus(e.message, 'error'));
const report = (e: Error) => setStatus(e.message.split('\n')[0], 'error');
$('run').addEventListener('click', () => void run().catch(report));
$('bench').addEventListener('click', () => void bench().catch(report));
$('doc-a').addEventListener('input', updateCounts);
$('doc-b').addEventListener('input', updateCounts);
$<HTMLInputElement>('file').addEventListener('change', (e) => loadFile(e.target as HTMLInputElement));
$('train').addEventListener('click', () => void train().catch(report));
$('hub-load').addEventListener('click', () => void loadHub().catch(report));
let resizing = 0;
window.addEventListener('resize', () => {
  cancelAnimationFrame(resizing);
  resizing = requestAnimationFrame(() => drawings.forEach((paint) => paint()));
});
$<HTMLInputElement>('folder').addEventListener('change', (e) => {
  setStatus('reading the model folder…', 'busy'); // at once, so that a script waiting for the load sees it start
  void loadFolder(inputFiles(e.target as HTMLInputElement)).catch(report);
});
const dropZone = $('drop');
dropZone.addEventListener('dragover', (e) => {
  e.preventDefault(); // accept the drop
  dropZone.classList.add('over');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
dropZone.addEventListener('drop', (e) => {
  e.preventDefault();
  dropZone.classList.remove('over');
  if (!e.dataTransfer) return setStatus('the drop carried no files', 'error');
  setStatus('reading the model folder…', 'busy');
  void loadFolder(droppedFiles(e.dataTransfer)).catch(report);
});

declare global {
  interface Window {
    demo: { ready: Promise<Ready>; run: typeof run; bench: typeof bench; train: typeof train; loadHub: typeof loadHub };
  }
}
window.demo = { ready, run, bench, train, loadHub };
