/**
 * Host-reading input checks (engine/checks.ts): an op called directly checks, a model checks its
 * batch once at its boundary and its layers' ops do not, and debug mode turns per-op checks back on.
 * Non-finite values surface as NonFiniteError, naming the op (and, from the trainer, the step).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from '../src/engine/index.js';
import { softmaxAttention } from '../src/attention/index.js';
import { majorityTask } from '../src/data/synthetic.js';
import { NystromformerModel, NystromformerForSequenceClassification } from '../src/models/index.js';
import { manualSeed } from '../src/nn/index.js';
import { train } from '../src/train/index.js';
import { countReads } from './reads.js';

const config = (layers: number) => ({
  vocab_size: 40, hidden_size: 16, num_hidden_layers: layers, num_attention_heads: 2, intermediate_size: 24,
  max_position_embeddings: 32, conv_kernel_size: 3, num_labels: 2,
});
const batch = () => ({
  inputIds: E.Tensor.from(Int32Array.from([2, 5, 7, 9, 3, 2, 8, 4, 3, 0]), [2, 5], 'int32'),
  attentionMask: E.Tensor.from(Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0]), [2, 5], 'int32'),
});

const isNonFinite = (op: RegExp) => (e: unknown) => e instanceof E.NonFiniteError && op.test(e.op);

/** Runs fn with debug checks set, restoring them after. */
function withDebug<T>(on: boolean, fn: () => T): T {
  const before = E.debugChecks();
  E.configureEngine({ debugChecks: on });
  try {
    return fn();
  } finally {
    E.configureEngine({ debugChecks: before });
  }
}

test('an attention op called directly refuses non-finite inputs with a NonFiniteError naming it', () => {
  E.tidy(() => {
    const q = E.randn([1, 2, 6, 4], 1);
    assert.throws(() => softmaxAttention(q, E.mulScalar(q, Infinity), q), isNonFinite(/^softmaxAttention$/));
  });
});

test('inside a checked boundary the op skips its reads; debug mode checks there too', () => {
  E.tidy(() => {
    const q = E.randn([1, 2, 6, 4], 1);
    const k = E.mulScalar(q, Infinity);
    assert.doesNotThrow(() => E.checkedBoundary(() => softmaxAttention(q, k, q)));
    withDebug(true, () => assert.throws(() => E.checkedBoundary(() => softmaxAttention(q, k, q)), isNonFinite(/^softmaxAttention$/)));
  });
});

test('a model reads its batch a fixed number of times, whatever its depth', () => {
  const reads = [1, 3].map((layers) => {
    const model = new NystromformerModel(config(layers));
    const n = countReads(() => E.noGrad(() => E.tidy(() => void model.forward(batch()))));
    model.dispose();
    return n;
  });
  assert.equal(reads[0], reads[1], `reads per forward: ${reads[0]} with 1 layer, ${reads[1]} with 3`);
  const model = new NystromformerModel(config(3));
  const debugReads = withDebug(true, () => countReads(() => E.noGrad(() => E.tidy(() => void model.forward(batch())))));
  model.dispose();
  assert.ok(debugReads > reads[1], `debug mode reads per op: ${debugReads} vs ${reads[1]}`);
});

test('non-finite weights: the model boundary throws NonFiniteError; in debug mode the first op that sees them does', () => {
  const model = new NystromformerModel(config(2));
  const w = model.encoder.layer.items[1].attention.self.query.weight;
  E.assign(w, E.full(w.shape, Infinity));
  const forward = () => E.noGrad(() => E.tidy(() => void model.forward(batch())));
  assert.throws(forward, isNonFinite(/^NystromformerModel$/));
  withDebug(true, () => assert.throws(forward, isNonFinite(/Attention$/)));
  model.dispose();
});

test('training stops on a non-finite loss with a NonFiniteError that names the step', async () => {
  const out = mkdtempSync(join(tmpdir(), 'nystromformer-checks-'));
  try {
    manualSeed(1);
    const model = new NystromformerForSequenceClassification({ ...config(1), vocab_size: 64, max_position_embeddings: 64, pad_token_id: 0 });
    const data = majorityTask({ count: 16, seed: 4, maxLength: 40, minLength: 12 });
    await assert.rejects(train(model, data, data, {
      steps: 50, batchSize: 8, lr: 1e30, schedule: 'constant', optimizer: 'sgd', weightDecay: 0, clipNorm: 0, accumulate: 1,
      evalEvery: 100, patience: 0, checkpointEvery: 100, seed: 1, padId: 0, out,
    }), (e: unknown) => e instanceof E.NonFiniteError && e.op === 'train' && Number.isInteger(e.step) && e.message.includes(`at step ${e.step};`));
    model.dispose();
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
