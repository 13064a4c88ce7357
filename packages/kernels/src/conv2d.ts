// conv2d as compositions of im2col.ts, gemm.ts and reduce.ts (DESIGN §4). Filters are
// [Fh, Fw, Cin, K], i.e. a [Fh·Fw·Cin, K] matrix whose rows follow im2col's column order.
// A 1×1 filter with stride 1 and no padding skips im2col: x already is [N·H·W, Cin].

import type { Step } from './encoder.js';
import { gemm, type Activation, type GemmVariant } from './gemm.js';
import { col2im, colCols, colRows, im2col } from './im2col.js';
import { columnSums } from './reduce.js';
import { needBytes, needDims, vec4Bindable } from './check.js';
import { groupsFor } from './grid.js';
import { defineKernel } from './kernel.js';
import { inputSize, windowUniforms, type WindowDims } from './window.js';

export interface ConvDims extends WindowDims {
  /** K, the number of filters. */
  outChannels: number;
  activation?: Activation;
  gemmVariant?: GemmVariant;
}

const isPointwise = (d: WindowDims) =>
  d.windowHeight === 1 && d.windowWidth === 1 && d.strideHeight === 1 && d.strideWidth === 1 &&
  d.padTop === 0 && d.padLeft === 0 && d.outHeight === d.inHeight && d.outWidth === d.inWidth;

/**
 * The row length of conv2dColumns' buffer: Fh·Fw·C rounded up to a multiple of 4, so the GEMMs
 * that read it take aligned vec4 loads (and share pipelines with the aligned layers); C for a
 * pointwise filter, whose columns are x itself.
 */
export const colStride = (d: WindowDims) => (isPointwise(d) ? d.channels : Math.ceil(colCols(d) / 4) * 4);

/**
 * x's im2col columns for `d` (x itself for a pointwise filter), rows colStride(d) apart, in a step
 * temporary. Pass them as `cols` to the forward and the filter gradient of the same x so im2col
 * runs once per step.
 */
export function conv2dColumns(step: Step, x: GPUBuffer, d: WindowDims): GPUBuffer {
  if (isPointwise(d)) return x;
  const cols = step.temporary(colRows(d) * colStride(d) * 4, 'conv2d cols');
  im2col(step, { x, cols }, d, undefined, colStride(d));
  return cols;
}

/** y[N,Ho,Wo,K] = act(conv(x, filter) + bias); `cols`: x's columns from conv2dColumns, if made already. */
export function conv2dForward(
  step: Step,
  buf: { x: GPUBuffer; filter: GPUBuffer; bias?: GPUBuffer; y: GPUBuffer; cols?: GPUBuffer },
  d: ConvDims,
): void {
  const cols = buf.cols ?? conv2dColumns(step, buf.x, d);
  gemm(step, { a: cols, b: buf.filter, bias: buf.bias, c: buf.y }, {
    m: colRows(d), n: d.outChannels, k: colCols(d), lda: colStride(d), activation: d.activation, variant: d.gemmVariant,
  });
}

/** dfilter[Fh,Fw,Cin,K] = colsᵀ · dy. */
export function conv2dBackwardFilter(
  step: Step,
  buf: { x: GPUBuffer; dy: GPUBuffer; dfilter: GPUBuffer; cols?: GPUBuffer },
  d: ConvDims,
): void {
  const cols = buf.cols ?? conv2dColumns(step, buf.x, d);
  gemm(step, { a: cols, b: buf.dy, c: buf.dfilter }, {
    m: colCols(d), n: d.outChannels, k: colRows(d), transA: true, lda: colStride(d), variant: d.gemmVariant,
  });
}

export const CONV_KERNELS = {
  backwardInput: defineKernel('conv', 'conv_backward_input', ['read', 'read', 'write', 'uniform']),
};

/**
 * How conv2dBackwardInput computes dx: 'gemm' (dy · filterᵀ into a column buffer, then col2im) or
 * 'direct' (conv.wgsl: gathered per input cell, no column buffer; needs K % 4 == 0).
 */
export type ConvBackwardInputVariant = 'gemm' | 'direct';

const directOk = (d: ConvDims, ...bufs: GPUBuffer[]) => d.outChannels % 4 === 0 && vec4Bindable(...bufs);

/**
 * conv_backward_input's pixels a thread (4 to 8): the most that waste fewest columns of a row of
 * `width` (14 → 7, 16 → 8, 10 → 5). More pixels share each filter load among more outputs.
 */
function pixelsPerThread(width: number): number {
  let best = 8;
  for (let px = 7; px >= 4; px--) if (Math.ceil(width / px) * px < Math.ceil(width / best) * best) best = px;
  return best;
}

/** dx[N,H,W,Cin] = the gradient of conv2d with respect to its input, from dy and the filter. */
export function conv2dBackwardInput(
  step: Step,
  buf: { dy: GPUBuffer; filter: GPUBuffer; dx: GPUBuffer },
  d: ConvDims,
  variant: ConvBackwardInputVariant = step.tuning.convBackwardInputVariant ?? 'direct',
): void {
  const pointwise = isPointwise(d);
  if (variant === 'direct' && !pointwise && directOk(d, buf.dy, buf.filter)) {
    needDims({ outChannels: d.outChannels }, 'conv2dBackwardInput', 1);
    needBytes(buf.dy, d.batch * d.outHeight * d.outWidth * d.outChannels, 'conv2dBackwardInput dy');
    needBytes(buf.filter, colCols(d) * d.outChannels, 'conv2dBackwardInput filter');
    needBytes(buf.dx, inputSize(d), 'conv2dBackwardInput dx');
    const px = pixelsPerThread(d.inWidth);
    const threads = d.batch * d.inHeight * Math.ceil(d.inWidth / px) * Math.ceil(d.channels / 8);
    step.dispatch(CONV_KERNELS.backwardInput, {
      buffers: [buf.dy, buf.filter, buf.dx],
      uniforms: windowUniforms(d, 'conv2dBackwardInput', d.outChannels),
      constants: { PX: px, ONE_BLOCK: d.channels <= 8 },
      workgroups: groupsFor(threads, 64),
    });
    return;
  }
  const dcols = pointwise ? buf.dx : step.temporary(colRows(d) * colCols(d) * 4, 'conv2d dcols');
  gemm(step, { a: buf.dy, b: buf.filter, c: dcols }, {
    m: colRows(d), n: colCols(d), k: d.outChannels, transB: true, variant: d.gemmVariant,
  });
  if (!pointwise) col2im(step, { dcols, dx: buf.dx }, d);
}

/** dbias[K] = Σ dy over N, Ho, Wo. */
export function conv2dBackwardBias(step: Step, buf: { dy: GPUBuffer; dbias: GPUBuffer }, d: ConvDims): void {
  columnSums(step, { x: buf.dy, out: buf.dbias }, { rows: colRows(d), cols: d.outChannels });
}
