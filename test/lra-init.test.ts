/**
 * The LRA encoder starts as the official LRA code's model (src/models/lra/encoder.ts): embeddings and
 * Linformer's projections N(0, 0.02), every Linear and the Nyström conv PyTorch's default U(±1/√fan_in)
 * (biases too), LayerNorm ones/zeros; dropout on softmax attention's probabilities only. The Hugging Face
 * family keeps N(0, initializer_range).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn, Tensor, tidy } from '../src/engine/index.js';
import { LraClassifier, NystromformerModel } from '../src/models/index.js';
import { DepthwiseConv, Linear, manualSeed } from '../src/nn/index.js';

type Rule = { kind: 'ones' } | { kind: 'zeros' } | { kind: 'normal'; std: number } | { kind: 'uniform'; bound: number };

/** Below this many values a tensor's mean and std say little: only the bound (uniform) is checked. */
const MIN_STATS = 50;

function stats(values: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  const mean = s / values.length;
  let v = 0;
  for (let i = 0; i < values.length; i++) v += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / values.length) };
}

/**
 * Checks a tensor against its rule. Tolerances are 5 standard errors: the mean's σ/√n; the std's
 * σ·c/√n with c = 1/√2 for a normal and c = √(1/5 − 1/9)·3/2 ≈ 0.45 for a uniform.
 */
function checkRule(name: string, t: Tensor, rule: Rule): void {
  const values = t.toArray();
  const n = values.length;
  if (rule.kind === 'ones' || rule.kind === 'zeros') {
    const want = rule.kind === 'ones' ? 1 : 0;
    assert.ok(Array.from(values).every((x) => x === want), `${name}: expected all ${rule.kind}`);
    return;
  }
  const sigma = rule.kind === 'normal' ? rule.std : rule.bound / Math.sqrt(3);
  if (rule.kind === 'uniform') {
    const outside = Array.from(values).find((x) => !(Math.abs(x) <= rule.bound));
    assert.equal(outside, undefined, `${name}: ${outside} lies outside ±${rule.bound}`);
  }
  if (n < MIN_STATS) return;
  const { mean, std } = stats(values);
  const c = rule.kind === 'normal' ? Math.SQRT1_2 : 0.45;
  assert.ok(Math.abs(mean) <= (5 * sigma) / Math.sqrt(n), `${name}: mean ${mean} of ${n} values, expected ≈ 0 (σ ${sigma})`);
  assert.ok(Math.abs(std - sigma) <= (5 * sigma * c) / Math.sqrt(n), `${name}: std ${std} of ${n} values, expected ≈ ${sigma}`);
}

const uniform = (fanIn: number): Rule => ({ kind: 'uniform', bound: 1 / Math.sqrt(fanIn) });

/** The official code's rule for each LRA parameter, from its name and shape. */
function lraRule(name: string, t: Tensor, params: Map<string, Tensor>): Rule {
  if (/norm\d?\.weight$/.test(name)) return { kind: 'ones' };
  if (/norm\d?\.bias$/.test(name)) return { kind: 'zeros' };
  if (/(tokens|positions)\.weight$/.test(name) || /\.(E|F)$/.test(name)) return { kind: 'normal', std: 0.02 };
  if (name.endsWith('conv.weight')) return uniform(t.shape[2]); // (H, 1, k, 1): fan_in = k
  // Linear: weight (out, in); its bias (out) shares the bound 1/√in
  const weight = name.endsWith('.bias') ? params.get(name.replace(/bias$/, 'weight')) : t;
  assert.ok(weight?.rank === 2, `${name}: not a Linear's weight or bias (no rule for it)`);
  return uniform(weight.shape[1]);
}

for (const attention of ['softmax', 'nystrom-64', 'linformer-256', 'performer-256']) {
  for (const dual of [false, true]) {
    test(`LRA ${attention}${dual ? ' (dual)' : ''}: every parameter starts as the official LRA code's`, () => {
      manualSeed(3);
      const model = new LraClassifier({ vocabSize: 257, maxLength: 1024, classes: 2, attention, dual });
      const params = new Map(model.namedParameters());
      const seen = new Set<string>();
      for (const [name, t] of params) {
        const rule = lraRule(name, t, params);
        checkRule(name, t, rule);
        seen.add(rule.kind);
      }
      assert.deepEqual([...seen].sort(), ['normal', 'ones', 'uniform', 'zeros']);
      if (attention === 'nystrom-64') assert.deepEqual(params.get('encoder.blocks.0.attention.conv.weight')!.shape, [2, 1, 35, 1]);
      model.dispose();
    });
  }
}

test("nn: Linear and DepthwiseConv with init 'pytorch-default' are U(±1/√fan_in), weights and biases; the default stays N(0, std), bias 0", () => {
  manualSeed(11);
  const linear = new Linear(200, 300, { init: 'pytorch-default' });
  checkRule('linear.weight', linear.weight, uniform(200));
  checkRule('linear.bias', linear.bias!, uniform(200));
  const conv = new DepthwiseConv(64, 35, { init: 'pytorch-default' });
  checkRule('conv.weight', conv.weight, uniform(35));
  const normal = new Linear(200, 300, { std: 0.05 });
  checkRule('normal.weight', normal.weight, { kind: 'normal', std: 0.05 });
  checkRule('normal.bias', normal.bias!, { kind: 'zeros' });
  for (const m of [linear, conv, normal]) m.dispose();
});

test('the Hugging Face family still starts at N(0, initializer_range), biases 0, LayerNorm ones/zeros', () => {
  manualSeed(4);
  const std = 0.05;
  const model = new NystromformerModel({
    vocab_size: 500, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 128,
    max_position_embeddings: 256, conv_kernel_size: 9, initializer_range: std,
  });
  const names = model.namedParameters().map(([name]) => name);
  assert.ok(names.some((n) => n.endsWith('conv.weight')), `no conv among ${names.join(', ')}`);
  for (const [name, t] of model.namedParameters()) {
    if (name.includes('LayerNorm')) checkRule(name, t, { kind: name.endsWith('weight') ? 'ones' : 'zeros' });
    else if (name.endsWith('.bias')) checkRule(name, t, { kind: 'zeros' });
    else if (!name.includes('token_type')) checkRule(name, t, { kind: 'normal', std }); // 2 rows: too few to judge
  }
  model.dispose();
});

test('attention dropout as the official code: softmax attention drops probabilities in training, Nyström attention drops none', () => {
  for (const attention of ['softmax', 'nystrom-8']) {
    manualSeed(9);
    const model = new LraClassifier({ vocabSize: 32, maxLength: 64, classes: 2, attention });
    const layer = model.encoder.blocks.items[0].attention;
    const x = randn([2, 40, 64], 3);
    const mask = Tensor.from(new Float32Array(80).fill(1), [2, 40]);
    const twice = () => [0, 1].map(() => tidy(() => layer.forward(x, mask).toArray()));
    model.train();
    const [a, b] = twice();
    const differ = a.some((value, i) => value !== b[i]);
    assert.equal(differ, attention === 'softmax', `${attention}: two training passes ${differ ? 'differ' : 'agree'}`);
    model.eval();
    const [c, d] = twice();
    assert.deepEqual(c, d, `${attention}: evaluation is deterministic`);
    x.dispose();
    mask.dispose();
    model.dispose();
  }
});
