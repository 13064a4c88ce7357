// Layers of a Sequential model. Shapes here exclude the batch: [H, W, C] for maps, [features] flat.
import { checkInt, checkOptions, checkPair, fail } from '../errors.js';
import { add } from '../ops/binary.js';
import { checkActivation, conv2d, convGeometry, parseStridePadding } from '../ops/conv2d.js';
import type { ConvAttrs, Padding } from '../ops/conv2d.js';
import type { Activation } from '../ops/conv-geometry.js';
import { matmul } from '../ops/matmul.js';
import { avgPool2d, maxPool2d, poolGeometry } from '../ops/pool.js';
import type { PoolOptions } from '../ops/pool.js';
import { flatten } from '../ops/reshape.js';
import { relu } from '../ops/unary.js';
import type { Tensor } from '../tensor.js';
import { sizeOf } from '../types.js';

/** A parameter a layer needs, declared before anything is allocated. */
export interface ParamSpec {
  name: 'weight' | 'bias';
  shape: number[];
  /** He (normal) before a ReLU, Glorot (uniform) otherwise, zeros for biases. */
  init: 'he' | 'glorot' | 'zeros';
  fanIn: number;
  fanOut: number;
}

export interface LayerShapeInfo {
  /** Output shape without the batch. */
  outputShape: number[];
  /** The parameters this layer needs for that input (none for pooling, flatten, activations). */
  params?: ParamSpec[];
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
  /** Checks the input shape and returns the output shape and the parameters it needs. */
  build(inputShape: readonly number[]): LayerShapeInfo;
  /** Receives its parameters (made by the model from the specs of build()), in spec order. */
  bind(params: Tensor[]): void;
  forward(x: Tensor): Tensor;
  /** Trainable tensors by local name ('weight', 'bias'). */
  parameters(): [string, Tensor][];
}

/** Shared by layers without parameters. */
abstract class Stateless {
  bind(params: Tensor[]): void {
    if (params.length) fail('Layer', 'this layer has no parameters');
  }

  parameters(): [string, Tensor][] {
    return [];
  }
}

/** Weight and optional bias, as Conv2d and Dense have. */
function weightAndBias(weightShape: number[], units: number, useBias: boolean, activation: Activation, fanIn: number, fanOut: number): ParamSpec[] {
  const weight: ParamSpec = { name: 'weight', shape: weightShape, init: activation === 'relu' ? 'he' : 'glorot', fanIn, fanOut };
  return useBias ? [weight, { name: 'bias', shape: [units], init: 'zeros', fanIn, fanOut }] : [weight];
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
  private bias: Tensor | undefined;

  constructor(readonly options: Conv2dLayerOptions) {
    checkOptions('Conv2d', options, ['filters', 'kernelSize', 'stride', 'padding', 'activation', 'useBias']);
    checkInt('Conv2d', 'filters', options.filters, 1);
    this.kernel = checkPair('Conv2d', 'kernelSize', options.kernelSize, 1);
    this.attrs = { ...parseStridePadding('Conv2d', options.stride, options.padding), activation: checkActivation('Conv2d', options.activation) };
    this.config = { ...options };
  }

  build(inputShape: readonly number[]): LayerShapeInfo {
    const info = windowInfo('Conv2d', inputShape, this.attrs, this.kernel[0], this.kernel[1], this.options.filters);
    const [fh, fw] = this.kernel;
    const c = inputShape[2];
    const k = this.options.filters;
    return { ...info, params: weightAndBias([fh, fw, c, k], k, this.options.useBias !== false, this.attrs.activation, fh * fw * c, fh * fw * k) };
  }

  bind([weight, bias]: Tensor[]): void {
    this.weight = weight;
    this.bias = bias;
  }

  forward(x: Tensor): Tensor {
    const { strideHeight, strideWidth, padding, activation } = this.attrs;
    return conv2d(x, this.weight, { stride: [strideHeight, strideWidth], padding, activation, bias: this.bias });
  }

  parameters(): [string, Tensor][] {
    return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]];
  }
}

class Pool extends Stateless implements Layer {
  readonly config: Record<string, unknown>;
  private readonly attrs: ConvAttrs & { windowHeight: number; windowWidth: number };

  constructor(readonly kind: 'MaxPool2d' | 'AvgPool2d', options: PoolOptions) {
    super();
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

export class Flatten extends Stateless implements Layer {
  readonly kind = 'Flatten';
  readonly config = {};

  build(inputShape: readonly number[]): LayerShapeInfo {
    const n = sizeOf(inputShape);
    return { outputShape: [n], formula: `${inputShape.join('×')} = ${n}` };
  }

  forward(x: Tensor): Tensor {
    return flatten(x);
  }
}

export class ReLU extends Stateless implements Layer {
  readonly kind = 'ReLU';
  readonly config = {};

  build(inputShape: readonly number[]): LayerShapeInfo {
    return { outputShape: [...inputShape] };
  }

  forward(x: Tensor): Tensor {
    return relu(x);
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
  private bias: Tensor | undefined;

  constructor(readonly options: DenseOptions) {
    checkOptions('Dense', options, ['units', 'activation', 'useBias']);
    checkInt('Dense', 'units', options.units, 1);
    this.activation = checkActivation('Dense', options.activation);
    this.config = { ...options };
  }

  build(inputShape: readonly number[]): LayerShapeInfo {
    if (inputShape.length !== 1) fail('Dense', `expects a flat input [features], got [${inputShape}]; put Flatten() before it`);
    const [features] = inputShape;
    const units = this.options.units;
    return { outputShape: [units], params: weightAndBias([features, units], units, this.options.useBias !== false, this.activation, features, units) };
  }

  bind([weight, bias]: Tensor[]): void {
    this.weight = weight;
    this.bias = bias;
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
