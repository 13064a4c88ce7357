// reshape and flatten: the same values under a new shape; no copy (a view of the input's storage).
import { fail } from '../errors.js';
import { apply1 } from '../graph.js';
import { requireTensor } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import { formatShape, sizeOf } from '../types.js';
import { defineOp } from './define-op.js';

export const reshapeOp = defineOp<{ shape: readonly number[] }>({
  name: 'reshape',
  view: true,
  outputs([x], { shape }) {
    return [{ shape, dtype: x.dtype }];
  },
  reference([x]) {
    return [x.slice()];
  },
  backward([dy], { inputs: [x] }) {
    return [reshape(dy!, x.shape)];
  },
});

/** New shape, same values in the same order; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  requireTensor('reshape', x);
  if (!Array.isArray(shape)) fail('reshape', `shape must be an array of integers, got ${JSON.stringify(shape)}`);
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1 || shape.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1))) {
    fail('reshape', `shape ${formatShape(shape)} must be positive integers with at most one -1`);
  }
  const known = sizeOf(shape.filter((d) => d !== -1));
  const full = shape.map((d) => (d === -1 ? x.size / known : d));
  if (!Number.isInteger(x.size / known) || sizeOf(full) !== x.size) {
    fail('reshape', `cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)}`);
  }
  if (full.length === x.rank && full.every((d, i) => d === x.shape[i])) return x;
  return apply1(reshapeOp, [x], { shape: full });
}

/** [N, ...rest] → [N, product of rest]: the lecture's 3×4×5 → 60 per example. */
export function flatten(x: Tensor): Tensor {
  requireTensor('flatten', x);
  if (x.rank < 1) fail('flatten', `input must have a batch dimension, got a scalar`);
  return reshape(x, [x.shape[0], x.size / x.shape[0]]);
}
