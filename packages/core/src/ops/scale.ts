// y = a·x + b with constants a and b: means, negation and optimizer arithmetic without constant tensors.
import { checkDType } from '../errors.js';
import { apply1 } from '../graph.js';
import { requireTensor } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import { defineOp } from './define-op.js';

export const scaleOp = defineOp<{ factor: number; offset: number }>({
  name: 'scale',
  outputs([x]) {
    checkDType('scale', 'input', x, 'float32');
    return [x];
  },
  reference([x], _specs, { factor, offset }) {
    return [(x as Float32Array).map((v) => v * factor + offset)];
  },
  backward([dy], { attrs: { factor } }) {
    return [scale(dy!, factor)];
  },
});

export function scale(x: Tensor, factor: number, offset = 0): Tensor {
  requireTensor('scale', x);
  if (factor === 1 && offset === 0) return x;
  return apply1(scaleOp, [x], { factor, offset });
}
