// Layers of a Sequential model. Shapes here exclude the batch: [H, W, C] for maps, [features] flat.
import { checkInt, checkOptions, checkPair, fail } from '../errors.js';
import { add } from '../ops/binary.js';
import { checkActivation, conv2d, convGeometry, parseStridePadding } from '../ops/conv2d.js';
import type { ConvAttrs, Padding } from '../ops/conv2d.js';
import type { Activation } from '../ops/conv-geometry.js';
import { tensor } from '../ops/create.js';
import { matmul } from '../ops/matmul.js';
import { avgPool2d, maxPool2d, poolGeometry } from '../ops/pool.js';
import type { PoolOptions } from '../ops/pool.js';
import { flatten } from '../ops/reshape.js';
import { relu } from '../ops/unary.js';
import type { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';
import { sizeOf } from '../types.js';
import { initWeights } from './init.js';

export interface LayerShapeInfo {
  /** Output shape without the batch. */
  outputShape: number[];
  /** How the output size was found, with the numbers (the lecture's formula). */
  formula?: string;
  /** Something the user should know, such as rows a stride never covers. */
  warning?: string;
}

export interface Layer {
  /** The class name, as in the architecture JSON. */
  readonly kind: string;
  /** The options it was made with (plain JSON), to save and rebuild the architecture. */
  readonly config: Record<string, unknown>;
  /** Checks the input shape, creates parameters, and returns the output shape. */
  build(inputShape: readonly number[], rng: Rng): LayerShapeInfo;
  forward(x: Tensor): Tensor;
  /** Trainable tensors by local name ('weight', 'bias'). */
  parameters(): [string, Tensor][];
}

function requireMaps(kind: string, inputShape: readonly number[]): [number, number, number] {
  if (inputShape.length !== 3) fail(kind, `expects maps [H, W, C], got [${inputShape}]${inputShape.length === 1 ? '; a flat input needs Dense, not a spatial layer' : ''}`);
  return inputShape as [number, number, number];
}

/** Rows or columns that the last window cannot reach: (in + pads − F) mod S. */
function uncovered(axis: string, size: number, window: number, pads: number, stride: number): string | undefined {
  const left = (size + pads - window) % stride;
  return left > 0 ? `stride ${stride} leaves the last ${left} ${axis} never covered ((${size} + ${pads} − ${window}) mod ${stride} = ${left})` : undefined;
}

function windowInfo(kind: string, inputShape: readonly number[], attrs: ConvAttrs, fh: number, fw: number, channelsOut: number): LayerShapeInfo {
  const [h, w, c] = requireMaps(kind, inputShape);
  const x = { shape: [1, h, w, c], dtype: 'float32' as const };
  const g = kind === 'Conv2d'
    ? convGeometry(kind, x, { shape: [fh, fw, c, channelsOut], dtype: 'float32' }, attrs)
    : poolGeometry(kind, x, { ...attrs, windowHeight: fh, windowWidth: fw });
  const ph = g.padTop + g.padBottom;
  const pw = g.padLeft + g.padRight;
  const warnings = [uncovered('rows', h, fh, ph, g.strideHeight), uncovered('columns', w, fw, pw, g.strideWidth)].filter(Boolean);
  return {
    outputShape: [g.outHeight, g.outWidth, channelsOut],
    formula: `(${h} − ${fh} + ${ph})/${g.strideHeight} + 1 = ${g.outHeight}, (${w} − ${fw} + ${pw})/${g.strideWidth} + 1 = ${g.outWidth}`,
    warning: warnings.length ? warnings.join('; ') : undefined,
  };
}

export interface Conv2dLayerOptions {
  filters: number;
  kernelSize: number | [number, number];
  stride?: number | [number, number];
  padding?: Padding;
  activation?: Activation;
  useBias?: boolean;
}

export class Conv2d implements Layer {
  readonly kind = 'Conv2d';
  readonly config: Record<string, unknown>;
  private readonly attrs: ConvAttrs;
  private readonly kernel: [number, number];
  private weight!: Tensor;
  private bias: Tensor | null = null;

  constructor(readonly options: Conv2dLayerOptions) {
    checkOptions('Conv2d', options, ['filters', 'kernelSize', 'stride', 'padding', 'activation', 'useBias']);
    checkInt('Conv2d', 'filters', options.filters, 1);
    this.kernel = checkPair('Conv2d', 'kernelSize', options.kernelSize, 1);
    this.attrs = { ...parseStridePadding('Conv2d', options.stride, options.padding), activation: checkActivation('Conv2d', options.activation) };
    this.config = { ...options };
  }

  build(inputShape: readonly number[], rng: Rng): LayerShapeInfo {
    const info = windowInfo('Conv2d', inputShape, this.attrs, this.kernel[0], this.kernel[1], this.options.filters);
    const [fh, fw] = this.kernel;
    const c = inputShape[2];
    const k = this.options.filters;
    this.weight = tensor(initWeights(this.attrs.activation, fh * fw * c * k, fh * fw * c, fh * fw * k, rng), [fh, fw, c, k]);
    if (this.options.useBias !== false) this.bias = tensor(new Float32Array(k), [k]);
    return info;
  }

  forward(x: Tensor): Tensor {
    const { strideHeight, strideWidth, padding, activation } = this.attrs;
    return conv2d(x, this.weight, { stride: [strideHeight, strideWidth], padding, activation, bias: this.bias ?? undefined });
  }

  parameters(): [string, Tensor][] {
    return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]];
  }
}

class Pool implements Layer {
  readonly config: Record<string, unknown>;
  private readonly attrs: ConvAttrs & { windowHeight: number; windowWidth: number };

  constructor(readonly kind: 'MaxPool2d' | 'AvgPool2d', options: PoolOptions) {
    if (typeof options !== 'object' || options === null) fail(kind, 'options { size, stride?, padding? } are required');
    checkOptions(kind, options, ['size', 'stride', 'padding']);
    const [windowHeight, windowWidth] = checkPair(kind, 'size', options.size, 1);
    this.attrs = { windowHeight, windowWidth, activation: 'none', ...parseStridePadding(kind, options.stride ?? [windowHeight, windowWidth], options.padding) };
    this.config = { ...options };
  }

  build(inputShape: readonly number[]): LayerShapeInfo {
    return windowInfo(this.kind, inputShape, this.attrs, this.attrs.windowHeight, this.attrs.windowWidth, inputShape[2]);
  }

  forward(x: Tensor): Tensor {
    const { windowHeight, windowWidth, strideHeight, strideWidth, padding } = this.attrs;
    const options = { size: [windowHeight, windowWidth] as [number, number], stride: [strideHeight, strideWidth] as [number, number], padding };
    return this.kind === 'MaxPool2d' ? maxPool2d(x, options) : avgPool2d(x, options);
  }

  parameters(): [string, Tensor][] {
    return [];
  }
}

export class MaxPool2d extends Pool {
  constructor(options: PoolOptions) {
    super('MaxPool2d', options);
  }
}

export class AvgPool2d extends Pool {
  constructor(options: PoolOptions) {
    super('AvgPool2d', options);
  }
}

export class Flatten implements Layer {
  readonly kind = 'Flatten';
  readonly config = {};

  build(inputShape: readonly number[]): LayerShapeInfo {
    const n = sizeOf(inputShape);
    return { outputShape: [n], formula: `${inputShape.join('×')} = ${n}` };
  }

  forward(x: Tensor): Tensor {
    return flatten(x);
  }

  parameters(): [string, Tensor][] {
    return [];
  }
}

export class ReLU implements Layer {
  readonly kind = 'ReLU';
  readonly config = {};

  build(inputShape: readonly number[]): LayerShapeInfo {
    return { outputShape: [...inputShape] };
  }

  forward(x: Tensor): Tensor {
    return relu(x);
  }

  parameters(): [string, Tensor][] {
    return [];
  }
}

export interface DenseOptions {
  units: number;
  activation?: Activation;
  useBias?: boolean;
}

export class Dense implements Layer {
  readonly kind = 'Dense';
  readonly config: Record<string, unknown>;
  private readonly activation: Activation;
  private weight!: Tensor;
  private bias: Tensor | null = null;

  constructor(readonly options: DenseOptions) {
    checkOptions('Dense', options, ['units', 'activation', 'useBias']);
    checkInt('Dense', 'units', options.units, 1);
    this.activation = checkActivation('Dense', options.activation);
    this.config = { ...options };
  }

  build(inputShape: readonly number[], rng: Rng): LayerShapeInfo {
    if (inputShape.length !== 1) fail('Dense', `expects a flat input [features], got [${inputShape}]; put Flatten() before it`);
    const [features] = inputShape;
    const units = this.options.units;
    this.weight = tensor(initWeights(this.activation, features * units, features, units, rng), [features, units]);
    if (this.options.useBias !== false) this.bias = tensor(new Float32Array(units), [units]);
    return { outputShape: [units] };
  }

  forward(x: Tensor): Tensor {
    const y = matmul(x, this.weight);
    const biased = this.bias ? add(y, this.bias) : y;
    return this.activation === 'relu' ? relu(biased) : biased;
  }

  parameters(): [string, Tensor][] {
    return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]];
  }
}
