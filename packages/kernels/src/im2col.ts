// Wrappers for shaders/im2col.wgsl: patches as GEMM rows, and the adjoint gather for dX.

import { needBytes } from './check.js';
import type { Step } from './encoder.js';
import { groupsFor } from './grid.js';
import { defineKernel } from './kernel.js';
import { inputSize, windowUniforms, type WindowDims } from './window.js';

const WG = 64;
export const IM2COL_KERNELS = {
  im2col: defineKernel('im2col', 'im2col', ['read', 'write', 'uniform']),
  col2im: defineKernel('im2col', 'col2im_gather', ['read', 'write', 'uniform']),
};

/** Rows of the column matrix: N·Ho·Wo. */
export const colRows = (d: WindowDims) => d.batch * d.outHeight * d.outWidth;
/** Columns of the column matrix: Fh·Fw·C, ordered (fh, fw, c). */
export const colCols = (d: WindowDims) => d.windowHeight * d.windowWidth * d.channels;

/** cols[N·Ho·Wo, Fh·Fw·C] from x[N,H,W,C]; zero where the patch covers padding. */
export function im2col(step: Step, buf: { x: GPUBuffer; cols: GPUBuffer }, d: WindowDims): void {
  const u = windowUniforms(d, 'im2col');
  const total = colRows(d) * colCols(d);
  needBytes(buf.x, inputSize(d), 'im2col x');
  needBytes(buf.cols, total, 'im2col cols');
  step.dispatch(IM2COL_KERNELS.im2col, { buffers: [buf.x, buf.cols], uniforms: u, workgroups: groupsFor(total, WG) });
}

/** dx[N,H,W,C] = the sum of every dcols entry that im2col copied from that input cell. */
export function col2im(step: Step, buf: { dcols: GPUBuffer; dx: GPUBuffer }, d: WindowDims): void {
  const u = windowUniforms(d, 'col2im');
  needBytes(buf.dcols, colRows(d) * colCols(d), 'col2im dcols');
  needBytes(buf.dx, inputSize(d), 'col2im dx');
  step.dispatch(IM2COL_KERNELS.col2im, { buffers: [buf.dcols, buf.dx], uniforms: u, workgroups: groupsFor(inputSize(d), WG) });
}
