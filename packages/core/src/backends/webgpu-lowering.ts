// How each op runs on the GPU: one entry per op, calling the kernel wrappers of @filtro/kernels.
// Kept in one table (rather than in each op file) so the ops stay free of GPU imports and the
// table's totality is checked by the compiler against the op names.
import * as k from '@filtro/kernels';
import type { Gpu, Step } from '@filtro/kernels';
import { convGeometry } from '../ops/conv2d.js';
import type { BackpropFilterAttrs, BackpropInputAttrs, ConvAttrs } from '../ops/conv2d.js';
import type { UnaryKind } from '../ops/unary.js';
import type { BinaryKind } from '../ops/binary.js';
import type { AdamAttrs, SgdAttrs } from '../ops/optimizer-updates.js';
import { hasGate } from '../ops/optimizer-updates.js';
import type { StepHealthAttrs } from '../ops/finite-check.js';
import { poolGeometry } from '../ops/pool.js';
import type { PoolAttrs } from '../ops/pool.js';
import type { TensorSpec } from '../types.js';
import { sizeOf } from '../types.js';

export interface LoweringContext<A> {
  gpu: Gpu;
  step: Step;
  /** Per plan: im2col columns by input tensor, made once for a conv's forward and its filter gradient. */
  columns: Map<TensorSpec, Map<string, GPUBuffer>>;
  inputs: GPUBuffer[];
  outputs: GPUBuffer[];
  inputSpecs: readonly TensorSpec[];
  outputSpecs: readonly TensorSpec[];
  attrs: A;
}

type Lowering<A = never> = (c: LoweringContext<A>) => void;

const float = (shape: readonly number[]): TensorSpec => ({ shape, dtype: 'float32' });
const count = (c: LoweringContext<unknown>, i = 0) => sizeOf(c.outputSpecs[i].shape);
const rowsCols = (spec: TensorSpec) => {
  const cols = spec.shape[spec.shape.length - 1];
  return { rows: sizeOf(spec.shape) / cols, cols };
};

/** dy·f'(value) for the unary table's derivatives, built from elementwise kernels. */
function unaryGrad({ step, inputs: [dy, x, y], outputs: [dx], attrs: { kind } }: LoweringContext<{ kind: UnaryKind }>, n: number): void {
  const tmp = () => step.temporary(n * 4);
  switch (kind) {
    case 'relu':
      return k.reluBackward(step, { dy, x: y, dx }, n);
    case 'sigmoid': {
      const oneMinus = tmp();
      k.scale(step, { x: y, y: oneMinus }, n, -1, 1);
      const slope = tmp();
      k.binary(step, 'mul', { a: y, b: oneMinus, y: slope }, [n], [n]);
      return void k.binary(step, 'mul', { a: dy, b: slope, y: dx }, [n], [n]);
    }
    case 'tanh': {
      const square = tmp();
      k.unary(step, 'square', { x: y, y: square }, n);
      const slope = tmp();
      k.scale(step, { x: square, y: slope }, n, -1, 1);
      return void k.binary(step, 'mul', { a: dy, b: slope, y: dx }, [n], [n]);
    }
    case 'exp':
      return void k.binary(step, 'mul', { a: dy, b: y, y: dx }, [n], [n]);
    case 'log':
      return void k.binary(step, 'div', { a: dy, b: x, y: dx }, [n], [n]);
    case 'sqrt': {
      const twice = tmp();
      k.scale(step, { x: y, y: twice }, n, 2);
      return void k.binary(step, 'div', { a: dy, b: twice, y: dx }, [n], [n]);
    }
    case 'neg':
      return k.scale(step, { x: dy, y: dx }, n, -1);
  }
}

/** Sums over sorted axes, one pass per run of adjacent axes, last run first. */
function sumAxes(c: LoweringContext<{ axes: readonly number[] }>): void {
  const { step, attrs } = c;
  const shape = [...c.inputSpecs[0].shape];
  const runs: [number, number][] = [];
  for (const a of attrs.axes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a) last[1] = a + 1;
    else runs.push([a, a + 1]);
  }
  let source = c.inputs[0];
  if (runs.length === 0) return k.copy(step, { x: source, y: c.outputs[0] }, sizeOf(shape));
  runs.reverse().forEach(([start, end], i) => {
    const outer = sizeOf(shape.slice(0, start));
    const reduce = sizeOf(shape.slice(start, end));
    const inner = sizeOf(shape.slice(end));
    const target = i === runs.length - 1 ? c.outputs[0] : step.temporary(outer * inner * 4);
    k.sumAxis(step, { x: source, out: target }, { outer, reduce, inner });
    shape.splice(start, end - start, 1);
    source = target;
  });
}

/** Copies each input to its output, except where the output was donated the input's own buffer. */
function copyInto(step: Step, from: GPUBuffer[], to: GPUBuffer[], n: number): void {
  from.forEach((x, i) => {
    if (x !== to[i]) k.copy(step, { x, y: to[i] }, n);
  });
}

/**
 * An update op's value inputs, its per-step values (`hyper`, the last float input: it is read by
 * the kernel, never copied to an output) and its optional gate (the int32 last input).
 */
function gated(c: LoweringContext<unknown>): { values: GPUBuffer[]; hyper: GPUBuffer; gate?: GPUBuffer } {
  const floats = hasGate(c.inputSpecs) ? c.inputs.slice(0, -1) : c.inputs;
  return { values: floats.slice(0, -1), hyper: floats[floats.length - 1], gate: hasGate(c.inputSpecs) ? c.inputs[c.inputs.length - 1] : undefined };
}

/** Temporary buffers an op's lowering allocates besides its outputs (the im2col columns of conv2d). */
export function scratchBuffers(op: string, inputSpecs: readonly TensorSpec[], attrs: unknown): { what: string; bytes: number }[] {
  const columns = (g: k.WindowDims) => {
    const rows = k.colRows(g);
    const cols = k.colStride(g); // rows padded to a multiple of 4 (see conv2dColumns)
    return [{ what: `im2col columns [${rows}, ${cols}]`, bytes: rows * cols * 4 }];
  };
  switch (op) {
    case 'conv2d':
      return columns(convGeometry(op, inputSpecs[0], inputSpecs[1], attrs as ConvAttrs));
    case 'conv2dBackpropInput':
      return columns(convGeometry(op, float((attrs as BackpropInputAttrs).inputShape), inputSpecs[1], attrs as ConvAttrs));
    case 'conv2dBackpropFilter':
      return columns(convGeometry(op, inputSpecs[0], float((attrs as BackpropFilterAttrs).filterShape), attrs as ConvAttrs));
    default:
      return [];
  }
}

/**
 * The im2col columns of input 0 (a tensor, whose values do not change within a plan) for window
 * `d`, made at the first conv of the plan that needs them.
 */
function columnsOf(c: LoweringContext<unknown>, d: k.WindowDims): GPUBuffer {
  const key = [d.batch, d.inHeight, d.inWidth, d.channels, d.windowHeight, d.windowWidth, d.strideHeight, d.strideWidth, d.padTop, d.padLeft, d.outHeight, d.outWidth].join(',');
  let byWindow = c.columns.get(c.inputSpecs[0]);
  if (!byWindow) c.columns.set(c.inputSpecs[0], (byWindow = new Map()));
  let cols = byWindow.get(key);
  if (!cols) byWindow.set(key, (cols = k.conv2dColumns(c.step, c.inputs[0], d)));
  return cols;
}

export const lowerings = {
  conv2d: (c: LoweringContext<ConvAttrs>) => {
    const [x, filter, bias] = c.inputs;
    const d = convGeometry('conv2d', c.inputSpecs[0], c.inputSpecs[1], c.attrs);
    k.conv2dForward(c.step, { x, filter, bias, y: c.outputs[0], cols: columnsOf(c, d) }, { ...d, activation: c.attrs.activation });
  },
  conv2dBackpropInput: (c: LoweringContext<BackpropInputAttrs>) => {
    const d = convGeometry('conv2dBackpropInput', float(c.attrs.inputShape), c.inputSpecs[1], c.attrs);
    k.conv2dBackwardInput(c.step, { dy: c.inputs[0], filter: c.inputs[1], dx: c.outputs[0] }, d);
  },
  conv2dBackpropFilter: (c: LoweringContext<BackpropFilterAttrs>) => {
    const d = convGeometry('conv2dBackpropFilter', c.inputSpecs[0], float(c.attrs.filterShape), c.attrs);
    k.conv2dBackwardFilter(c.step, { x: c.inputs[0], dy: c.inputs[1], dfilter: c.outputs[0], cols: columnsOf(c, d) }, d);
  },
  maxPool2d: (c: LoweringContext<PoolAttrs>) => {
    k.maxPoolForward(c.step, { x: c.inputs[0], y: c.outputs[0], argmax: c.outputs[1] }, poolGeometry('maxPool2d', c.inputSpecs[0], c.attrs));
  },
  maxPool2dBackward: (c: LoweringContext<PoolAttrs & { inputShape: readonly number[] }>) => {
    const d = poolGeometry('maxPool2dBackward', float(c.attrs.inputShape), c.attrs);
    k.maxPoolBackward(c.step, { dy: c.inputs[0], argmax: c.inputs[1], dx: c.outputs[0] }, d);
  },
  avgPool2d: (c: LoweringContext<PoolAttrs>) => {
    k.avgPoolForward(c.step, { x: c.inputs[0], y: c.outputs[0] }, poolGeometry('avgPool2d', c.inputSpecs[0], c.attrs));
  },
  avgPool2dBackward: (c: LoweringContext<PoolAttrs & { inputShape: readonly number[] }>) => {
    const d = poolGeometry('avgPool2dBackward', float(c.attrs.inputShape), c.attrs);
    k.avgPoolBackward(c.step, { dy: c.inputs[0], dx: c.outputs[0] }, d);
  },
  matmul: (c: LoweringContext<{ transposeA: boolean; transposeB: boolean }>) => {
    const [m, n] = c.outputSpecs[0].shape;
    const a = c.inputSpecs[0].shape;
    k.gemm(c.step, { a: c.inputs[0], b: c.inputs[1], c: c.outputs[0] }, {
      m, n, k: c.attrs.transposeA ? a[0] : a[1], transA: c.attrs.transposeA, transB: c.attrs.transposeB,
    });
  },
  unary: (c: LoweringContext<{ kind: UnaryKind }>) => k.unary(c.step, c.attrs.kind, { x: c.inputs[0], y: c.outputs[0] }, count(c)),
  unaryGrad: (c: LoweringContext<{ kind: UnaryKind }>) => unaryGrad(c, count(c)),
  binary: (c: LoweringContext<{ kind: BinaryKind }>) => {
    k.binary(c.step, c.attrs.kind, { a: c.inputs[0], b: c.inputs[1], y: c.outputs[0] }, c.inputSpecs[0].shape, c.inputSpecs[1].shape);
  },
  scale: (c: LoweringContext<{ factor: number; offset: number }>) => {
    k.scale(c.step, { x: c.inputs[0], y: c.outputs[0] }, count(c), c.attrs.factor, c.attrs.offset);
  },
  fill: (c: LoweringContext<{ value: number }>) => k.fill(c.step, { y: c.outputs[0] }, count(c), c.attrs.value),
  sum: sumAxes,
  broadcastTo: (c: LoweringContext<{ shape: readonly number[] }>) => {
    k.broadcastTo(c.step, { a: c.inputs[0], y: c.outputs[0] }, c.inputSpecs[0].shape, c.attrs.shape);
  },
  reshape: () => {
    throw new Error('internal: reshape is a view and never reaches a backend');
  },
  softmax: (c: LoweringContext<unknown>) => k.softmax(c.step, { x: c.inputs[0], y: c.outputs[0] }, rowsCols(c.inputSpecs[0])),
  softmaxCrossEntropy: (c: LoweringContext<unknown>) => {
    const { rows, cols } = rowsCols(c.inputSpecs[0]);
    const labels = c.inputSpecs[1].dtype === 'int32' ? 'index' : 'prob';
    k.softmaxCrossEntropy(c.step, { logits: c.inputs[0], labels: c.inputs[1], loss: c.outputs[0] }, { rows, cols, labels });
  },
  softmaxCrossEntropyGrad: (c: LoweringContext<unknown>) => {
    const [dLoss, logits, labels] = c.inputs;
    const { rows, cols } = rowsCols(c.inputSpecs[1]);
    const kind = c.inputSpecs[2].dtype === 'int32' ? 'index' : 'prob';
    k.softmaxCrossEntropy(c.step, { logits, labels, dLoss, dLogits: c.outputs[0] }, { rows, cols, labels: kind });
  },
  argmax: (c: LoweringContext<unknown>) => k.argmaxLast(c.step, { x: c.inputs[0], out: c.outputs[0] }, rowsCols(c.inputSpecs[0])),
  slice: (c: LoweringContext<{ begin: number; size: number }>) => {
    const spec = c.inputSpecs[0];
    const rowBytes = (sizeOf(spec.shape) / spec.shape[0]) * 4;
    c.step.copy(c.inputs[0], c.outputs[0], c.attrs.size * rowBytes, c.attrs.begin * rowBytes, 0);
  },
  // The outputs start as copies of the inputs, so an update the gate holds back leaves them as they were.
  sgdUpdate: (c: LoweringContext<SgdAttrs>) => {
    const n = count(c);
    const { values: [param, grad, velocity], hyper, gate } = gated(c);
    copyInto(c.step, velocity ? [param, velocity] : [param], c.outputs, n);
    k.sgdStep(c.step, { param: c.outputs[0], grad, hyper, velocity: c.outputs[1], gate }, { n, momentum: c.attrs.momentum });
  },
  adamUpdate: (c: LoweringContext<AdamAttrs>) => {
    const n = count(c);
    const { values: [param, grad, m, v], hyper, gate } = gated(c);
    copyInto(c.step, [param, m, v], c.outputs, n);
    const { beta1, beta2, eps } = c.attrs;
    k.adamStep(c.step, { param: c.outputs[0], grad, m: c.outputs[1], v: c.outputs[2], hyper, gate }, { n, beta1, beta2, eps });
  },
  firstNonFinite: (c: LoweringContext<unknown>) => {
    k.firstNonFinite(c.step, { xs: c.inputs.map((x, i) => ({ x, n: sizeOf(c.inputSpecs[i].shape) })), out: c.outputs[0] });
  },
  stepHealth: (c: LoweringContext<StepHealthAttrs>) => {
    const [health, verdict, step] = c.inputs;
    // A byte copy: the record's int32 −1 is a NaN bit pattern that a float copy need not keep.
    if (health !== c.outputs[0]) c.step.copy(health, c.outputs[0], sizeOf(c.inputSpecs[0].shape) * 4);
    k.stepHealth(c.step, { health: c.outputs[0], verdict, gate: c.outputs[1], step }, { stop: c.attrs.policy === 'stop' });
  },
} satisfies Record<string, Lowering<never>>;

export type LoweredOp = keyof typeof lowerings;
