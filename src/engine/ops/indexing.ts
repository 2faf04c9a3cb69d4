/** Index and assembly ops: take (embedding lookup), gather, concat, stack, pad. Kernels: indexing.ts. */
import { composite, record } from '../autograd.js';
import { fmt, normAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { backend } from '../engine.js';
import { zeros } from './creation.js';
import { copyInto, copySlab, empty, run, withContiguous } from './kernel.js';
import { padAxis, permute, unsqueeze } from './shape-ops.js';

/** Rows of `table` [V, …] picked by int32 `ids` of any shape → [...ids.shape, …]. Gradient by scatter-add. */
export function take(table: Tensor, ids: Tensor): Tensor {
  if (ids.dtype !== 'int32') throw new Error(`take: ids must be int32, got ${ids.dtype} ${fmt(ids.shape)}`);
  if (table.rank < 1) throw new Error(`take: table must have at least one axis, got ${fmt(table.shape)}`);
  const rows = table.shape[0];
  const rowLen = rows === 0 ? 0 : table.size / rows;
  checkIndices('take', ids, rows);
  const out = empty([...ids.shape, ...table.shape.slice(1)], table.dtype);
  if (out.size > 0) {
    withContiguous([table, ids], (t, i) => run('takeRows', [t, i, out, ids.size, rowLen], out.size));
  }
  return record(out, 'take', [table], (dy) => {
    const dt = zeros(table.shape);
    if (dy.size > 0) {
      withContiguous([dy, ids], (d, i) => run('takeRowsGrad', [d, i, dt, ids.size, rowLen], dy.size));
    }
    return [dt];
  });
}

/** out[..., j] = x[..., idx[..., j]] along `axis` (torch.gather); idx matches x except on that axis. */
export function gather(x: Tensor, idx: Tensor, axis = -1): Tensor {
  const ax = normAxis('gather', axis, x.rank);
  if (idx.dtype !== 'int32') throw new Error(`gather: indices must be int32, got ${idx.dtype}`);
  const ok = idx.rank === x.rank && idx.shape.every((d, i) => i === ax || d === x.shape[i]);
  if (!ok) throw new Error(`gather: indices ${fmt(idx.shape)} do not fit ${fmt(x.shape)} along axis ${axis}`);
  checkIndices('gather', idx, x.shape[ax]);
  if (ax !== x.rank - 1) {
    // Move the axis last, gather there, move it back.
    const perm = [...x.shape.keys()].filter((a) => a !== ax).concat(ax);
    const inv = perm.map((_, i) => perm.indexOf(i));
    return composite([x], () => permute(gather(permute(x, perm), permute(idx, perm), -1), inv));
  }
  const cols = x.shape[ax];
  const k = idx.shape[ax];
  const rows = k === 0 ? 0 : idx.size / k;
  const out = empty(idx.shape, x.dtype);
  if (out.size > 0) withContiguous([x, idx], (xc, ic) => run('gatherLast', [xc, ic, out, rows, cols, k], out.size));
  return record(out, 'gather', [x], (dy) => {
    const dx = zeros(x.shape);
    if (dy.size > 0) {
      withContiguous([dy, idx], (d, ic) => run('gatherLastGrad', [d, ic, dx, rows, cols, k], dy.size));
    }
    return [dx];
  });
}

/** Joins tensors along an existing axis. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  const first = xs[0];
  const ax = normAxis('concat', axis, first.rank);
  for (const x of xs) {
    const ok = x.rank === first.rank && x.dtype === first.dtype && x.shape.every((d, i) => i === ax || d === first.shape[i]);
    if (!ok) throw new Error(`concat: shapes ${xs.map((t) => fmt(t.shape)).join(', ')} differ off axis ${axis}`);
  }
  const shape = first.shape.map((d, i) => (i === ax ? xs.reduce((s, x) => s + x.shape[ax], 0) : d));
  const out = empty(shape, first.dtype);
  let at = 0;
  const starts = xs.map((x) => {
    copyInto(out, x, ax, at);
    at += x.shape[ax];
    return at - x.shape[ax];
  });
  return record(out, 'concat', xs, (dy) => xs.map((x, i) => copySlab(dy, ax, starts[i], starts[i] + x.shape[ax])));
}

/** Joins same-shaped tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('stack: needs at least one tensor');
  const ax = normAxis('stack', axis, xs[0].rank + 1);
  return composite(xs, () => concat(xs.map((x) => unsqueeze(x, ax)), ax));
}

/** Zero-pads each axis by [before, after] (one pair per axis, from the first). */
export function pad(x: Tensor, widths: readonly (readonly [number, number])[]): Tensor {
  if (widths.length > x.rank || widths.some(([a, b]) => !Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0)) {
    throw new Error(`pad: widths ${JSON.stringify(widths)} invalid for ${fmt(x.shape)}`);
  }
  return composite([x], () =>
    widths.reduce((y, [before, after], ax) => padAxis(y, ax, before, after), x),
  );
}




/** Checked on the host where the backend reads synchronously; a GPU backend's kernels read within bounds whatever the ids. */
function checkIndices(op: string, ids: Tensor, limit: number): void {
  if (!backend().canReadSync) return;
  const values = withContiguous([ids], (c) => c.toArray());
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < 0 || v >= limit) throw new Error(`${op}: index ${v} at position ${i} is out of range [0, ${limit})`);
  }
}
