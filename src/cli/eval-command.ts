/**
 * `nystromformer eval --model DIR --task glue/<task>|imdb --data PATH`: a trained classifier's metrics on the
 * dev/test split. An LRA task name (listops, text, …) evaluates an `lra` run folder instead (lra-eval.ts).
 */
import { isKnown } from '../io/lookup.js';
import { evaluateClassifier } from '../train/index.js';
import { lraEvalCommand } from './lra-eval.js';
import { LRA_SETTINGS } from '../data/index.js';
import { textTask, type TrainCommandOptions } from './train-command.js';

export async function evalCommand(o: TrainCommandOptions): Promise<void> {
  if (!o.model) throw new Error('eval: --model DIR is required (a sequence-classification checkpoint with tokenizer.json, or an lra run folder)');
  if (isKnown(LRA_SETTINGS, o.task)) {
    if (!o.data) throw new Error(`eval --task ${o.task}: --data DIR is required (${LRA_SETTINGS[o.task].dataHelp})`);
    return lraEvalCommand({ model: o.model, task: o.task, data: o.data, seqLen: o.seqLen, batchSize: o.batchSize, seed: o.seed, json: o.json, runtime: o.runtime });
  }
  const started = performance.now();
  const { model, evalSet, padId, metrics, description } = await textTask(o, true);
  if (evalSet.length === 0) throw new Error(`eval: ${o.data} has no labelled examples in its dev/test split`);
  const regression = model.problemType?.() === 'regression';
  const r = await evaluateClassifier(model, evalSet, o.batchSize, padId, regression);
  const result = {
    task: o.task, model: o.model, attention: o.attention, examples: evalSet.length, loss: r.loss,
    ...(!regression && { accuracy: r.accuracy }), ...metrics?.(r.predictions, evalSet.map((e) => e.label as number)),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  if (o.json) console.log(JSON.stringify(result));
  else console.log(`${description}, ${evalSet.length} examples: ${Object.entries(result).filter(([k]) => !['task', 'model', 'attention', 'examples'].includes(k)).map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toFixed(4)) : v}`).join('  ')}`);
  model.dispose();
}
