// Wrappers for shaders/im2col.wgsl: patches as GEMM rows, and the adjoint gather for dX.

import { needBytes, vec4Bindable } from './check.js';
import type { Step } from './encoder.js';
import { groupsFor } from './grid.js';
import { defineKernel } from './kernel.js';
import { inputSize, windowUniforms, type WindowDims } from './window.js';

const WG = 64;
export const IM2COL_KERNELS = {
  im2col: defineKernel('im2col', 'im2col', ['read', 'write', 'uniform']),
  col2im: defineKernel('im2col', 'col2im_gather', ['read', 'write', 'uniform']),
  im2colRows: defineKernel('im2col', 'im2col_rows', ['read', 'write', 'uniform']),
  im2colRowsV4: defineKernel('im2col', 'im2col_rows_v4', ['read', 'write', 'uniform']),
  im2colRowsQuads: defineKernel('im2col', 'im2col_rows_quads', ['read', 'write', 'uniform']),
  col2imPixels: defineKernel('im2col', 'col2im_pixels', ['read', 'write', 'uniform']),
  col2imPixelsV4: defineKernel('im2col', 'col2im_pixels_v4', ['read', 'write', 'uniform']),
};

/**
 * 'element': a thread per output element; 'rows': a thread per im2col row (or, for col2im, per
 * input pixel) copying runs of channels, vec4 when C % 4 == 0, else 4 columns at a time where the
 * rows are padded to a multiple of 4 (im2col_rows_quads). Default: see defaultVariant.
 */
export type Im2colVariant = 'element' | 'rows';

/**
 * 'rows' where the stores vectorise (channels, or padded rows for im2col): measured 2–6× faster on
 * SwiftShader, whose integer divisions a thread per element pays for every element; 'element' else
 * (C = 1 was slower as scalar rows).
 */
const defaultVariant = (d: WindowDims, rowStride = 1): Im2colVariant => (d.channels % 4 === 0 || rowStride % 4 === 0 ? 'rows' : 'element');
const vec4Ok = (d: WindowDims, ...bufs: GPUBuffer[]) => d.channels % 4 === 0 && vec4Bindable(...bufs);

/** Rows of the column matrix: N·Ho·Wo. */
export const colRows = (d: WindowDims) => d.batch * d.outHeight * d.outWidth;
/** Columns of the column matrix: Fh·Fw·C, ordered (fh, fw, c). */
export const colCols = (d: WindowDims) => d.windowHeight * d.windowWidth * d.channels;

/**
 * cols[N·Ho·Wo, Fh·Fw·C] from x[N,H,W,C]; zero where the patch covers padding. Rows are `rowStride`
 * floats apart (default Fh·Fw·C); the padding columns are zeros with im2col_rows_quads ('rows' for
 * C % 4 != 0) and left as they were otherwise.
 */
export function im2col(
  step: Step,
  buf: { x: GPUBuffer; cols: GPUBuffer },
  d: WindowDims,
  variant?: Im2colVariant,
  rowStride = colCols(d),
): void {
  variant ??= step.tuning.im2colVariant ?? defaultVariant(d, rowStride);
  if (!Number.isInteger(rowStride) || rowStride < colCols(d)) throw new Error(`filtro: im2col rowStride ${rowStride} is shorter than a patch (${colCols(d)})`);
  const u = windowUniforms(d, 'im2col', rowStride);
  const total = colRows(d) * colCols(d);
  needBytes(buf.x, inputSize(d), 'im2col x');
  needBytes(buf.cols, colRows(d) * rowStride, 'im2col cols');
  if (total === 0) return;
  if (variant === 'rows') {
    const kernel = vec4Ok(d, buf.x, buf.cols) ? IM2COL_KERNELS.im2colRowsV4
      : rowStride % 4 === 0 && vec4Bindable(buf.cols) ? IM2COL_KERNELS.im2colRowsQuads
      : IM2COL_KERNELS.im2colRows;
    step.dispatch(kernel, { buffers: [buf.x, buf.cols], uniforms: u, workgroups: groupsFor(colRows(d), WG) });
    return;
  }
  step.dispatch(IM2COL_KERNELS.im2col, { buffers: [buf.x, buf.cols], uniforms: u, workgroups: groupsFor(total, WG) });
}

/** dx[N,H,W,C] = the sum of every dcols entry that im2col copied from that input cell. */
export function col2im(step: Step, buf: { dcols: GPUBuffer; dx: GPUBuffer }, d: WindowDims, variant: Im2colVariant = step.tuning.im2colVariant ?? defaultVariant(d)): void {
  const u = windowUniforms(d, 'col2im', colCols(d));
  needBytes(buf.dcols, colRows(d) * colCols(d), 'col2im dcols');
  needBytes(buf.dx, inputSize(d), 'col2im dx');
  if (variant === 'rows') {
    const kernel = vec4Ok(d, buf.dcols, buf.dx) ? IM2COL_KERNELS.col2imPixelsV4 : IM2COL_KERNELS.col2imPixels;
    if (inputSize(d) > 0) step.dispatch(kernel, { buffers: [buf.dcols, buf.dx], uniforms: u, workgroups: groupsFor(d.batch * d.inHeight * d.inWidth, WG) });
    return;
  }
  step.dispatch(IM2COL_KERNELS.col2im, { buffers: [buf.dcols, buf.dx], uniforms: u, workgroups: groupsFor(inputSize(d), WG) });
}
