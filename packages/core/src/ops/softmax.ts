// softmax over the last axis, computed stably (the row maximum is subtracted first).
// Backward: dx = y ⊙ (dy − Σ_j dy_j y_j), the sum taken per row.
import { checkDType, fail } from '../errors.js';
import { apply1 } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { mul, sub } from './binary.js';
import { defineOp } from './define-op.js';
import { sum } from './reduce.js';

/** Calls row(start, end) for each row of the last axis. */
export function forEachRow(length: number, width: number, row: (start: number, end: number) => void): void {
  for (let start = 0; start < length; start += width) row(start, start + width);
}

export const softmaxOp = defineOp<Record<string, never>>({
  name: 'softmax',
  outputs([x]) {
    checkDType('softmax', 'input', x, 'float32');
    if (x.shape.length < 1) fail('softmax', 'input must have at least one axis');
    return [x];
  },
  reference([x], [xs]) {
    const y = new Float32Array(x.length);
    forEachRow(x.length, xs.shape[xs.shape.length - 1], (start, end) => {
      let max = -Infinity;
      for (let i = start; i < end; i++) max = Math.max(max, x[i]);
      let total = 0;
      for (let i = start; i < end; i++) total += y[i] = Math.exp(x[i] - max);
      for (let i = start; i < end; i++) y[i] /= total;
    });
    return [y];
  },
  backward([dy], { outputs: [y] }) {
    return [mul(y, sub(dy!, sum(mul(dy!, y), [y.rank - 1], true)))];
  },
});

/** Softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  return apply1(softmaxOp, [x], {});
}
