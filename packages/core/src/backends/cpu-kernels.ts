// The fast cpu path: im2col + GEMM (WebAssembly SIMD where the engine has it) for the heavy ops,
// sums over leading axes, checked against each op's reference
// (tests/cpu-fast.test.ts and the conformance suite, which runs the cpu backend with it on).
import type { BackpropFilterAttrs, BackpropInputAttrs, ConvAttrs } from '../ops/conv2d.js';
import { convGeometry } from '../ops/conv2d.js';
import { sumOp } from '../ops/reduce.js';
import type { HostArray, TensorSpec } from '../types.js';
import { conv2dBackpropFilter, conv2dBackpropInput, conv2dForward } from './cpu-fast/conv.js';
import { gemm } from './cpu-fast/gemm.js';

type Kernel = (inputs: HostArray[], inputSpecs: readonly TensorSpec[], attrs: never, outputSpecs: readonly TensorSpec[]) => HostArray[];

const float = (shape: readonly number[]): TensorSpec => ({ shape, dtype: 'float32' });

const kernels: Record<string, Kernel> = {
  conv2d: ([x, w, b], [xs, ws], attrs: ConvAttrs) => [
    conv2dForward(x as Float32Array, w as Float32Array, (b as Float32Array) ?? null, convGeometry('conv2d', xs, ws, attrs), attrs.activation),
  ],
  conv2dBackpropInput: ([dy, w], [, ws], attrs: BackpropInputAttrs) => [
    conv2dBackpropInput(dy as Float32Array, w as Float32Array, convGeometry('conv2dBackpropInput', float(attrs.inputShape), ws, attrs)),
  ],
  conv2dBackpropFilter: ([x, dy], [xs], attrs: BackpropFilterAttrs) => [
    conv2dBackpropFilter(x as Float32Array, dy as Float32Array, convGeometry('conv2dBackpropFilter', xs, float(attrs.filterShape), attrs)),
  ],
  // Sums over leading axes (bias gradients: [N,H,W,C] → [C]) without the reference's index map,
  // adding in the same order, so the results are identical.
  sum: ([x], [xs], attrs: { axes: readonly number[]; keepDims: boolean }, outSpecs) => {
    const leading = attrs.axes.length;
    if (!attrs.axes.every((axis) => axis < leading)) return sumOp.reference([x], [xs], attrs, outSpecs);
    const inner = xs.shape.slice(leading).reduce((a, b) => a * b, 1);
    const out = new Float32Array(inner);
    for (let base = 0; base < x.length; base += inner) {
      for (let j = 0; j < inner; j++) out[j] += x[base + j];
    }
    return [out];
  },
  matmul: ([a, b], [as], attrs: { transposeA: boolean; transposeB: boolean }, [out]) => {
    const [m, n] = out.shape;
    const c = new Float32Array(m * n);
    gemm(a as Float32Array, b as Float32Array, c, m, n, attrs.transposeA ? as.shape[0] : as.shape[1], attrs.transposeA, attrs.transposeB);
    return [c];
  },
};

export const fastKernels = new Map<string, Kernel>(Object.entries(kernels));
