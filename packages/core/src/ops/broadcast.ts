// Numpy-style broadcasting: shapes are aligned at the right; a dimension of 1 stretches.
import { fail } from '../errors.js';
import { formatShape, sizeOf } from '../types.js';

export function broadcastShapes(fn: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      fail(fn, `shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast: axis ${i} of the aligned shapes is ${da} vs ${db} (each must be equal or 1)`);
    }
    out.push(Math.max(da, db));
  }
  return out;
}

/** For each flat index of `outShape`, the flat index of the element of `inShape` broadcast to it. */
export function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = inShape.length - 1; i >= 0; i--) {
    const axis = rank - inShape.length + i;
    strides[axis] = inShape[i] === 1 ? 0 : stride;
    stride *= inShape[i];
  }
  const total = sizeOf(outShape);
  const index = new Int32Array(total);
  const coord = new Array<number>(rank).fill(0);
  let at = 0;
  for (let flat = 0; flat < total; flat++) {
    index[flat] = at;
    for (let axis = rank - 1; axis >= 0; axis--) {
      coord[axis]++;
      at += strides[axis];
      if (coord[axis] < outShape[axis]) break;
      at -= strides[axis] * coord[axis];
      coord[axis] = 0;
    }
  }
  return index;
}
