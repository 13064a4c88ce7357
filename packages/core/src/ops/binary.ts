// add, sub, mul, div with broadcasting (a bias [K] over [N, H, W, K], a scalar over anything).
// Each gradient is summed back down to its input's shape.
import { describe, fail } from '../errors.js';
import { apply1 } from '../graph.js';
import { Tensor } from '../tensor.js';
import { broadcastIndex, broadcastShapes } from './broadcast.js';
import { defineOp } from './define-op.js';
import { sumToShape } from './reduce.js';
import { scale } from './scale.js';
import { fill } from './fill.js';

const binaryTable = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
} as const;

export type BinaryKind = keyof typeof binaryTable;

export const binaryOp = defineOp<{ kind: BinaryKind }>({
  name: 'binary',
  outputs([a, b], { kind }) {
    if (a.dtype !== 'float32' || b.dtype !== 'float32') fail(kind, `inputs must be float32, got ${describe(a)} and ${describe(b)}`);
    return [{ shape: broadcastShapes(kind, a.shape, b.shape), dtype: 'float32' }];
  },
  reference([a, b], [as, bs], { kind }, [out]) {
    const f = binaryTable[kind];
    const ia = broadcastIndex(as.shape, out.shape);
    const ib = broadcastIndex(bs.shape, out.shape);
    const y = new Float32Array(ia.length);
    for (let i = 0; i < y.length; i++) y[i] = f(a[ia[i]], b[ib[i]]);
    return [y];
  },
  backward([dy], { inputs: [a, b], attrs: { kind } }) {
    const g = dy!;
    switch (kind) {
      case 'add':
        return [sumToShape(g, a.shape), sumToShape(g, b.shape)];
      case 'sub':
        return [sumToShape(g, a.shape), sumToShape(scale(g, -1), b.shape)];
      case 'mul':
        return [sumToShape(mul(g, b), a.shape), sumToShape(mul(g, a), b.shape)];
      case 'div': {
        const ga = div(g, b);
        return [sumToShape(ga, a.shape), sumToShape(scale(mul(ga, div(a, b)), -1), b.shape)];
      }
    }
  },
});

/** A number operand becomes a pending scalar, freed with the plan's other intermediates. */
function asTensor(kind: BinaryKind, v: Tensor | number, arg: string): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v !== 'number') fail(kind, `${arg} must be a Tensor or a number, got ${v === null ? 'null' : typeof v}`);
  return fill([], v);
}

const binary = (kind: BinaryKind) => (a: Tensor | number, b: Tensor | number): Tensor =>
  apply1(binaryOp, [asTensor(kind, a, 'a'), asTensor(kind, b, 'b')], { kind }, kind);

export const add = binary('add');
export const sub = binary('sub');
export const mul = binary('mul');
export const div = binary('div');
