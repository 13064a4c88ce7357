// Wrappers for shaders/reduce.wgsl: sums over an axis, column sums, argmax/max along the last axis.

import { needBytes, needDims } from './check.js';
import type { Step } from './encoder.js';
import { groupsFor } from './grid.js';
import { defineKernel } from './kernel.js';
import { uniforms } from './uniforms.js';

const WG = 64;
const RW = ['read', 'write', 'uniform'] as const;
export const REDUCE_KERNELS = {
  sumChunks: defineKernel('reduce', 'sum_axis_chunks', RW),
  argmaxLast: defineKernel('reduce', 'argmax_last', RW),
  maxLast: defineKernel('reduce', 'max_last', RW),
};

export interface SumAxisDims {
  outer: number;
  reduce: number;
  inner: number;
  /**
   * 'serial': a thread per output, one pass; 'split': the axis cut into about √reduce chunks, a
   * thread per chunk, then a second pass sums the chunks. Default: by shape.
   */
  variant?: SumVariant;
}

export type SumVariant = 'serial' | 'split';

/** out[outer, inner] = Σ_r x[outer, r, inner]: any sum over contiguous axes. */
export function sumAxis(step: Step, buf: { x: GPUBuffer; out: GPUBuffer }, d: SumAxisDims): void {
  const { outer, reduce, inner } = d;
  needDims({ outer, reduce, inner }, 'sumAxis');
  needBytes(buf.x, outer * reduce * inner, 'sumAxis x');
  needBytes(buf.out, outer * inner, 'sumAxis out');
  const outputs = outer * inner;
  // Few outputs over a long axis (a bias gradient of a convolution): spread over more threads.
  const variant = d.variant ?? (reduce >= 256 && outputs <= 4096 ? 'split' : 'serial');
  if (variant === 'serial' || reduce <= 1) return sumChunks(step, buf, outer, reduce, inner, Math.max(reduce, 1));
  const chunk = Math.ceil(Math.sqrt(reduce));
  const chunks = Math.ceil(reduce / chunk);
  const partial = step.temporary(outer * chunks * inner * 4, 'sumAxis chunks');
  sumChunks(step, { x: buf.x, out: partial }, outer, reduce, inner, chunk);
  sumChunks(step, { x: partial, out: buf.out }, outer, chunks, inner, chunks);
}

function sumChunks(step: Step, buf: { x: GPUBuffer; out: GPUBuffer }, outer: number, reduce: number, inner: number, chunk: number): void {
  step.dispatch(REDUCE_KERNELS.sumChunks, {
    buffers: [buf.x, buf.out],
    uniforms: uniforms().u32(outer, reduce, inner, chunk).bytes(),
    workgroups: groupsFor(outer * Math.max(Math.ceil(reduce / chunk), 1) * inner, WG),
  });
}

/** out[cols] = Σ over rows of x[rows, cols] (bias gradients). */
export function columnSums(step: Step, buf: { x: GPUBuffer; out: GPUBuffer }, d: { rows: number; cols: number; variant?: SumVariant }): void {
  sumAxis(step, buf, { outer: 1, reduce: d.rows, inner: d.cols, variant: d.variant });
}

/** out (i32) [rows] = index of the maximum of each row of x[rows, cols]; first index wins ties. */
export function argmaxLast(step: Step, buf: { x: GPUBuffer; out: GPUBuffer }, d: { rows: number; cols: number }): void {
  lastAxis(step, REDUCE_KERNELS.argmaxLast, buf, d);
}

/** out[rows] = maximum of each row of x[rows, cols]. */
export function maxLast(step: Step, buf: { x: GPUBuffer; out: GPUBuffer }, d: { rows: number; cols: number }): void {
  lastAxis(step, REDUCE_KERNELS.maxLast, buf, d);
}

function lastAxis(step: Step, kernel: typeof REDUCE_KERNELS.maxLast, buf: { x: GPUBuffer; out: GPUBuffer }, d: { rows: number; cols: number }) {
  needDims(d, kernel.entry);
  needBytes(buf.x, d.rows * d.cols, `${kernel.entry} x`);
  needBytes(buf.out, d.rows, `${kernel.entry} out`);
  step.dispatch(kernel, {
    buffers: [buf.x, buf.out],
    uniforms: uniforms().u32(d.rows, d.cols).bytes(),
    workgroups: groupsFor(d.rows, WG),
  });
}
