// argmax over the last axis: int32 indices, the first maximum winning ties. Not differentiable.
import { checkDType, fail } from '../errors.js';
import { apply1 } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { defineOp } from './define-op.js';
import { forEachRow } from './softmax.js';

export const argmaxOp = defineOp<Record<string, never>>({
  name: 'argmax',
  outputs([x]) {
    checkDType('argmax', 'input', x, 'float32');
    if (x.shape.length < 1) fail('argmax', 'input must have at least one axis');
    return [{ shape: x.shape.slice(0, -1), dtype: 'int32' }];
  },
  reference([x], [xs]) {
    const width = xs.shape[xs.shape.length - 1];
    const out = new Int32Array(x.length / width);
    forEachRow(x.length, width, (start, end) => {
      let best = start;
      for (let i = start + 1; i < end; i++) if (x[i] > x[best]) best = i;
      out[start / width] = best - start;
    });
    return [out];
  },
});

/** Index of the largest value along the last axis. */
export function argmax(x: Tensor): Tensor {
  return apply1(argmaxOp, [x], {});
}
