/**
 * ONNX export: every fixture's base model, exported and run on onnxruntime-node, against the
 * engine (max abs error ≤ 1e-4) in both attention modes, on padded batches, on longer inputs with
 * uneven landmark segments, and with one session at several lengths and batch sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceSession } from 'onnxruntime-node';
import { noGrad, Tensor, tidy } from '../src/engine/index.js';
import { readSafetensorsSync, toFloat32, toInt32 } from '../src/io/safetensors.js';
import { NystromformerModel } from '../src/models/index.js';
import { exportOnnx, type ExportOptions } from '../src/runtime/index.js';
import { dynamicPooling } from '../src/runtime/export-attention.js';
import { attr, OnnxGraph } from '../src/runtime/onnx-graph.js';
import { poolingWeights } from '../src/attention/index.js';
import { maxAbsError } from './helpers.js';

const ort = (await import('onnxruntime-node')).default;

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dir = join(repo, 'test/fixtures/models');
const folders = readdirSync(dir).sort();
const TOLERANCE = 1e-4;
/** For sessions expected to fail: onnxruntime would also log the error it throws. */
const QUIET = { logSeverityLevel: 4 as const };

/** (B, n) token ids, 0/1 mask and segment ids; mask and types absent = not given. */
interface Batch { ids: Int32Array; mask?: Int32Array; types?: Int32Array; B: number; n: number }

const load = (folder: string) => NystromformerModel.fromPretrained(join(dir, folder), { onWarning: () => {} });

/** The fixture's inputs as (B, n); multiple-choice's (B, choices, n) become (B·choices, n). */
function fixtureBatch(folder: string): { batch: Batch; expected?: Float32Array; tolerance: number } {
  const file = readSafetensorsSync(join(dir, folder, 'expected.safetensors'));
  const ints = (name: string) => {
    const t = file.tensors.get(name);
    return t && toInt32(t, name);
  };
  const shape = file.tensors.get('input_ids')!.shape;
  const n = shape[shape.length - 1];
  const ids = ints('input_ids')!;
  const last = file.tensors.get('last_hidden_state');
  return {
    batch: { ids, mask: ints('attention_mask'), types: ints('token_type_ids'), B: ids.length / n, n },
    expected: last && toFloat32(last, 'last_hidden_state'),
    tolerance: Number(file.metadata.tolerance ?? TOLERANCE),
  };
}

/** The batch with its last row's final `pad` tokens padded (pad id, mask 0, type 0). */
function padLastRow(b: Batch, padId: number, pad = 3): Batch {
  const ids = b.ids.slice();
  const mask = b.mask ? b.mask.slice() : new Int32Array(b.B * b.n).fill(1);
  const types = b.types?.slice();
  for (let i = (b.B - 1) * b.n + b.n - pad; i < b.B * b.n; i++) {
    ids[i] = padId;
    mask[i] = 0;
    if (types) types[i] = 0;
  }
  return { ...b, ids, mask, types };
}

/** Seeded random ids and types; the last row padded by a third. */
function randomBatch(B: number, n: number, vocab: number, typeVocab: number, seed: number, padId: number): Batch {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const ids = Int32Array.from({ length: B * n }, () => Math.floor(next() * vocab));
  const types = Int32Array.from({ length: B * n }, () => Math.floor(next() * typeVocab));
  return padLastRow({ ids, types, B, n }, padId, Math.floor(n / 3));
}

function engineOutput(model: NystromformerModel, b: Batch): Float32Array {
  const t = (data: Int32Array | undefined) => data && Tensor.from(data, [b.B, b.n], 'int32');
  return noGrad(() => tidy(() => {
    const out = model.forward({ inputIds: t(b.ids)!, attentionMask: t(b.mask), tokenTypeIds: t(b.types) });
    return out.lastHiddenState.toArray() as Float32Array;
  }));
}

async function onnxOutput(session: InferenceSession, b: Batch): Promise<Float32Array> {
  const t = (data: Int32Array) => new ort.Tensor('int64', BigInt64Array.from(data, (v) => BigInt(v)), [b.B, b.n]);
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
    input_ids: t(b.ids),
    attention_mask: t(b.mask ?? new Int32Array(b.B * b.n).fill(1)),
  };
  if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = t(b.types ?? new Int32Array(b.B * b.n));
  const out = (await session.run(feeds)).last_hidden_state;
  assert.deepEqual(out.dims.slice(0, 2), [b.B, b.n]);
  return out.data as Float32Array;
}


/** Exports `model` as it attends now, runs every batch on one session, checks each against the engine. */
async function checkAgainstEngine(
  model: NystromformerModel, batches: Record<string, Batch>, label: string, options: ExportOptions = {},
): Promise<Record<string, number>> {
  const session = await ort.InferenceSession.create(exportOnnx(model, options));
  const errors: Record<string, number> = {};
  try {
    for (const [name, b] of Object.entries(batches)) {
      const err = maxAbsError(await onnxOutput(session, b), engineOutput(model, b));
      errors[name] = err;
      assert.ok(err <= TOLERANCE, `${label} ${name}: max abs error ${err} > ${TOLERANCE}`);
    }
  } finally {
    await session.release();
  }
  console.log(JSON.stringify({ case: label, max_abs_err: errors }));
  return errors;
}

for (const folder of folders) {
  test(`ONNX = engine: ${folder}, 'hf' and 'nystrom', fixture and padded inputs`, async () => {
    const model = await load(folder);
    try {
      const { batch, expected, tolerance } = fixtureBatch(folder);
      const padded = padLastRow(batch, model.config.pad_token_id ?? 0);
      const c = model.config;
      if (c.num_landmarks === c.segment_means_seq_len || batch.n === c.segment_means_seq_len) {
        model.setAttention({ attention: 'hf' });
        await checkAgainstEngine(model, { fixture: batch, padded }, `${folder} hf`);
        if (expected) {
          // and against PyTorch itself
          const session = await ort.InferenceSession.create(exportOnnx(model));
          const err = maxAbsError(await onnxOutput(session, batch), expected);
          await session.release();
          console.log(JSON.stringify({ case: `${folder} hf vs PyTorch`, max_abs_err: { fixture: err } }));
          assert.ok(err <= tolerance, `${folder}: ONNX vs PyTorch max abs error ${err}`);
        }
      }
      model.setAttention({ attention: 'nystrom' });
      await checkAgainstEngine(model, { fixture: batch, padded }, `${folder} nystrom m=${model.attentionSettings.numLandmarks}`);
    } finally {
      model.dispose();
    }
  });
}

for (const folder of folders) {
  test(`ONNX = engine: ${folder}, 'nystrom' with 4 landmarks on longer inputs (uneven segments)`, async () => {
    const model = await load(folder);
    try {
      const c = model.config;
      model.setAttention({ attention: 'nystrom', numLandmarks: 4 });
      const long = Math.min(3 * c.segment_means_seq_len, c.max_position_embeddings - 1); // 31 or 36: uneven for m = 4 when odd
      const { batch } = fixtureBatch(folder);
      await checkAgainstEngine(model, {
        fixture: batch,
        padded: padLastRow(batch, c.pad_token_id ?? 0),
        long: randomBatch(2, long, c.vocab_size, c.type_vocab_size, 7, c.pad_token_id ?? 0),
      }, `${folder} nystrom m=4`);
    } finally {
      model.dispose();
    }
  });
}

test('one session serves two lengths, two batch sizes, and lengths below the landmark count (exact branch)', async () => {
  const model = await load('mlm-nystrom-branch');
  try {
    const c = model.config;
    for (const init of ['original', 'exact'] as const) {
      model.setAttention({ attention: 'nystrom', numLandmarks: 4, pinvInit: init });
      const batch = (B: number, n: number, seed: number) => randomBatch(B, n, c.vocab_size, c.type_vocab_size, seed, c.pad_token_id ?? 0);
      await checkAgainstEngine(model, {
        'B1 n9': batch(1, 9, 1), 'B3 n20': batch(3, 20, 2), 'B2 n16': batch(2, 16, 3), 'B3 n3 (m ≥ n)': batch(3, 3, 4), 'B2 n4 (m = n)': batch(2, 4, 5),
      }, `mlm-nystrom-branch dynamic axes, pinvInit ${init}`);
    }
  } finally {
    model.dispose();
  }
});

test('token_type_ids may be left out of the graph (type 0), as the engine does without them', async () => {
  const model = await load('base-dense');
  try {
    const { batch } = fixtureBatch('base-dense');
    const noTypes = { ...batch, types: undefined };
    await checkAgainstEngine(model, { 'no types': noTypes }, 'base-dense without token_type_ids', { tokenTypeIds: false });
    await checkAgainstEngine(model, { 'types fed as zeros': noTypes }, 'base-dense with zero token_type_ids');
  } finally {
    model.dispose();
  }
});

test("'softmax' exports exact attention at any length", async () => {
  const model = await load('base-nystrom-noconv');
  try {
    model.setAttention({ attention: 'softmax' });
    const c = model.config;
    await checkAgainstEngine(model, { 'B2 n25': randomBatch(2, 25, c.vocab_size, c.type_vocab_size, 9, 1) }, 'base-nystrom-noconv softmax');
  } finally {
    model.dispose();
  }
});

test("Hugging Face's Nyström branch fixes the sequence length; onnxruntime rejects others", async () => {
  const model = await load('base-nystrom-noconv');
  try {
    const session = await ort.InferenceSession.create(exportOnnx(model, { attention: 'hf' }), QUIET);
    const c = model.config;
    const b = randomBatch(1, c.segment_means_seq_len + 1, c.vocab_size, 2, 3, 1);
    await assert.rejects(onnxOutput(session, b), /dimension|dims/i);
    await session.release();
  } finally {
    model.dispose();
  }
});

test('an input longer than the position table fails at a node that says so', async () => {
  const model = await load('base-dense');
  try {
    const session = await ort.InferenceSession.create(exportOnnx(model), QUIET);
    const c = model.config;
    await assert.rejects(onnxOutput(session, randomBatch(1, c.max_position_embeddings + 1, c.vocab_size, 2, 5, 1)), /longer than max_position_embeddings = 32/);
    await session.release();
  } finally {
    model.dispose();
  }
});

test('exportOnnx names a bad attention mode', async () => {
  const model = await load('base-dense');
  try {
    assert.throws(() => exportOnnx(model, { attention: 'linear' as 'hf' }), /exportOnnx: attention must be 'hf', 'nystrom' or 'softmax', got 'linear'/);
  } finally {
    model.dispose();
  }
});

test('the graph\'s segment rule (n a graph dim) gives segmentBounds\'s pooling matrix for every m ≤ n ≤ 40 and larger pairs', async () => {
  const sessions = new Map<number, InferenceSession>();
  const pairs: [number, number][] = [[100, 7], [257, 64], [1000, 64], [4096, 64]];
  for (let n = 1; n <= 40; n++) for (let m = 1; m <= n; m++) pairs.push([n, m]);
  for (const [n, m] of pairs) {
    let session = sessions.get(m);
    if (!session) {
      const g = new OnnxGraph('pooling');
      const ids = g.input('ids', 'int64', ['sequence']);
      const size = g.node('Gather', [g.node('Shape', [ids]), g.ints([0], [])], { axis: attr.int(0) }, 'n');
      g.output(dynamicPooling(g, size, m), 'float32');
      session = await ort.InferenceSession.create(g.toModel());
      sessions.set(m, session);
    }
    const out = await session.run({ ids: new ort.Tensor('int64', new BigInt64Array(n), [n]) });
    assert.deepEqual(Object.values(out)[0].data as Float32Array, poolingWeights(n, m), `segments of n=${n}, m=${m}`);
  }
});
