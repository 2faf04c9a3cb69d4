/**
 * `nystromformer verify-attention DIR`: runs every attention fixture (docs/formats.md) in DIR
 * through the library and compares outputs and gradients with the stored PyTorch results.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gradients, nystromAttention, softmaxAttention, Tensor, tidy } from '../index.js';
import { readSafetensorsSync, toFloat32, type SafetensorsFile } from '../io/safetensors.js';

export interface VerifyCaseResult {
  case: string;
  max_rel_err: Record<string, number>;
  ok: boolean;
}

const DEFAULT_TOLERANCE = 1e-4;

export function verifyAttentionFixture(path: string): VerifyCaseResult {
  const file = readSafetensorsSync(path);
  const meta = file.metadata;
  const name = basename(path, '.safetensors');
  const tolerance = Number(meta.tolerance ?? DEFAULT_TOLERANCE);
  return tidy(() => {
    const q = load(file, 'q', path, true);
    const k = load(file, 'k', path, true);
    const v = load(file, 'v', path, true);
    const mask = file.tensors.has('mask') ? load(file, 'mask', path) : undefined;
    const convW = file.tensors.has('conv_w') ? load(file, 'conv_w', path, true) : undefined;
    const variant = meta.variant ?? 'original';
    let out: Tensor;
    if (variant === 'softmax') out = softmaxAttention(q, k, v, { mask });
    else if (variant === 'original' || variant === 'hf') {
      out = nystromAttention(q, k, v, {
        numLandmarks: integer(meta, 'num_landmarks', path),
        pinvIterations: integer(meta, 'pinv_iterations', path),
        pinvInit: meta.init === 'exact' ? 'exact' : 'original',
        convWeight: convW,
        mask,
        variant,
      });
    } else throw new Error(`${path}: unknown variant '${variant}'`);
    const inputs = convW ? [q, k, v, convW] : [q, k, v];
    const grads = gradients([out], inputs, [load(file, 'dout', path)]);
    const names = ['dq', 'dk', 'dv', 'dconv_w'];
    const errors: Record<string, number> = { out: relativeError(out, file, 'out', path) };
    grads.forEach((g, i) => (errors[names[i]] = relativeError(g, file, names[i], path)));
    return { case: name, max_rel_err: errors, ok: Object.values(errors).every((e) => e <= tolerance) };
  });
}

export function verifyAttentionDir(dir: string, options: { json?: boolean }): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();
  if (files.length === 0) throw new Error(`verify-attention: no .safetensors fixtures in ${dir}`);
  let failed = 0;
  for (const f of files) {
    const r = verifyAttentionFixture(join(dir, f));
    if (!r.ok) failed++;
    if (options.json) console.log(JSON.stringify(r));
    else {
      const errs = Object.entries(r.max_rel_err).map(([k, e]) => `${k} ${e.toExponential(1)}`).join('  ');
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.case.padEnd(40)} ${errs}`);
    }
  }
  if (!options.json) console.log(`${files.length - failed} of ${files.length} fixtures within tolerance`);
  if (failed > 0) process.exitCode = 1;
}

function load(file: SafetensorsFile, name: string, path: string, grad = false): Tensor {
  const raw = file.tensors.get(name);
  if (!raw) throw new Error(`${path}: fixture has no tensor '${name}'`);
  const t = Tensor.from(toFloat32(raw, name), raw.shape);
  t.requiresGrad = grad;
  return t;
}

/** max |got − want| / max |want| */
function relativeError(got: Tensor, file: SafetensorsFile, name: string, path: string): number {
  const raw = file.tensors.get(name);
  if (!raw) throw new Error(`${path}: fixture has no expected tensor '${name}'`);
  const want = toFloat32(raw, name);
  const have = got.toArray();
  if (have.length !== want.length) throw new Error(`${path}: ${name} has ${have.length} values, fixture ${want.length}`);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    const e = Math.abs(have[i] - want[i]);
    worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return scale === 0 ? worst : worst / scale;
}

function integer(meta: Record<string, string>, key: string, path: string): number {
  const v = Number(meta[key]);
  if (!Number.isInteger(v)) throw new Error(`${path}: metadata '${key}' must be an integer, got '${meta[key]}'`);
  return v;
}
