/**
 * `nystromformer train`: with no arguments, trains a small Nyströmformer classifier on the embedded
 * default task (data/synthetic.ts: which of two marker tokens occurs more often in a sequence of
 * 48–128 tokens) and shows it learning; every setting can be changed by flag.
 */
import type { Command } from 'commander';
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';
import { Tokenizer } from '../io/tokenizer.js';
import { maskedTextExamples, readGlue, readHubGlue, readHubImdb, readImdb, readTextClassification, readTextCorpus, type TextDataset } from '../data/index.js';
import { downloadProgress } from './progress.js';
import { MAJORITY, majorityTask, type TokenExample } from '../data/synthetic.js';
import {
  NystromformerForMaskedLM, NystromformerForSequenceClassification, type AttentionMode, type NystromformerConfig, type NystromformerPreTrainedModel, type Runtime,
} from '../models/index.js';
import { manualSeed } from '../nn/index.js';
import { openRunFolder, SCHEDULES, train, type ScheduleKind, type TrainableModel, type TrainerOptions } from '../train/index.js';
import { glueMetrics } from '../train/metrics.js';
import { checkFitsPositions } from './flag-limits.js';
import { stepProgress } from './progress.js';
import { runOptions, saveRunOptions } from './run-options.js';

type TrainerSettings = Pick<TrainerOptions,
  'steps' | 'batchSize' | 'lr' | 'weightDecay' | 'clipNorm' | 'accumulate' | 'evalEvery' | 'patience' | 'checkpointEvery' | 'seed'>;

export interface TrainCommandOptions extends TrainerSettings {
  task: string;
  data?: string;
  model?: string;
  tokenizer?: string;
  seqLen?: number;
  config?: string;
  /** Malformed data rows: skip them with a warning (default) or stop. */
  badRows?: 'skip' | 'fail';
  attention: string;
  landmarks: number;
  /** Train for this many passes over the data instead of --steps. */
  epochs?: number;
  /** Checked here: the command line gives strings. */
  schedule: string;
  optimizer: string;
  trainSize: number;
  evalSize: number;
  out: string;
  resume?: boolean;
  overwrite?: boolean;
  json?: boolean;
  /** eval only: 'onnx' runs the encoder on onnxruntime-node. */
  runtime?: Runtime;
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

/** The small default model: 2 layers of 64, 4 heads, conv 9, vocabulary of the synthetic task. */
const DEFAULT_MODEL = {
  vocab_size: 64, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128,
  max_position_embeddings: 128, conv_kernel_size: 9, hidden_dropout_prob: 0.1, num_landmarks: 16, segment_means_seq_len: 64,
  id2label: { 0: MAJORITY.labels[0], 1: MAJORITY.labels[1] }, pad_token_id: 0,
};

export async function trainCommand(given: TrainCommandOptions, command?: Command): Promise<void> {
  const o = runOptions('train', given.out, given, command && ((name) => command.getOptionValueSource(name) === 'cli'));
  if (!SCHEDULES.includes(o.schedule as ScheduleKind)) throw new Error(`train: --schedule must be one of ${SCHEDULES.join(', ')}`);
  if (o.optimizer !== 'adamw' && o.optimizer !== 'sgd') throw new Error(`train: --optimizer must be adamw or sgd, got '${o.optimizer}'`);
  if (o.attention !== 'nystrom' && o.attention !== 'softmax') throw new Error(`train: --attention must be nystrom or softmax, got '${o.attention}'`);
  if (o.epochs !== undefined && !(o.epochs > 0)) throw new Error(`train: --epochs must be positive, got ${o.epochs}`);
  // Before any work: a folder holding a run is refused, unless resumed or overwritten.
  openRunFolder(o.out, o);
  const { model, trainSet, evalSet, padId, metrics, description, tokenizerDir } = o.task === 'synthetic' ? syntheticTask(o) : o.task === 'mlm' ? await mlmTask(o) : await textTask(o);
  const say = (line: string) => (o.json ? undefined : console.error(line));
  say(`training ${model.architecture} (${model.parameters().reduce((s, p) => s + p.size, 0).toLocaleString()} parameters, attention ${o.attention}` +
    `${o.attention === 'nystrom' ? `, ${o.landmarks} landmarks` : ''}) on ${description}: ${trainSet.length} train / ${evalSet.length} eval sequences → ${o.out}`);
  // --epochs: as many optimizer steps as that many passes over the training set take
  const steps = o.epochs ? Math.ceil((o.epochs * Math.ceil(trainSet.length / o.batchSize)) / o.accumulate) : o.steps;
  const progress = stepProgress(steps, !o.json && process.stderr.isTTY);
  const started = performance.now();
  const result = await train(model, trainSet, evalSet, {
    steps, batchSize: o.batchSize, lr: o.lr, schedule: o.schedule as ScheduleKind, optimizer: o.optimizer,
    weightDecay: o.weightDecay, clipNorm: o.clipNorm, accumulate: o.accumulate, evalEvery: o.evalEvery, patience: o.patience,
    checkpointEvery: o.checkpointEvery, seed: o.seed, padId, out: o.out, resume: o.resume, overwrite: o.overwrite, metrics,
    onReady: () => saveRunOptions(o.out, o),
    onStep: progress,
    onEval: (e) => {
      if (o.json) console.log(JSON.stringify(e));
      else {
        const extra = Object.entries(e).filter(([k]) => !['type', 'step', 'loss', 'accuracy'].includes(k)).map(([k, v]) => `  ${k} ${Number(v).toFixed(4)}`).join('');
        say(`\rstep ${String(e.step).padStart(5)}  eval loss ${e.loss.toFixed(4)}  accuracy ${(100 * e.accuracy).toFixed(1)}%${extra}`.padEnd(80));
      }
    },
  });
  const summary = {
    task: o.task, attention: o.attention, landmarks: o.attention === 'nystrom' ? o.landmarks : null, steps: result.step, stopped: result.stopped,
    eval: result.final, best: result.best, seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  // The saved model is a complete Hugging Face folder: it runs with classify and eval as it is.
  if (tokenizerDir && existsSync(join(o.out, 'best'))) {
    for (const f of TOKENIZER_FILES) if (existsSync(join(tokenizerDir, f))) copyFileSync(join(tokenizerDir, f), join(o.out, 'best', f));
  }
  writeFileAtomicSync(join(o.out, 'metrics.json'), JSON.stringify(summary, null, 2) + '\n');
  if (o.json) console.log(JSON.stringify({ type: 'metrics', ...summary }));
  else say(`done in ${summary.seconds} s: eval accuracy ${(100 * result.final.accuracy).toFixed(1)}% (best ${(100 * (result.best?.value ?? 0)).toFixed(1)}% at step ${result.best?.step}); model in ${join(o.out, 'best')}, log in ${join(o.out, 'train.jsonl')}`);
  model.dispose();
}

interface Task {
  model: TrainableModel & NystromformerPreTrainedModel;
  trainSet: TokenExample[];
  evalSet: TokenExample[];
  padId: number;
  metrics?: (predictions: number[], gold: number[]) => Record<string, number>;
  description: string;
  /** Where the tokenizer files came from, to ship them with the saved model. */
  tokenizerDir?: string;
}

function syntheticTask(o: TrainCommandOptions): Task {
  const config = o.config ? { ...DEFAULT_MODEL, ...readJSON(o.config) } : DEFAULT_MODEL;
  checkFitsPositions('--seq-len', o.seqLen, config);
  const maxLength = Math.min(o.seqLen ?? 128, config.max_position_embeddings);
  const shape = { vocabSize: config.vocab_size, maxLength, minLength: Math.min(48, maxLength) };
  const trainSet = majorityTask({ count: o.trainSize, seed: o.seed, ...shape });
  const evalSet = majorityTask({ count: o.evalSize, seed: o.seed + 1_000_003, ...shape });
  manualSeed(o.seed);
  const model = new NystromformerForSequenceClassification(config, { attention: o.attention as AttentionMode, numLandmarks: o.landmarks });
  return { model, trainSet, evalSet, padId: 0, description: 'the synthetic majority task' };
}

/** Masked-language-model pretraining (or continued pretraining) on raw text; 5% of the sequences are held out. */
async function mlmTask(o: TrainCommandOptions): Promise<Task> {
  if (!o.data) throw new Error('train: --task mlm needs --data (a .txt file or a folder of .txt files)');
  const tokenizerDir = o.tokenizer ?? o.model;
  if (!tokenizerDir || (!o.model && !o.config)) throw new Error('train: --task mlm needs --model DIR (to continue pretraining) or --config FILE with --tokenizer DIR');
  const tokenizer = await Tokenizer.fromDir(tokenizerDir);
  manualSeed(o.seed);
  const attention = { attention: o.attention as AttentionMode, numLandmarks: o.landmarks };
  const model = o.model
    ? await NystromformerForMaskedLM.fromPretrained(o.model, { ...attention, onWarning: (m) => (o.json ? undefined : console.error(`warning: ${m}`)) })
    : new NystromformerForMaskedLM({ vocab_size: tokenizer.vocabSize, pad_token_id: tokenizer.padTokenId, ...readJSON(o.config!) }, attention);
  if (model.config.vocab_size < tokenizer.vocabSize) throw new Error(`train: the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${model.config.vocab_size}`);
  checkFitsPositions('--seq-len', o.seqLen, model.config);
  const text = await readTextCorpus(o.data);
  const seqLen = o.seqLen ?? Math.min(512, model.config.max_position_embeddings);
  const examples = maskedTextExamples(tokenizer, text, seqLen, o.seed);
  if (examples.length < 2) throw new Error(`train: ${o.data} gives only ${examples.length} sequence(s) of ${seqLen} tokens; more text is needed`);
  const held = Math.max(1, Math.floor(examples.length * 0.05));
  return {
    model, trainSet: examples.slice(held), evalSet: examples.slice(0, held), padId: tokenizer.padTokenId,
    description: `masked-language modelling on ${o.data} (${seqLen}-token sequences)`, tokenizerDir,
  };
}

/**
 * glue/<task> (GLUE TSV folders), imdb (an aclImdb folder, or a .csv/.jsonl file split 90/10), tokenized for the model.
 * With `evalOnly` it reads only the dev/test split and keeps the model's own labels.
 */
export async function textTask(o: TrainCommandOptions, evalOnly = false): Promise<Task> {
  const [kind, glueTask] = o.task.split('/');
  if (!(kind === 'imdb' || (kind === 'glue' && glueTask))) throw new Error(`train: unknown task '${o.task}' (synthetic, glue/<task> such as glue/sst2, imdb, mlm)`);
  if (!o.data) throw new Error(`train: --task ${o.task} needs --data (the ${kind === 'glue' ? 'GLUE folder' : 'aclImdb folder or a .csv/.jsonl file'})`);
  const tokenizerDir = o.tokenizer ?? o.model;
  if (!tokenizerDir || (!o.model && !o.config)) {
    throw new Error(`train: text tasks need --model DIR (a checkpoint with tokenizer.json, to fine-tune) or --config FILE with --tokenizer DIR (to start fresh)`);
  }
  if (o.badRows && o.badRows !== 'skip' && o.badRows !== 'fail') throw new Error(`train: --bad-rows must be skip or fail, got '${o.badRows}'`);
  const read = { onBadRow: o.badRows, onWarning: (m: string) => console.error(`warning: ${m}`) };
  const empty = (like: TextDataset): TextDataset => ({ ...like, examples: [] });
  let train: TextDataset;
  let dev: TextDataset;
  // hf:owner/name: the dataset's parquet files from the Hub (cached), read into the same rows.
  const hub = /^hf:(.+)$/.exec(o.data)?.[1];
  const hubOptions = { progressCallback: o.json ? undefined : downloadProgress(), onWarning: read.onWarning };
  if (hub) {
    const split = (s: 'train' | 'dev') => (kind === 'glue' ? readHubGlue(hub, glueTask, s, read, hubOptions) : readHubImdb(hub, s === 'dev' ? 'test' : 'train', read, hubOptions));
    dev = await split('dev');
    train = evalOnly ? empty(dev) : await split('train');
  } else if (kind === 'glue') {
    dev = await readGlue(o.data, glueTask, 'dev', read);
    train = evalOnly ? empty(dev) : await readGlue(o.data, glueTask, 'train', read);
  } else if (statSync(o.data).isDirectory()) {
    dev = await readImdb(o.data, 'test', read);
    train = evalOnly ? empty(dev) : await readImdb(o.data, 'train', read);
  } else {
    const all = await readTextClassification(o.data, read);
    const cut = evalOnly ? 0 : Math.max(1, Math.floor(all.examples.length * 0.9));
    [train, dev] = [{ ...all, examples: all.examples.slice(0, cut) }, { ...all, examples: all.examples.slice(cut) }];
  }
  const regression = train.problem === 'regression';
  const labels = train.labels ?? (regression ? ['score'] : []);
  // Else the empty id2label below would be blamed on config.json.
  if (labels.length === 0) throw new Error(`${o.data}: no row has a label; ${evalOnly ? 'evaluation' : 'training'} needs labelled rows (a 'label' column or field)`);
  const heads: Partial<NystromformerConfig> = {
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    problem_type: regression ? 'regression' : 'single_label_classification',
  };
  manualSeed(o.seed);
  const attention = { attention: o.attention as AttentionMode, numLandmarks: o.landmarks };
  const model = o.model
    ? await NystromformerForSequenceClassification.fromPretrained(o.model, { ...attention, runtime: o.runtime, ...(!evalOnly && { config: heads, ignoreMismatchedSizes: true }), onWarning: (m) => (o.json ? undefined : console.error(`warning: ${m}`)) })
    : new NystromformerForSequenceClassification({ ...readJSON(o.config!), ...heads }, attention);
  checkFitsPositions('--seq-len', o.seqLen, model.config);
  const tokenizer = await Tokenizer.fromDir(tokenizerDir);
  const maxLength = o.seqLen ?? Math.min(512, model.config.max_position_embeddings);
  const tokenize = (set: TextDataset): TokenExample[] => set.examples.filter((e) => e.label >= 0).map((e) => {
    const enc = tokenizer.encode({ text: e.textA, pair: e.textB }, { truncation: true, maxLength });
    return { inputIds: enc.inputIds, tokenTypeIds: enc.tokenTypeIds, label: e.label };
  });
  return {
    model, trainSet: tokenize(train), evalSet: tokenize(dev), padId: tokenizer.padTokenId,
    metrics: kind === 'glue' ? (p, g) => glueMetrics(glueTask, p, g) : undefined,
    description: `${o.task} (${o.data}, at most ${maxLength} tokens)`,
    tokenizerDir,
  };
}

function readJSON(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}
