// Wrappers for shaders/pool.wgsl: max and average pooling, forward and backward (gathers).

import { needBytes } from './check.js';
import type { Step } from './encoder.js';
import { groupsFor } from './grid.js';
import { defineKernel } from './kernel.js';
import { inputSize, outputSize, windowUniforms, type WindowDims } from './window.js';

const WG = 64;
export const POOL_KERNELS = {
  maxForward: defineKernel('pool', 'max_pool_forward', ['read', 'write', 'write', 'uniform']),
  maxBackward: defineKernel('pool', 'max_pool_backward', ['read', 'read', 'write', 'uniform']),
  maxBackwardScatter: defineKernel('pool', 'max_pool_backward_scatter', ['read', 'read', 'write', 'uniform']),
  avgForward: defineKernel('pool', 'avg_pool_forward', ['read', 'write', 'uniform']),
  avgBackward: defineKernel('pool', 'avg_pool_backward', ['read', 'write', 'uniform']),
};

/** y and argmax (i32: flat index into x; first max wins; −1 for an all-padding window). */
export function maxPoolForward(step: Step, buf: { x: GPUBuffer; y: GPUBuffer; argmax: GPUBuffer }, d: WindowDims): void {
  const u = windowUniforms(d, 'maxPoolForward');
  needBytes(buf.x, inputSize(d), 'maxPoolForward x');
  needBytes(buf.y, outputSize(d), 'maxPoolForward y');
  needBytes(buf.argmax, outputSize(d), 'maxPoolForward argmax');
  const channelsPerThread = d.channels % 4 === 0 ? 4 : 1;
  step.dispatch(POOL_KERNELS.maxForward, {
    buffers: [buf.x, buf.y, buf.argmax], uniforms: u, constants: { CPT: channelsPerThread },
    workgroups: groupsFor(outputSize(d) / channelsPerThread, WG),
  });
}

/**
 * 'gather': a thread per input cell sums the windows covering it; 'scatter': clear dx, then a
 * thread per output writes dy to its argmax (only when windows do not overlap; the default there).
 */
export type MaxPoolBackwardVariant = 'gather' | 'scatter';

/** dx[i] = Σ dy over the windows covering i whose argmax is i. */
export function maxPoolBackward(
  step: Step,
  buf: { dy: GPUBuffer; argmax: GPUBuffer; dx: GPUBuffer },
  d: WindowDims,
  variant?: MaxPoolBackwardVariant,
): void {
  const u = windowUniforms(d, 'maxPoolBackward');
  needBytes(buf.dy, outputSize(d), 'maxPoolBackward dy');
  needBytes(buf.argmax, outputSize(d), 'maxPoolBackward argmax');
  needBytes(buf.dx, inputSize(d), 'maxPoolBackward dx');
  const disjoint = d.windowHeight <= d.strideHeight && d.windowWidth <= d.strideWidth;
  if ((variant ?? step.tuning.maxPoolBackwardVariant ?? 'scatter') === 'scatter' && disjoint) {
    if (inputSize(d) === 0) return;
    step.clear(buf.dx, 0, inputSize(d) * 4);
    step.dispatch(POOL_KERNELS.maxBackwardScatter, { buffers: [buf.dy, buf.argmax, buf.dx], uniforms: u, workgroups: groupsFor(outputSize(d), WG) });
    return;
  }
  step.dispatch(POOL_KERNELS.maxBackward, { buffers: [buf.dy, buf.argmax, buf.dx], uniforms: u, workgroups: groupsFor(inputSize(d), WG) });
}

/** y = mean of the in-bounds cells of each window (padding excluded, as TensorFlow). */
export function avgPoolForward(step: Step, buf: { x: GPUBuffer; y: GPUBuffer }, d: WindowDims): void {
  const u = windowUniforms(d, 'avgPoolForward');
  needBytes(buf.x, inputSize(d), 'avgPoolForward x');
  needBytes(buf.y, outputSize(d), 'avgPoolForward y');
  step.dispatch(POOL_KERNELS.avgForward, { buffers: [buf.x, buf.y], uniforms: u, workgroups: groupsFor(outputSize(d), WG) });
}

/** dx[i] = Σ over windows covering i of dy / (in-bounds cells of that window). */
export function avgPoolBackward(step: Step, buf: { dy: GPUBuffer; dx: GPUBuffer }, d: WindowDims): void {
  const u = windowUniforms(d, 'avgPoolBackward');
  needBytes(buf.dy, outputSize(d), 'avgPoolBackward dy');
  needBytes(buf.dx, inputSize(d), 'avgPoolBackward dx');
  step.dispatch(POOL_KERNELS.avgBackward, { buffers: [buf.dy, buf.dx], uniforms: u, workgroups: groupsFor(inputSize(d), WG) });
}
