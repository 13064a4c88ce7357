// sum and mean over axes, and their partners broadcastTo and sumToShape (each one's gradient is
// the other).
import { checkDType, fail } from '../errors.js';
import { apply1 } from '../graph.js';
import { requireTensor } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import { formatShape, sizeOf } from '../types.js';
import { broadcastIndex, broadcastShapes } from './broadcast.js';
import { defineOp } from './define-op.js';
import { reshape } from './reshape.js';
import { scale } from './scale.js';

interface SumAttrs {
  axes: readonly number[];
  keepDims: boolean;
}

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

export const sumOp = defineOp<SumAttrs>({
  name: 'sum',
  outputs([x], { axes, keepDims }) {
    checkDType('sum', 'input', x, 'float32');
    const shape = keepDims ? keptShape(x.shape, axes) : x.shape.filter((_, i) => !axes.includes(i));
    return [{ shape, dtype: 'float32' }];
  },
  reference([x], [xs], { axes }) {
    const out = new Float32Array(sizeOf(keptShape(xs.shape, axes)));
    const index = broadcastIndex(keptShape(xs.shape, axes), xs.shape);
    for (let i = 0; i < x.length; i++) out[index[i]] += x[i];
    return [out];
  },
  backward([dy], { inputs: [x], attrs: { axes } }) {
    return [broadcastTo(reshape(dy!, keptShape(x.shape, axes)), x.shape)];
  },
});

export const broadcastToOp = defineOp<{ shape: readonly number[] }>({
  name: 'broadcastTo',
  outputs([x], { shape }) {
    const out = broadcastShapes('broadcastTo', x.shape, shape);
    if (out.length !== shape.length || out.some((d, i) => d !== shape[i])) {
      fail('broadcastTo', `cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`);
    }
    return [{ shape, dtype: x.dtype }];
  },
  reference([x], [xs], { shape }) {
    const index = broadcastIndex(xs.shape, shape);
    const out = new Float32Array(index.length);
    for (let i = 0; i < index.length; i++) out[i] = x[index[i]];
    return [out];
  },
  backward([dy], { inputs: [x] }) {
    return [sumToShape(dy!, x.shape)];
  },
});

function normaliseAxes(fn: string, rank: number, axes: number | readonly number[] | undefined): number[] {
  const list = axes === undefined ? [...Array(rank).keys()] : typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= rank) fail(fn, `axis ${a} is out of range for rank ${rank}`);
    return a < 0 ? a + rank : a;
  });
  if (new Set(out).size !== out.length) fail(fn, `axes ${JSON.stringify(list)} repeat an axis`);
  return out.sort((a, b) => a - b);
}

/** Sum over `axes` (all by default). */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  requireTensor('sum', x);
  return apply1(sumOp, [x], { axes: normaliseAxes('sum', x.rank, axes), keepDims });
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  requireTensor('mean', x);
  const list = normaliseAxes('mean', x.rank, axes);
  const count = list.reduce((n, a) => n * x.shape[a], 1);
  return scale(sum(x, list, keepDims), 1 / count);
}

export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  requireTensor('broadcastTo', x);
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  return apply1(broadcastToOp, [x], { shape: [...shape] });
}

/** Sums a broadcast gradient back down to `shape` (the inverse of broadcastTo). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  requireTensor('sumToShape', g);
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes = g.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1));
  return reshape(sum(g, axes, true), shape);
}
