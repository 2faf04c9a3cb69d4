// Checks the published uw-madison/nystromformer-512 against its reference outputs (docs/algorithm.md §2):
// the base model's last_hidden_state[0, :3, :3] on ids [[0, 1, 2, 3, 4, 5]], and fill-mask's top 5 on
// "Paris is the [MASK] of France.". Needs the network the first time (the Hub), then runs from the cache.
// Not part of the tests, which have no network.
//
//   npm run build && node scripts/hub/check-published.mjs [--revision REV] [--model ID]
//
// Prints one JSON line and exits 1 when an output is further than the reference's 4 decimals allow.
import { fillMask, NystromformerForMaskedLM, NystromformerModel, tensor, Tokenizer } from 'nystromformer';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const id = arg('--model', 'uw-madison/nystromformer-512');
const revision = arg('--revision', 'main');
const TOLERANCE = 6e-4; // the references are given to 4 decimals

const HIDDEN = [[-0.4532, -0.0936, 0.5137], [-0.2676, 0.0628, 0.6186], [-0.3629, -0.1726, 0.4716]];
const FILL = [['capital', 0.83], ['birthplace', 0.0222], ['name', 0.019], ['kingdom', 0.0176], ['city', 0.0059]];

const progress = (e) => e.status === 'done' && console.error(`have ${e.file}`);
// 'hf' attention: the published numbers come from Hugging Face's (dense) attention path
const base = await NystromformerModel.fromPretrained(id, { revision, attention: 'hf', progressCallback: progress });
const hidden = base.forward({ inputIds: tensor(new Int32Array([0, 1, 2, 3, 4, 5]), [1, 6], 'int32') }).lastHiddenState;
const H = hidden.shape[2];
const values = hidden.toArray();
const got = HIDDEN.map((row, i) => row.map((_, j) => values[i * H + j]));
const hiddenErr = Math.max(...HIDDEN.flatMap((row, i) => row.map((want, j) => Math.abs(got[i][j] - want))));
base.dispose();

const mlm = await NystromformerForMaskedLM.fromPretrained(id, { revision, attention: 'hf' });
const tokenizer = await Tokenizer.fromPretrained(id, { revision });
const [candidates] = fillMask(mlm, tokenizer, 'Paris is the [MASK] of France.', { topK: 5 });
const fill = candidates.map((c) => [c.tokenStr.replace(/^▁/, ''), Number(c.score.toFixed(4))]);
const tokensOk = fill.every(([token], i) => token === FILL[i][0]);
const fillErr = Math.max(...candidates.map((c, i) => Math.abs(c.score - FILL[i][1])));
mlm.dispose();

const ok = hiddenErr <= TOLERANCE && tokensOk && fillErr <= TOLERANCE;
console.log(JSON.stringify({ model: id, revision, hidden: got, max_abs_err_hidden: hiddenErr, fill_mask: fill, max_abs_err_fill: fillErr, ok }));
process.exit(ok ? 0 : 1);
