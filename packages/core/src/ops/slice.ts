// slice: `size` consecutive entries of axis 0 starting at `begin` (a mini-batch of a data set).
import { fail } from '../errors.js';
import { apply1 } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { formatShape } from '../types.js';
import { defineOp } from './define-op.js';

export const sliceOp = defineOp<{ begin: number; size: number }>({
  name: 'slice',
  outputs([x], { begin, size }) {
    if (x.shape.length < 1) fail('slice', 'input must have at least one axis');
    if (!Number.isInteger(begin) || !Number.isInteger(size) || begin < 0 || size < 1 || begin + size > x.shape[0]) {
      fail('slice', `rows [${begin}, ${begin + size}) must lie inside axis 0 of ${formatShape(x.shape)} (begin ≥ 0, size ≥ 1)`);
    }
    return [{ shape: [size, ...x.shape.slice(1)], dtype: x.dtype }];
  },
  reference([x], [xs], { begin, size }) {
    const row = x.length / xs.shape[0];
    return [x.slice(begin * row, (begin + size) * row)];
  },
});

/** Rows [begin, begin + size) of axis 0. Not differentiable. */
export function slice(x: Tensor, begin: number, size: number): Tensor {
  return apply1(sliceOp, [x], { begin, size });
}
