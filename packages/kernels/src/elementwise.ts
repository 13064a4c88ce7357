// Wrappers for shaders/elementwise.wgsl: unary maps, relu backward, broadcasting binary ops,
// broadcastTo and fill.

import { needBytes, needDims, product, vec4Bindable } from './check.js';
import type { Step } from './encoder.js';
import { groupsFor } from './grid.js';
import { defineKernel } from './kernel.js';
import { uniforms } from './uniforms.js';

const WG = 64;
export const MAX_RANK = 8;  // two vec4s of shape/strides in BinaryParams

/** OP codes of `unary` (the U_* constants in elementwise.wgsl). */
export const UNARY_OPS = {
  copy: 0, relu: 1, sigmoid: 2, tanh: 3, neg: 4, exp: 5, log: 6, sqrt: 7, abs: 8, square: 9, scale: 10,
} as const;
/** OP codes of `binary` (the B_* constants). */
export const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 } as const;

export type UnaryOp = keyof typeof UNARY_OPS;
export type BinaryOp = keyof typeof BINARY_OPS;

export const ELEMENTWISE_KERNELS = {
  unary: defineKernel('elementwise', 'unary', ['read', 'write', 'uniform']),
  reluBackward: defineKernel('elementwise', 'relu_backward', ['read', 'read', 'write', 'uniform']),
  reluBackwardV4: defineKernel('elementwise', 'relu_backward_v4', ['read', 'read', 'write', 'uniform']),
  binary: defineKernel('elementwise', 'binary', ['read', 'read', 'write', 'uniform']),
  broadcastTo: defineKernel('elementwise', 'broadcast_to', ['read', 'write', 'uniform']),
  fill: defineKernel('elementwise', 'fill', ['write', 'uniform']),
};

/** y[i] = op(x[i]) for i < n. `scale` is y = alpha·x + beta. x and y may not alias. */
export function unary(step: Step, op: UnaryOp, buf: { x: GPUBuffer; y: GPUBuffer }, n: number, params: { alpha?: number; beta?: number } = {}): void {
  needDims({ n }, `unary ${op}`);
  needBytes(buf.x, n, `${op} x`);
  needBytes(buf.y, n, `${op} y`);
  step.dispatch(ELEMENTWISE_KERNELS.unary, {
    buffers: [buf.x, buf.y],
    uniforms: uniforms().u32(n).f32(params.alpha ?? 1, params.beta ?? 0).bytes(),
    constants: { OP: UNARY_OPS[op] },
    workgroups: groupsFor(n, WG),
  });
}

/** y = alpha·x + beta. */
export function scale(step: Step, buf: { x: GPUBuffer; y: GPUBuffer }, n: number, alpha: number, beta = 0): void {
  unary(step, 'scale', buf, n, { alpha, beta });
}

/** y = x (n elements), inside the compute pass. */
export function copy(step: Step, buf: { x: GPUBuffer; y: GPUBuffer }, n: number): void {
  unary(step, 'copy', buf, n);
}

/** dx = dy where x > 0, else 0. */
export function reluBackward(step: Step, buf: { dy: GPUBuffer; x: GPUBuffer; dx: GPUBuffer }, n: number): void {
  needDims({ n }, 'reluBackward');
  needBytes(buf.dy, n, 'reluBackward dy');
  needBytes(buf.x, n, 'reluBackward x');
  needBytes(buf.dx, n, 'reluBackward dx');
  // vec4 when it covers everything: 4× fewer invocations and loads.
  const v4 = step.tuning.vec4Elementwise !== false && n % 4 === 0 && vec4Bindable(buf.dy, buf.x, buf.dx);
  const count = v4 ? n / 4 : n;
  step.dispatch(v4 ? ELEMENTWISE_KERNELS.reluBackwardV4 : ELEMENTWISE_KERNELS.reluBackward, {
    buffers: [buf.dy, buf.x, buf.dx],
    uniforms: uniforms().u32(count).f32(0, 0).bytes(),
    workgroups: groupsFor(count, WG),
  });
}

/** y[i] = value for i < n. */
export function fill(step: Step, buf: { y: GPUBuffer }, n: number, value: number): void {
  needDims({ n }, 'fill');
  needBytes(buf.y, n, 'fill y');
  step.dispatch(ELEMENTWISE_KERNELS.fill, {
    buffers: [buf.y],
    uniforms: uniforms().u32(n).f32(value, 0).bytes(),
    workgroups: groupsFor(n, WG),
  });
}

/** The numpy broadcast of two shapes; throws on a mismatch. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new Error(`filtro: shapes [${a}] and [${b}] do not broadcast (axis ${i}: ${x} vs ${y})`);
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Element strides of `shape` read as `out` (right-aligned; 0 on broadcast axes). */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const axis = out.length - shape.length + i;
    strides[axis] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

function shapeUniforms(n: number, out: readonly number[], aStrides: number[], bStrides: number[]): Uint8Array {
  if (out.length > MAX_RANK) throw new Error(`filtro: broadcasting supports rank ≤ ${MAX_RANK}, got ${out.length}`);
  const pad = (v: readonly number[], fill: number) => [...v, ...new Array<number>(MAX_RANK - v.length).fill(fill)];
  return uniforms()
    .u32(n, out.length).align16()
    .u32(...pad(out, 1), ...pad(aStrides, 0), ...pad(bStrides, 0))
    .bytes();
}

/** y = a op b with numpy broadcasting; returns the output shape. */
export function binary(
  step: Step,
  op: BinaryOp,
  buf: { a: GPUBuffer; b: GPUBuffer; y: GPUBuffer },
  aShape: readonly number[],
  bShape: readonly number[],
): number[] {
  const out = broadcastShapes(aShape, bShape);
  const n = product(out);
  needBytes(buf.a, product(aShape), `${op} a`);
  needBytes(buf.b, product(bShape), `${op} b`);
  needBytes(buf.y, n, `${op} y`);
  const same = product(aShape) === n && product(bShape) === n;
  step.dispatch(ELEMENTWISE_KERNELS.binary, {
    buffers: [buf.a, buf.b, buf.y],
    uniforms: shapeUniforms(n, out, broadcastStrides(aShape, out), broadcastStrides(bShape, out)),
    constants: { OP: BINARY_OPS[op], BROADCAST: !same },
    workgroups: groupsFor(n, WG),
  });
  return out;
}

/** y[outShape] = a[aShape] broadcast. */
export function broadcastTo(step: Step, buf: { a: GPUBuffer; y: GPUBuffer }, aShape: readonly number[], outShape: readonly number[]): void {
  const out = broadcastShapes(aShape, outShape);
  if (out.join() !== outShape.join()) throw new Error(`filtro: [${aShape}] does not broadcast to [${outShape}]`);
  const n = product(out);
  needBytes(buf.a, product(aShape), 'broadcastTo a');
  needBytes(buf.y, n, 'broadcastTo y');
  const strides = broadcastStrides(aShape, out);
  step.dispatch(ELEMENTWISE_KERNELS.broadcastTo, {
    buffers: [buf.a, buf.y],
    uniforms: shapeUniforms(n, out, strides, strides),
    workgroups: groupsFor(n, WG),
  });
}
