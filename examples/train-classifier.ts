// The training loop from code: a small classifier on the embedded synthetic task (which of two
// marker tokens occurs more often), 150 AdamW steps, evaluated as it goes.
// Node ≥ 22.18 runs it as it is (node examples/train-classifier.ts); on Node 20 see examples/README.md.
import { majorityTask, manualSeed, NystromformerForSequenceClassification, train, type EvalRecord } from 'nystromformer';

const shape = { vocabSize: 64, maxLength: 96, minLength: 48 };
const trainSet = majorityTask({ count: 512, seed: 1, ...shape });
const evalSet = majorityTask({ count: 128, seed: 2, ...shape });
manualSeed(1);
const model = new NystromformerForSequenceClassification(
  { vocab_size: 64, hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 96, conv_kernel_size: 9, id2label: { 0: 'a', 1: 'b' } },
  { attention: 'nystrom', numLandmarks: 8 },
);
const result = await train(model, trainSet, evalSet, {
  steps: 150, batchSize: 16, lr: 3e-3, schedule: 'linear', optimizer: 'adamw', weightDecay: 0.01, clipNorm: 1,
  accumulate: 1, evalEvery: 50, patience: 0, checkpointEvery: 150, seed: 1, padId: 0,
  onEval: (e: EvalRecord) => console.log(`step ${e.step}: eval loss ${e.loss.toFixed(4)}, accuracy ${(100 * e.accuracy).toFixed(1)}%`),
});
console.log(`trained ${result.step} steps`);
model.dispose();
