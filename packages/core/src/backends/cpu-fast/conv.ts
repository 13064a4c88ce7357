// Fast CPU 2-D convolution over NHWC maps: im2col + the blocked GEMM of gemm.ts.
//
// Layouts: x [N, H, W, Cin]; filters [Fh, Fw, Cin, K]; output [N, Ho, Wo, K]. The window of output
// (oh, ow) starts at (oh·strideH − padTop, ow·strideW − padLeft); cells outside the input are zero.
// The patch matrix ("cols") has one row per output pixel, r = (n·Ho + oh)·Wo + ow, and one column
// per filter tap, p = (fh·Fw + fw)·Cin + cin, so the filters read as a [Fh·Fw·Cin, K] matrix as they
// are stored. When that matrix is x itself (a 1×1 stride-1 unpadded conv, or a window that covers
// the whole unpadded input) the copy is skipped.
//
// The patch matrix lives in a module-level scratch buffer that grows as needed (no large temporary
// is allocated per call in steady state); only the returned results are new arrays.

import type { Activation, ConvGeometry } from '../../ops/conv-geometry.js';
import { gemm, releaseGemmScratch } from './gemm.js';

let colsScratch = new Float32Array(0);

/** Frees the patch-matrix and GEMM scratch (they grow again on the next call). */
export function releaseConvScratch(): void {
  colsScratch = new Float32Array(0);
  releaseGemmScratch();
}

function scratchCols(n: number): Float32Array {
  if (colsScratch.length < n) colsScratch = new Float32Array(n);
  return colsScratch;
}

/** Rows (output pixels) and columns (filter taps) of the patch matrix of g. */
function colsShape(g: ConvGeometry): [rows: number, taps: number] {
  return [g.batch * g.outHeight * g.outWidth, g.windowHeight * g.windowWidth * g.channels];
}

/** True when the patch matrix of g is x itself, row for row. */
function colsIsInput(g: ConvGeometry): boolean {
  if (g.padTop !== 0 || g.padLeft !== 0 || g.padBottom !== 0 || g.padRight !== 0) return false;
  const pointwise =
    g.windowHeight === 1 && g.windowWidth === 1 && g.strideHeight === 1 && g.strideWidth === 1;
  const whole = g.windowHeight === g.inHeight && g.windowWidth === g.inWidth;
  return pointwise || whole;
}

function checkGeometry(g: ConvGeometry, where: string): void {
  const values = [
    g.batch, g.inHeight, g.inWidth, g.channels, g.windowHeight, g.windowWidth, g.strideHeight,
    g.strideWidth, g.padTop, g.padLeft, g.padBottom, g.padRight, g.outHeight, g.outWidth,
    g.outChannels,
  ];
  for (const v of values) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${where}: bad geometry ${JSON.stringify(g)}`);
  }
  if (g.strideHeight < 1 || g.strideWidth < 1 || g.windowHeight < 1 || g.windowWidth < 1) {
    throw new Error(`${where}: window and stride must be at least 1, got ${JSON.stringify(g)}`);
  }
  const ho = Math.floor((g.inHeight + g.padTop + g.padBottom - g.windowHeight) / g.strideHeight) + 1;
  const wo = Math.floor((g.inWidth + g.padLeft + g.padRight - g.windowWidth) / g.strideWidth) + 1;
  if (ho !== g.outHeight || wo !== g.outWidth) {
    throw new Error(
      `${where}: output ${g.outHeight}×${g.outWidth} does not match the geometry (expected ` +
        `${ho}×${wo})`,
    );
  }
}

function checkLength(a: Float32Array, n: number, what: string, where: string): void {
  if (a.length < n) throw new Error(`${where}: ${what} has ${a.length} values, needs ${n}`);
}

/**
 * Writes the patch matrix of x into cols: row (n·Ho + oh)·Wo + ow, column (fh·Fw + fw)·Cin + cin,
 * zero where the window is outside the input. cols needs N·Ho·Wo·Fh·Fw·Cin values.
 */
export function im2col(x: Float32Array, g: ConvGeometry, cols: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, channels: C, windowHeight: Fh, windowWidth: Fw } = g;
  const { strideHeight: sh, strideWidth: sw, padTop, padLeft, outHeight: Ho, outWidth: Wo } = g;
  const spanLen = Fw * C; // one window row: Fw taps × C channels, contiguous in x
  const rowStride = W * C;
  let dst = 0;
  for (let n = 0; n < batch; n++) {
    const xn = n * H * W * C;
    for (let oh = 0; oh < Ho; oh++) {
      const ih0 = oh * sh - padTop;
      const rowsInside = ih0 >= 0 && ih0 + Fh <= H;
      for (let ow = 0; ow < Wo; ow++) {
        const iw0 = ow * sw - padLeft;
        if (rowsInside && iw0 >= 0 && iw0 + Fw <= W) {
          // The whole window is inside the input: Fh contiguous spans.
          let src = xn + ih0 * rowStride + iw0 * C;
          for (let fh = 0; fh < Fh; fh++) {
            for (let i = 0; i < spanLen; i++) cols[dst + i] = x[src + i];
            dst += spanLen;
            src += rowStride;
          }
          continue;
        }
        // Taps fw in [fwLo, fwHi) fall inside the input row; the rest are zero.
        const lead = Math.min(iw0 < 0 ? -iw0 : 0, Fw) * C;
        const end = Math.max(Math.min(Fw, W - iw0) * C, lead);
        for (let fh = 0; fh < Fh; fh++) {
          const ih = ih0 + fh;
          if (ih < 0 || ih >= H) {
            for (let i = 0; i < spanLen; i++) cols[dst + i] = 0;
          } else {
            const src = xn + ih * rowStride + iw0 * C;
            for (let i = 0; i < lead; i++) cols[dst + i] = 0;
            for (let i = lead; i < end; i++) cols[dst + i] = x[src + i];
            for (let i = end; i < spanLen; i++) cols[dst + i] = 0;
          }
          dst += spanLen;
        }
      }
    }
  }
}

/** Adds each patch row of cols back into dx (zeroed by the caller): the adjoint of im2col. */
function col2imAdd(cols: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, channels: C, windowHeight: Fh, windowWidth: Fw } = g;
  const { strideHeight: sh, strideWidth: sw, padTop, padLeft, outHeight: Ho, outWidth: Wo } = g;
  const spanLen = Fw * C;
  const rowStride = W * C;
  let src = 0;
  for (let n = 0; n < batch; n++) {
    const xn = n * H * W * C;
    for (let oh = 0; oh < Ho; oh++) {
      const ih0 = oh * sh - padTop;
      const rowsInside = ih0 >= 0 && ih0 + Fh <= H;
      for (let ow = 0; ow < Wo; ow++) {
        const iw0 = ow * sw - padLeft;
        if (rowsInside && iw0 >= 0 && iw0 + Fw <= W) {
          let d = xn + ih0 * rowStride + iw0 * C;
          for (let fh = 0; fh < Fh; fh++) {
            for (let i = 0; i < spanLen; i++) dx[d + i] += cols[src + i];
            src += spanLen;
            d += rowStride;
          }
          continue;
        }
        const lead = Math.min(iw0 < 0 ? -iw0 : 0, Fw) * C;
        const end = Math.max(Math.min(Fw, W - iw0) * C, lead);
        for (let fh = 0; fh < Fh; fh++) {
          const ih = ih0 + fh;
          if (ih >= 0 && ih < H) {
            const d = xn + ih * rowStride + iw0 * C;
            for (let i = lead; i < end; i++) dx[d + i] += cols[src + i];
          }
          src += spanLen;
        }
      }
    }
  }
}

/**
 * y = activation(conv(x, w) + bias): x [N,H,W,Cin], w [Fh,Fw,Cin,K], bias [K] or null; returns
 * [N,Ho,Wo,K] (written into out when given, which must not alias x or w).
 */
export function conv2dForward(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  g: ConvGeometry,
  activation: Activation,
  out?: Float32Array,
): Float32Array {
  const where = 'conv2dForward';
  checkGeometry(g, where);
  if (activation !== 'none' && activation !== 'relu') {
    throw new Error(`${where}: unknown activation ${String(activation)}`);
  }
  const [rows, taps] = colsShape(g);
  const K = g.outChannels;
  checkLength(x, g.batch * g.inHeight * g.inWidth * g.channels, 'x', where);
  checkLength(w, taps * K, 'w', where);
  if (bias !== null) checkLength(bias, K, 'bias', where);
  const y = out ?? new Float32Array(rows * K);
  checkLength(y, rows * K, 'out', where);
  let cols = x;
  if (!colsIsInput(g)) {
    cols = scratchCols(rows * taps);
    im2col(x, g, cols);
  }
  gemm(cols, w, y, rows, K, taps, false, false);
  epilogue(y, rows, K, bias, activation);
  return y;
}

/** y[r, k] = act(y[r, k] + bias[k]) over rows × K. */
function epilogue(
  y: Float32Array,
  rows: number,
  K: number,
  bias: Float32Array | null,
  activation: Activation,
): void {
  const total = rows * K;
  if (bias === null) {
    if (activation === 'relu') for (let i = 0; i < total; i++) if (y[i] < 0) y[i] = 0;
    return;
  }
  if (activation === 'relu') {
    for (let base = 0; base < total; base += K) {
      for (let k = 0; k < K; k++) {
        const v = y[base + k] + bias[k];
        y[base + k] = v < 0 ? 0 : v;
      }
    }
  } else {
    for (let base = 0; base < total; base += K) {
      for (let k = 0; k < K; k++) y[base + k] += bias[k];
    }
  }
}

/**
 * dx = ∂L/∂x of a conv given dy [N,Ho,Wo,K] and w [Fh,Fw,Cin,K]: col2im(dy·wᵀ), returns
 * [N,H,W,Cin] (written into out when given).
 */
export function conv2dBackpropInput(
  dy: Float32Array,
  w: Float32Array,
  g: ConvGeometry,
  out?: Float32Array,
): Float32Array {
  const where = 'conv2dBackpropInput';
  checkGeometry(g, where);
  const [rows, taps] = colsShape(g);
  const K = g.outChannels;
  const xLen = g.batch * g.inHeight * g.inWidth * g.channels;
  checkLength(dy, rows * K, 'dy', where);
  checkLength(w, taps * K, 'w', where);
  const dx = out ?? new Float32Array(xLen);
  checkLength(dx, xLen, 'out', where);
  if (colsIsInput(g)) {
    gemm(dy, w, dx, rows, taps, K, false, true);
    return dx;
  }
  const dcols = scratchCols(rows * taps);
  gemm(dy, w, dcols, rows, taps, K, false, true);
  dx.fill(0, 0, xLen);
  col2imAdd(dcols, g, dx);
  return dx;
}

/**
 * dw = ∂L/∂w of a conv given x [N,H,W,Cin] and dy [N,Ho,Wo,K]: colsᵀ·dy, returns [Fh,Fw,Cin,K]
 * (written into out when given).
 */
export function conv2dBackpropFilter(
  x: Float32Array,
  dy: Float32Array,
  g: ConvGeometry,
  out?: Float32Array,
): Float32Array {
  const where = 'conv2dBackpropFilter';
  checkGeometry(g, where);
  const [rows, taps] = colsShape(g);
  const K = g.outChannels;
  checkLength(x, g.batch * g.inHeight * g.inWidth * g.channels, 'x', where);
  checkLength(dy, rows * K, 'dy', where);
  const dw = out ?? new Float32Array(taps * K);
  checkLength(dw, taps * K, 'out', where);
  let cols = x;
  if (!colsIsInput(g)) {
    cols = scratchCols(rows * taps);
    im2col(x, g, cols);
  }
  gemm(cols, dy, dw, taps, K, rows, true, false);
  return dw;
}
