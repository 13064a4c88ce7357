// conv2d: K filters of Fh×Fw×Cin slide over NHWC maps; optional bias and fused activation.
// Output size per axis: floor((in − F + padBefore + padAfter) / stride) + 1 (the lecture's
// W2 = (W1 − F + 2P)/S + 1, floored as in PyTorch and TensorFlow when it is not an integer).
//
// Backward, with g = dL/dy after the activation's mask:
//   dx = conv2dBackpropInput(g, w)   each input pixel sums w·g over the outputs whose patch covered it
//   dw = conv2dBackpropFilter(x, g)  each weight sums x·g over every place the filter visited
//   db = sum of g over batch, height and width
import { checkDType, checkOptions, checkPair, checkRank, describe, fail } from '../errors.js';
import { apply1 } from '../graph.js';
import type { Tensor } from '../tensor.js';
import type { HostArray, TensorSpec } from '../types.js';
import type { Activation, ConvGeometry } from './conv-geometry.js';
import { defineOp } from './define-op.js';
import { sum } from './reduce.js';
import { unaryGrad } from './unary.js';

export type Padding = number | [number, number] | 'same' | 'valid';

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: Padding;
  bias?: Tensor;
  activation?: Activation;
}

export interface ConvAttrs {
  strideHeight: number;
  strideWidth: number;
  /** 'same' is resolved per axis when the input shape is known. */
  padding: [number, number] | 'same';
  activation: Activation;
}

/** Pads per side for one axis. 'same' gives ceil(in/stride) outputs, the extra cell going after. */
export function resolvePadding(padding: [number, number] | 'same', inH: number, inW: number, fh: number, fw: number, sh: number, sw: number) {
  if (padding !== 'same') return { top: padding[0], bottom: padding[0], left: padding[1], right: padding[1] };
  const total = (size: number, f: number, s: number) => Math.max((Math.ceil(size / s) - 1) * s + f - size, 0);
  const th = total(inH, fh, sh);
  const tw = total(inW, fw, sw);
  return { top: Math.floor(th / 2), bottom: th - Math.floor(th / 2), left: Math.floor(tw / 2), right: tw - Math.floor(tw / 2) };
}

/** Output size along one axis, or a FiltroError quoting the formula with the numbers. */
export function windowOutputSize(fn: string, axis: string, size: number, window: number, padBefore: number, padAfter: number, stride: number, context: string): number {
  const out = Math.floor((size - window + padBefore + padAfter) / stride) + 1;
  if (out < 1) {
    fail(fn, `output ${axis} = floor((${axis === 'height' ? 'H' : 'W'} − F + padBefore + padAfter) / S) + 1 = floor((${size} − ${window} + ${padBefore} + ${padAfter}) / ${stride}) + 1 = ${out} must be ≥ 1: the window is larger than the padded input (${context})`);
  }
  return out;
}

export function convGeometry(fn: string, x: TensorSpec, w: TensorSpec, attrs: ConvAttrs): ConvGeometry {
  const [batch, inHeight, inWidth, channels] = x.shape;
  const [windowHeight, windowWidth, , outChannels] = w.shape;
  const pad = resolvePadding(attrs.padding, inHeight, inWidth, windowHeight, windowWidth, attrs.strideHeight, attrs.strideWidth);
  const context = `input ${describe(x)}, filter ${describe(w)}, stride [${attrs.strideHeight},${attrs.strideWidth}]`;
  return {
    batch, inHeight, inWidth, channels, windowHeight, windowWidth, outChannels,
    strideHeight: attrs.strideHeight, strideWidth: attrs.strideWidth,
    padTop: pad.top, padBottom: pad.bottom, padLeft: pad.left, padRight: pad.right,
    outHeight: windowOutputSize(fn, 'height', inHeight, windowHeight, pad.top, pad.bottom, attrs.strideHeight, context),
    outWidth: windowOutputSize(fn, 'width', inWidth, windowWidth, pad.left, pad.right, attrs.strideWidth, context),
  };
}

function checkConvInputs(fn: string, x: TensorSpec, w: TensorSpec): void {
  checkRank(fn, 'input', x, 4, '[N, H, W, C]');
  checkRank(fn, 'filter', w, 4, '[Fh, Fw, Cin, K]');
  checkDType(fn, 'input', x, 'float32');
  checkDType(fn, 'filter', w, 'float32');
  if (w.shape[2] !== x.shape[3]) {
    fail(fn, `filter depth Cin = ${w.shape[2]} must equal the input's channels C = ${x.shape[3]} (input ${describe(x)}, filter ${describe(w)})`);
  }
}

/** Plain loops over every output cell and every filter tap. */
function referenceConv(x: Float32Array, w: Float32Array, b: Float32Array | null, g: ConvGeometry, activation: Activation): Float32Array {
  const { batch, inHeight, inWidth, channels: C, windowHeight, windowWidth, outChannels: K, outHeight, outWidth } = g;
  const y = new Float32Array(batch * outHeight * outWidth * K);
  for (let n = 0; n < batch; n++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let ow = 0; ow < outWidth; ow++)
        for (let k = 0; k < K; k++) {
          let acc = b ? b[k] : 0;
          for (let fh = 0; fh < windowHeight; fh++) {
            const ih = oh * g.strideHeight - g.padTop + fh;
            if (ih < 0 || ih >= inHeight) continue;
            for (let fw = 0; fw < windowWidth; fw++) {
              const iw = ow * g.strideWidth - g.padLeft + fw;
              if (iw < 0 || iw >= inWidth) continue;
              for (let c = 0; c < C; c++) {
                acc += x[((n * inHeight + ih) * inWidth + iw) * C + c] * w[((fh * windowWidth + fw) * C + c) * K + k];
              }
            }
          }
          y[((n * outHeight + oh) * outWidth + ow) * K + k] = activation === 'relu' ? Math.max(acc, 0) : acc;
        }
  return y;
}

export const conv2dOp = defineOp<ConvAttrs>({
  name: 'conv2d',
  outputs([x, w, b], attrs) {
    checkConvInputs('conv2d', x, w);
    if (b && (b.shape.length !== 1 || b.shape[0] !== w.shape[3] || b.dtype !== 'float32')) {
      fail('conv2d', `bias must be float32 [K] with K = ${w.shape[3]} filters, got ${describe(b)}`);
    }
    const g = convGeometry('conv2d', x, w, attrs);
    return [{ shape: [g.batch, g.outHeight, g.outWidth, g.outChannels], dtype: 'float32' }];
  },
  reference([x, w, b], [xs, ws], attrs) {
    return [referenceConv(x as Float32Array, w as Float32Array, (b as Float32Array) ?? null, convGeometry('conv2d', xs, ws, attrs), attrs.activation)];
  },
  backward([dy], { inputs: [x, w, b], outputs: [y], attrs }) {
    const g = attrs.activation === 'relu' ? unaryGrad(dy!, y, 'relu') : dy!;
    return [
      apply1(conv2dBackpropInputOp, [g, w], { ...attrs, inputShape: x.shape }),
      apply1(conv2dBackpropFilterOp, [x, g], { ...attrs, filterShape: w.shape }),
      ...(b ? [sum(g, [0, 1, 2])] : []),
    ];
  },
});

export interface BackpropInputAttrs extends ConvAttrs {
  inputShape: readonly number[];
}

export interface BackpropFilterAttrs extends ConvAttrs {
  filterShape: readonly number[];
}

const spec = (shape: readonly number[]): TensorSpec => ({ shape, dtype: 'float32' });

function checkGradShape(fn: string, dy: TensorSpec, g: ConvGeometry): void {
  const want = [g.batch, g.outHeight, g.outWidth, g.outChannels];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== want[i])) {
    fail(fn, `output gradient must be [${want.join(',')}], got ${describe(dy)}`);
  }
}

/** dx[n,ih,iw,c] = Σ over outputs whose patch covers (ih,iw): dy[n,oh,ow,k] · w[fh,fw,c,k]. */
export const conv2dBackpropInputOp = defineOp<BackpropInputAttrs>({
  name: 'conv2dBackpropInput',
  outputs([dy, w], attrs) {
    const x = spec(attrs.inputShape);
    checkConvInputs('conv2dBackpropInput', x, w);
    checkGradShape('conv2dBackpropInput', dy, convGeometry('conv2dBackpropInput', x, w, attrs));
    return [x];
  },
  reference([dyArr, wArr], [, ws], attrs) {
    const dy = dyArr as Float32Array;
    const w = wArr as Float32Array;
    const g = convGeometry('conv2dBackpropInput', spec(attrs.inputShape), ws, attrs);
    const { inHeight, inWidth, channels: C, windowWidth, outChannels: K } = g;
    const dx = new Float32Array(g.batch * inHeight * inWidth * C);
    for (let n = 0; n < g.batch; n++)
      for (let oh = 0; oh < g.outHeight; oh++)
        for (let ow = 0; ow < g.outWidth; ow++)
          for (let fh = 0; fh < g.windowHeight; fh++) {
            const ih = oh * g.strideHeight - g.padTop + fh;
            if (ih < 0 || ih >= inHeight) continue;
            for (let fw = 0; fw < windowWidth; fw++) {
              const iw = ow * g.strideWidth - g.padLeft + fw;
              if (iw < 0 || iw >= inWidth) continue;
              for (let c = 0; c < C; c++) {
                let acc = 0;
                for (let k = 0; k < K; k++) acc += dy[((n * g.outHeight + oh) * g.outWidth + ow) * K + k] * w[((fh * windowWidth + fw) * C + c) * K + k];
                dx[((n * inHeight + ih) * inWidth + iw) * C + c] += acc;
              }
            }
          }
    return [dx];
  },
});

/** dw[fh,fw,c,k] = Σ over n, oh, ow: x[n, oh·S−P+fh, ow·S−P+fw, c] · dy[n,oh,ow,k]. */
export const conv2dBackpropFilterOp = defineOp<BackpropFilterAttrs>({
  name: 'conv2dBackpropFilter',
  outputs([x, dy], attrs) {
    const w = spec(attrs.filterShape);
    checkConvInputs('conv2dBackpropFilter', x, w);
    checkGradShape('conv2dBackpropFilter', dy, convGeometry('conv2dBackpropFilter', x, w, attrs));
    return [w];
  },
  reference([xArr, dyArr], [xs], attrs) {
    const x = xArr as Float32Array;
    const dy = dyArr as Float32Array;
    const g = convGeometry('conv2dBackpropFilter', xs, spec(attrs.filterShape), attrs);
    const { inHeight, inWidth, channels: C, windowWidth, outChannels: K } = g;
    const dw = new Float32Array(g.windowHeight * windowWidth * C * K);
    for (let fh = 0; fh < g.windowHeight; fh++)
      for (let fw = 0; fw < windowWidth; fw++)
        for (let c = 0; c < C; c++)
          for (let k = 0; k < K; k++) {
            let acc = 0;
            for (let n = 0; n < g.batch; n++)
              for (let oh = 0; oh < g.outHeight; oh++) {
                const ih = oh * g.strideHeight - g.padTop + fh;
                if (ih < 0 || ih >= inHeight) continue;
                for (let ow = 0; ow < g.outWidth; ow++) {
                  const iw = ow * g.strideWidth - g.padLeft + fw;
                  if (iw < 0 || iw >= inWidth) continue;
                  acc += x[((n * inHeight + ih) * inWidth + iw) * C + c] * dy[((n * g.outHeight + oh) * g.outWidth + ow) * K + k];
                }
              }
            dw[((fh * windowWidth + fw) * C + c) * K + k] = acc;
          }
    return [dw];
  },
});

/** Normalises stride and padding options (shared with pooling). */
export function parseStridePadding(fn: string, stride: unknown, padding: unknown): Pick<ConvAttrs, 'strideHeight' | 'strideWidth' | 'padding'> {
  const [strideHeight, strideWidth] = checkPair(fn, 'stride', stride ?? 1, 1);
  let pad: ConvAttrs['padding'];
  if (padding === 'same') pad = 'same';
  else if (padding === 'valid' || padding === undefined) pad = [0, 0];
  else pad = checkPair(fn, 'padding', padding, 0);
  return { strideHeight, strideWidth, padding: pad };
}

export function checkActivation(fn: string, activation: unknown): Activation {
  if (activation === undefined || activation === 'none' || activation === 'linear') return 'none';
  if (activation === 'relu') return 'relu';
  return fail(fn, `activation must be 'relu' or 'none', got ${JSON.stringify(activation)}`);
}

/** 2-D convolution of NHWC `x` with filters `w` [Fh, Fw, Cin, K]; see DESIGN.md §1. */
export function conv2d(x: Tensor, w: Tensor, options: Conv2dOptions = {}): Tensor {
  checkOptions('conv2d', options, ['stride', 'padding', 'bias', 'activation']);
  const attrs: ConvAttrs = { ...parseStridePadding('conv2d', options.stride, options.padding), activation: checkActivation('conv2d', options.activation) };
  return apply1(conv2dOp, options.bias ? [x, w, options.bias] : [x, w], attrs);
}

