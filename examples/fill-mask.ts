// A Hugging Face masked-language model folder, in TypeScript, with linear Nyström attention.
// Node ≥ 22.18 runs it as it is (node examples/fill-mask.ts); on Node 20 see examples/README.md.
import { fillMask, NystromformerForMaskedLM, Tokenizer } from 'nystromformer';

const dir = 'test/fixtures/models/mlm-dense-tied'; // random weights: the candidates are noise
const model = await NystromformerForMaskedLM.fromPretrained(dir, { attention: 'nystrom', numLandmarks: 8 });
const tokenizer = await Tokenizer.fromDir(dir);
const masks = await fillMask(model, tokenizer, 'paris is the [MASK] of france.', { topK: 3 });
for (const candidates of masks) {
  console.log(candidates.map((c) => `${c.tokenStr} ${c.score.toFixed(4)}`).join(', '));
}
model.dispose();
