/**
 * `nystromformer fill-mask | classify | embed --model DIR [TEXT…]`: the pipelines on texts from
 * the arguments, a file (--file, one text per line) or standard input.
 */
import { readFile } from 'node:fs/promises';
import { Tokenizer } from '../io/tokenizer.js';
import {
  asCandidate, classify, embed, fillMask, loadModel, NystromformerForMaskedLM, NystromformerForSequenceClassification,
  NystromformerPreTrainedModel, type AttentionMode, type FromPretrainedOptions, type Runtime,
} from '../models/index.js';
import type { WeightDType } from '../nn/index.js';
import { checkFitsPositions } from './flag-limits.js';
import { countProgress } from './progress.js';

export interface PipelineCommandOptions {
  model: string;
  file?: string;
  json?: boolean;
  attention?: AttentionMode;
  landmarks?: number;
  truncate?: boolean;
  maxLength?: number;
  /** 'engine' (default) or 'onnx': the encoder on onnxruntime-node, exported in memory. */
  runtime?: Runtime;
  /** 'q8': 8-bit Linear weights (default: what the folder holds). */
  dtype?: WeightDType;
}

async function textsOf(args: string[], options: PipelineCommandOptions): Promise<string[]> {
  if (args.length > 0) return args;
  const source = options.file ? await readTextFile(options.file) : await readStdin();
  const texts = source.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  if (texts.length === 0) throw new Error(`no text given (pass it as arguments, with --file or on standard input)`);
  return texts;
}

async function readTextFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new Error(`--file ${path}: ${code === 'EISDIR' ? 'a folder, not a file of texts' : code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new Error('no text given (pass it as arguments, with --file or on standard input)');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function load<T extends NystromformerPreTrainedModel>(
  options: PipelineCommandOptions, cls: { fromPretrained(dir: string, o: FromPretrainedOptions): Promise<T> } | null,
): Promise<{ model: NystromformerPreTrainedModel; tokenizer: Tokenizer }> {
  const settings: FromPretrainedOptions = {
    attention: options.attention, numLandmarks: options.landmarks, runtime: options.runtime, dtype: options.dtype,
    onWarning: (m) => console.error(`warning: ${m}`),
  };
  const tokenizer = await Tokenizer.fromDir(options.model);
  const model = cls ? await cls.fromPretrained(options.model, settings) : await loadModel(options.model, settings);
  checkFitsPositions('--max-length', options.maxLength, model.config);
  return { model, tokenizer };
}

/** --max-length implies --truncate: a length asked for is a length to cut to, never silently ignored. */
const encodeOptions = (o: PipelineCommandOptions) => ({ truncation: o.truncate || o.maxLength !== undefined, maxLength: o.maxLength });

export async function fillMaskCommand(args: string[], options: PipelineCommandOptions & { topK: number }): Promise<void> {
  const texts = await textsOf(args, options);
  const { model, tokenizer } = await load(options, NystromformerForMaskedLM);
  for (const text of texts) {
    const results = await fillMask(model as NystromformerForMaskedLM, tokenizer, text, { ...encodeOptions(options), topK: options.topK });
    // snake_case keys, as transformers.js names a candidate's fields
    if (options.json) console.log(JSON.stringify({ text, masks: results.map((candidates) => candidates.map(asCandidate)) }));
    else {
      console.log(text);
      results.forEach((candidates, i) => {
        if (results.length > 1) console.log(`  mask ${i + 1}:`);
        for (const c of candidates) console.log(`  ${c.score.toFixed(4)}  ${c.tokenStr.padEnd(16)} ${c.sequence}`);
      });
    }
  }
}

export async function classifyCommand(args: string[], options: PipelineCommandOptions & { pair?: string }): Promise<void> {
  const texts = await textsOf(args, options);
  const { model, tokenizer } = await load(options, NystromformerForSequenceClassification);
  for (const text of texts) {
    const input = options.pair !== undefined ? [text, options.pair] as const : text;
    const labels = await classify(model as NystromformerForSequenceClassification, tokenizer, input, encodeOptions(options));
    if (options.json) console.log(JSON.stringify({ text, ...(options.pair !== undefined && { pair: options.pair }), labels }));
    else console.log(`${labels.map((l) => `${l.label} ${l.score.toFixed(4)}`).join('  ')}\t${text}`);
  }
}

export async function embedCommand(args: string[], options: PipelineCommandOptions & { pooling: 'cls' | 'mean' }): Promise<void> {
  const texts = await textsOf(args, options);
  const { model, tokenizer } = await load(options, null);
  const started = performance.now();
  const progress = countProgress('embedded', texts.length, texts.length > 1 && process.stderr.isTTY === true);
  const vectors = await embed(model, tokenizer, texts, { ...encodeOptions(options), pooling: options.pooling, onProgress: (done) => progress(done) });
  vectors.forEach((v, i) => {
    if (options.json) console.log(JSON.stringify({ text: texts[i].slice(0, 80), dim: v.length, embedding: Array.from(v, (x) => Number(x.toPrecision(7))) }));
    else console.log(`${Array.from(v.subarray(0, 8), (x) => x.toFixed(4)).join(' ')} … (${v.length} dims)\t${texts[i].slice(0, 60)}`);
  });
  if (!options.json) console.error(`${texts.length} text(s) in ${((performance.now() - started) / 1000).toFixed(2)} s`);
}
