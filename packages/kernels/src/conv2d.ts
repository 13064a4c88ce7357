// conv2d as compositions of im2col.ts, gemm.ts and reduce.ts (DESIGN §4). Filters are
// [Fh, Fw, Cin, K], i.e. a [Fh·Fw·Cin, K] matrix whose rows follow im2col's column order.
// A 1×1 filter with stride 1 and no padding skips im2col: x already is [N·H·W, Cin].

import type { Step } from './encoder.js';
import { gemm, type Activation, type GemmVariant } from './gemm.js';
import { col2im, colCols, colRows, im2col } from './im2col.js';
import { columnSums } from './reduce.js';
import type { WindowDims } from './window.js';

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
 * x's im2col columns for `d` (x itself for a pointwise filter), in a step temporary. Pass them as
 * `cols` to the forward and the filter gradient of the same x so im2col runs once per step.
 */
export function conv2dColumns(step: Step, x: GPUBuffer, d: WindowDims): GPUBuffer {
  if (isPointwise(d)) return x;
  const cols = step.temporary(colRows(d) * colCols(d) * 4, 'conv2d cols');
  im2col(step, { x, cols }, d);
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
    m: colRows(d), n: d.outChannels, k: colCols(d), activation: d.activation, variant: d.gemmVariant,
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
    m: colCols(d), n: d.outChannels, k: colRows(d), transA: true, variant: d.gemmVariant,
  });
}

/** dx[N,H,W,Cin] = col2im(dy · filterᵀ). */
export function conv2dBackwardInput(
  step: Step,
  buf: { dy: GPUBuffer; filter: GPUBuffer; dx: GPUBuffer },
  d: ConvDims,
): void {
  const pointwise = isPointwise(d);
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
