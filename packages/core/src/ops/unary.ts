// Elementwise functions of one tensor, as a table: each row gives the function and its derivative
// written from the input x or the output y, whichever is cheaper to keep.
import { checkDType, fail } from '../errors.js';
import { apply1 } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { defineOp } from './define-op.js';

export const unaryTable = {
  relu: { fn: (x: number) => (x > 0 ? x : 0), grad: (_x: number, y: number) => (y > 0 ? 1 : 0) },
  sigmoid: { fn: (x: number) => 1 / (1 + Math.exp(-x)), grad: (_x: number, y: number) => y * (1 - y) },
  tanh: { fn: Math.tanh, grad: (_x: number, y: number) => 1 - y * y },
  exp: { fn: Math.exp, grad: (_x: number, y: number) => y },
  log: { fn: Math.log, grad: (x: number) => 1 / x },
  sqrt: { fn: Math.sqrt, grad: (_x: number, y: number) => 0.5 / y },
  neg: { fn: (x: number) => -x, grad: () => -1 },
} as const;

export type UnaryKind = keyof typeof unaryTable;

interface UnaryAttrs {
  kind: UnaryKind;
}

export const unaryOp = defineOp<UnaryAttrs>({
  name: 'unary',
  outputs([x], { kind }) {
    checkDType(kind, 'input', x, 'float32');
    return [x];
  },
  reference([x], _specs, { kind }) {
    const f = unaryTable[kind].fn;
    const y = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = f(x[i]);
    return [y];
  },
  backward([dy], { inputs: [x], outputs: [y], attrs: { kind } }) {
    return [apply1(unaryGradOp, [dy!, x, y], { kind })];
  },
});

/** dx = dy · f'(x), the derivative read from x or y as the table says. */
export const unaryGradOp = defineOp<UnaryAttrs>({
  name: 'unaryGrad',
  outputs([dy, x, y], { kind }) {
    for (const t of [x, y]) {
      if (t.shape.length !== dy.shape.length || t.shape.some((d, i) => d !== dy.shape[i])) {
        fail(`${kind} gradient`, `gradient shape [${dy.shape}] must match the value's [${t.shape}]`);
      }
    }
    return [dy];
  },
  reference([dy, x, y], _specs, { kind }) {
    const grad = unaryTable[kind].grad;
    // Plain loops rather than TypedArray.map, which V8 runs several times slower.
    const dx = new Float32Array(dy.length);
    for (let i = 0; i < dy.length; i++) dx[i] = dy[i] * grad(x[i], y[i]);
    return [dx];
  },
});

/** dy · f'(value), for a derivative that only needs the output y (relu, sigmoid, tanh, exp). */
export function unaryGrad(dy: Tensor, y: Tensor, kind: 'relu' | 'sigmoid' | 'tanh' | 'exp'): Tensor {
  return apply1(unaryGradOp, [dy, y, y], { kind });
}

const unary = (kind: UnaryKind) => (x: Tensor): Tensor => apply1(unaryOp, [x], { kind }, kind);

export const relu = unary('relu');
export const sigmoid = unary('sigmoid');
export const tanh = unary('tanh');
export const exp = unary('exp');
export const log = unary('log');
export const sqrt = unary('sqrt');
export const neg = unary('neg');
