/**
 * `lra`'s training, step by step against PyTorch: from the same initial weights, on the same batches, the
 * trainer under lraTrainerOptions must give the losses, gradient norms, learning rates and updates of
 * scripts/lra/lra_torch.py (test/fixtures/train/lra-steps.json, made by
 * scripts/fixtures/make_lra_training_fixture.py). A wrong gradient anywhere in the encoder, a schedule or
 * optimizer that differs, or batches drawn in another order all show here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lraTrainerOptions } from '../src/cli/lra-command.js';
import { readSafetensorsSync, toFloat32 } from '../src/io/safetensors.js';
import { LraClassifier } from '../src/models/index.js';
import { loadModuleTensors, moduleTensors } from '../src/nn/index.js';
import { train, type StepRecord } from '../src/train/index.js';

// LRA_STEPS_FIXTURES: another folder the script wrote (its --shapes paper: ListOps' size, too slow to run here)
const fixtures = process.env.LRA_STEPS_FIXTURES ?? join(fileURLToPath(new URL('../../', import.meta.url)), 'test', 'fixtures', 'train');

interface Case {
  pad_to: number;
  steps: { epoch: number; loss: number; grad_norm: number; lr: number }[];
  eval: { loss: number; accuracy: number };
  update_norms: Record<string, number>;
}
const fixture = JSON.parse(readFileSync(join(fixtures, 'lra-steps.json'), 'utf8')) as {
  model: { vocab: number; length: number; attention: string; dim: number; ffn: number; classes: number };
  train: { steps: number; batch: number; lr: number; warmup: number; seed: number };
  examples: { ids: number[]; label: number }[];
  cases: Record<string, Case>;
};
const initPath = join(fixtures, 'lra-steps-init.safetensors');

const relative = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), 1e-12);

for (const [name, want] of Object.entries(fixture.cases)) {
  test(`lra training (${name} padding) matches PyTorch step by step: losses, gradient norms, lr, updates`, async () => {
    const { model: m, train: t } = fixture;
    const model = new LraClassifier({
      vocabSize: m.vocab, maxLength: m.length, classes: m.classes, attention: m.attention, dim: m.dim, ffn: m.ffn, dropout: 0, padTo: want.pad_to,
    });
    const init = readSafetensorsSync(initPath).tensors;
    loadModuleTensors(model, init, initPath);
    const examples = fixture.examples.map((e) => ({ inputIds: e.ids, label: e.label }));
    const steps: StepRecord[] = [];
    const result = await train(model, examples, examples, {
      ...lraTrainerOptions({ steps: t.steps, batchSize: t.batch, lr: t.lr, warmup: t.warmup, evalEvery: t.steps, seed: t.seed, padTo: want.pad_to }),
      onStep: (r) => steps.push(r),
    });
    assert.equal(steps.length, want.steps.length);
    want.steps.forEach((w, i) => {
      const got = steps[i];
      assert.equal(got.epoch, w.epoch, `step ${i + 1}: epoch`);
      assert.ok(relative(got.lr, w.lr) < 1e-12, `step ${i + 1}: lr ${got.lr}, PyTorch ${w.lr}`);
      // float32 sums in another order, compounded over the steps: ≤ 2e-7 measured
      assert.ok(relative(got.loss, w.loss) < 1e-5, `step ${i + 1}: loss ${got.loss}, PyTorch ${w.loss}`);
      assert.ok(relative(got.grad_norm, w.grad_norm) < 1e-5, `step ${i + 1}: gradient norm ${got.grad_norm}, PyTorch ${w.grad_norm}`);
    });
    assert.ok(relative(result.final.loss, want.eval.loss) < 1e-5, `eval loss ${result.final.loss}, PyTorch ${want.eval.loss}`);
    assert.equal(result.final.accuracy, want.eval.accuracy);
    // every parameter moved as PyTorch's did (one whose gradient were wrong or missing would not)
    const after = await moduleTensors(model);
    for (const [param, norm] of Object.entries(want.update_norms)) {
      const before = toFloat32(init.get(param)!);
      const now = after[param].data as Float32Array;
      let sum = 0;
      for (let i = 0; i < now.length; i++) sum += (now[i] - before[i]) ** 2;
      // ≤ 3e-5 measured (Adam divides small gradients by their own size); updates under 1e-3 compared absolutely.
      // A key bias shifts every key alike, which moves the scores only through landmarks that average pads in:
      // its gradient is a small difference of large sums (1.8e-4 measured at ListOps' size, --shapes paper).
      const tolerance = param.endsWith('attention.key.bias') ? 1e-3 : 1e-4;
      assert.ok(Math.abs(Math.sqrt(sum) - norm) < tolerance * Math.max(norm, 1e-3), `${param}: update norm ${Math.sqrt(sum)}, PyTorch ${norm}`);
    }
    model.dispose();
  });
}
