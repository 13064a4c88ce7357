// Max and average pooling: a window with its own stride slides over each map separately.
// Padding cells never win a max and are NOT counted in an average (each window divides by the
// number of input cells it covers), as in TensorFlow. Padding must be smaller than the window,
// so every window covers at least one input cell.
//
// Backward: max pooling sends each output's gradient to the input cell that won (the argmax
// saved by the forward pass); average pooling spreads it evenly over the cells that were averaged.
import { checkDType, checkOptions, checkPair, checkRank, describe, fail } from '../errors.js';
import { apply, apply1 } from '../graph.js';
import type { Tensor } from '../tensor.js';
import type { TensorSpec } from '../types.js';
import type { WindowGeometry } from './conv-geometry.js';
import { parseStridePadding, resolvePadding, windowOutputSize } from './conv2d.js';
import { defineOp } from './define-op.js';

export interface PoolAttrs {
  windowHeight: number;
  windowWidth: number;
  strideHeight: number;
  strideWidth: number;
  padding: [number, number] | 'same';
}

export function poolGeometry(fn: string, x: TensorSpec, attrs: PoolAttrs): WindowGeometry {
  checkRank(fn, 'input', x, 4, '[N, H, W, C]');
  checkDType(fn, 'input', x, 'float32');
  const [batch, inHeight, inWidth, channels] = x.shape;
  const { windowHeight, windowWidth, strideHeight, strideWidth } = attrs;
  const pad = resolvePadding(attrs.padding, inHeight, inWidth, windowHeight, windowWidth, strideHeight, strideWidth);
  if (Math.max(pad.top, pad.bottom) >= windowHeight || Math.max(pad.left, pad.right) >= windowWidth) {
    fail(fn, `padding [${pad.top},${pad.left}] must be smaller than the window [${windowHeight},${windowWidth}] so every window covers an input cell`);
  }
  const context = `input ${describe(x)}, window [${windowHeight},${windowWidth}], stride [${strideHeight},${strideWidth}]`;
  return {
    batch, inHeight, inWidth, channels, windowHeight, windowWidth, strideHeight, strideWidth,
    padTop: pad.top, padBottom: pad.bottom, padLeft: pad.left, padRight: pad.right,
    outHeight: windowOutputSize(fn, 'height', inHeight, windowHeight, pad.top, pad.bottom, strideHeight, context),
    outWidth: windowOutputSize(fn, 'width', inWidth, windowWidth, pad.left, pad.right, strideWidth, context),
  };
}

const outShape = (g: WindowGeometry) => [g.batch, g.outHeight, g.outWidth, g.channels];

/** Calls visit(outIndex, inIndex) for every input cell under every window, in row-major order. */
function forEachWindowCell(g: WindowGeometry, visit: (out: number, input: number) => void, start?: (out: number) => void): void {
  const C = g.channels;
  for (let n = 0; n < g.batch; n++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let c = 0; c < C; c++) {
          const out = ((n * g.outHeight + oh) * g.outWidth + ow) * C + c;
          start?.(out);
          for (let fh = 0; fh < g.windowHeight; fh++) {
            const ih = oh * g.strideHeight - g.padTop + fh;
            if (ih < 0 || ih >= g.inHeight) continue;
            for (let fw = 0; fw < g.windowWidth; fw++) {
              const iw = ow * g.strideWidth - g.padLeft + fw;
              if (iw >= 0 && iw < g.inWidth) visit(out, ((n * g.inHeight + ih) * g.inWidth + iw) * C + c);
            }
          }
        }
}

function checkPoolGrad(fn: string, dy: TensorSpec, g: WindowGeometry): void {
  const want = outShape(g);
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== want[i])) fail(fn, `output gradient must be [${want}], got ${describe(dy)}`);
}

/** Outputs: the pooled maps and, for backward, the flat input index of each window's maximum. */
export const maxPool2dOp = defineOp<PoolAttrs>({
  name: 'maxPool2d',
  outputs([x], attrs) {
    const shape = outShape(poolGeometry('maxPool2d', x, attrs));
    return [{ shape, dtype: 'float32' }, { shape, dtype: 'int32' }];
  },
  reference([x], [xs], attrs) {
    const g = poolGeometry('maxPool2d', xs, attrs);
    const size = g.batch * g.outHeight * g.outWidth * g.channels;
    const y = new Float32Array(size).fill(-Infinity);
    const argmax = new Int32Array(size).fill(-1);
    forEachWindowCell(g, (out, input) => {
      // The first maximum in row-major window order wins; a NaN wins so that it is not hidden.
      const v = x[input];
      if (argmax[out] < 0 || v > y[out] || (Number.isNaN(v) && !Number.isNaN(y[out]))) {
        y[out] = v;
        argmax[out] = input;
      }
    });
    return [y, argmax];
  },
  backward([dy], { inputs: [x], outputs: [, argmax], attrs }) {
    return [dy ? apply1(maxPool2dBackwardOp, [dy, argmax], { ...attrs, inputShape: x.shape }) : null];
  },
});

interface PoolBackwardAttrs extends PoolAttrs {
  inputShape: readonly number[];
}

export const maxPool2dBackwardOp = defineOp<PoolBackwardAttrs>({
  name: 'maxPool2dBackward',
  outputs([dy, argmax], attrs) {
    const x: TensorSpec = { shape: attrs.inputShape, dtype: 'float32' };
    const g = poolGeometry('maxPool2dBackward', x, attrs);
    checkPoolGrad('maxPool2dBackward', dy, g);
    checkPoolGrad('maxPool2dBackward', { ...argmax, dtype: 'float32' }, g);
    return [x];
  },
  reference([dy, argmax], _specs, attrs) {
    const dx = new Float32Array(attrs.inputShape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < dy.length; i++) dx[argmax[i]] += dy[i];
    return [dx];
  },
});

export const avgPool2dOp = defineOp<PoolAttrs>({
  name: 'avgPool2d',
  outputs([x], attrs) {
    return [{ shape: outShape(poolGeometry('avgPool2d', x, attrs)), dtype: 'float32' }];
  },
  reference([x], [xs], attrs) {
    const g = poolGeometry('avgPool2d', xs, attrs);
    const size = g.batch * g.outHeight * g.outWidth * g.channels;
    const y = new Float32Array(size);
    const count = new Float32Array(size);
    forEachWindowCell(g, (out, input) => {
      y[out] += x[input];
      count[out]++;
    });
    return [y.map((v, i) => v / count[i])];
  },
  backward([dy], { inputs: [x], attrs }) {
    return [apply1(avgPool2dBackwardOp, [dy!], { ...attrs, inputShape: x.shape })];
  },
});

export const avgPool2dBackwardOp = defineOp<PoolBackwardAttrs>({
  name: 'avgPool2dBackward',
  outputs([dy], attrs) {
    const x: TensorSpec = { shape: attrs.inputShape, dtype: 'float32' };
    checkPoolGrad('avgPool2dBackward', dy, poolGeometry('avgPool2dBackward', x, attrs));
    return [x];
  },
  reference([dy], _specs, attrs) {
    const g = poolGeometry('avgPool2dBackward', { shape: attrs.inputShape, dtype: 'float32' }, attrs);
    const dx = new Float32Array(attrs.inputShape.reduce((a, b) => a * b, 1));
    const count = new Float32Array(dy.length);
    forEachWindowCell(g, (out) => count[out]++);
    forEachWindowCell(g, (out, input) => {
      dx[input] += dy[out] / count[out];
    });
    return [dx];
  },
});

export interface PoolOptions {
  /** Window size: n or [height, width]. */
  size: number | [number, number];
  /** Defaults to the window size (non-overlapping windows). */
  stride?: number | [number, number];
  padding?: number | [number, number] | 'same' | 'valid';
}

function poolAttrs(fn: string, options: PoolOptions): PoolAttrs {
  if (options === undefined || options === null || typeof options !== 'object') fail(fn, `options { size, stride?, padding? } are required`);
  checkOptions(fn, options, ['size', 'stride', 'padding']);
  const [windowHeight, windowWidth] = checkPair(fn, 'size', options.size, 1);
  return { windowHeight, windowWidth, ...parseStridePadding(fn, options.stride ?? [windowHeight, windowWidth], options.padding) };
}

/** Max pooling over NHWC maps. */
export function maxPool2d(x: Tensor, options: PoolOptions): Tensor {
  return apply(maxPool2dOp, [x], poolAttrs('maxPool2d', options))[0];
}

/** Average pooling over NHWC maps (padding cells excluded from each average). */
export function avgPool2d(x: Tensor, options: PoolOptions): Tensor {
  return apply1(avgPool2dOp, [x], poolAttrs('avgPool2d', options));
}
