// fill: a constant tensor computed inside the plan, so it is freed with the other intermediates
// (the seed gradient of a loss, a number operand of add/sub/mul/div).
import { apply1 } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { sizeOf } from '../types.js';
import { defineOp } from './define-op.js';

export const fillOp = defineOp<{ shape: readonly number[]; value: number }>({
  name: 'fill',
  outputs(_inputs, { shape }) {
    return [{ shape, dtype: 'float32' }];
  },
  reference(_inputs, _specs, { shape, value }) {
    return [new Float32Array(sizeOf(shape)).fill(value)];
  },
});

/** A pending float32 tensor of `shape` filled with `value`. */
export function fill(shape: readonly number[], value: number): Tensor {
  return apply1(fillOp, [], { shape: [...shape], value });
}
