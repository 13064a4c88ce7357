// Wrappers for shaders/finite.wgsl: numerics checks. checkFinite sets a u32 flag when a buffer
// holds NaN or ±Inf; firstNonFinite finds the first of several buffers that does; stepHealth
// folds that verdict into a small int32 record and writes the gate of the optimizer updates.

import { needBytes, needDims } from './check.js';
import type { Step } from './encoder.js';
import { groupsFor } from './grid.js';
import { defineKernel } from './kernel.js';
import { uniforms } from './uniforms.js';

const WG = 64;
export const FINITE_KERNELS = {
  check: defineKernel('finite', 'finite_check', ['read', 'write', 'uniform']),
  firstInit: defineKernel('finite', 'first_non_finite_init', ['read', 'write', 'uniform']),
  first: defineKernel('finite', 'first_non_finite', ['read', 'write', 'uniform']),
  health: defineKernel('finite', 'step_health', ['write', 'read', 'write', 'read', 'uniform']),
};

/** Length of the int32 record stepHealth keeps: [skipped, stopStep, stopTensor, lastBadStep, lastBadTensor]. */
export const HEALTH_LENGTH = 5;

/**
 * flag[0] (u32) becomes 1 if any of x[0..n) is NaN or ±Inf. With `clear` (default) the flag is
 * zeroed first in the same step; pass false to OR several buffers into one flag.
 */
export function checkFinite(step: Step, buf: { x: GPUBuffer; flag: GPUBuffer }, n: number, opts: { clear?: boolean } = {}): void {
  needDims({ n }, 'checkFinite');
  needBytes(buf.x, n, 'checkFinite x');
  needBytes(buf.flag, 1, 'checkFinite flag');
  if (opts.clear ?? true) step.clear(buf.flag, 0, 4);
  step.dispatch(FINITE_KERNELS.check, {
    buffers: [buf.x, buf.flag],
    uniforms: uniforms().u32(n).bytes(),
    workgroups: groupsFor(n, WG),
  });
}

/**
 * out[0] (i32) = −1 if every xs[i] (its first n elements) is finite, else the smallest i whose
 * buffer holds NaN or ±Inf. One one-thread dispatch to start, then one dispatch per buffer.
 */
export function firstNonFinite(step: Step, buf: { xs: readonly { x: GPUBuffer; n: number }[]; out: GPUBuffer }): void {
  if (buf.xs.length === 0) throw new Error('filtro: firstNonFinite needs at least one buffer');
  needBytes(buf.out, 1, 'firstNonFinite out');
  buf.xs.forEach(({ x, n }, index) => {
    needDims({ n }, `firstNonFinite xs[${index}]`);
    needBytes(x, n, `firstNonFinite xs[${index}]`);
  });
  step.dispatch(FINITE_KERNELS.firstInit, { buffers: [buf.xs[0].x, buf.out], uniforms: uniforms().u32(0, 0).bytes(), workgroups: 1 });
  buf.xs.forEach(({ x, n }, index) => {
    step.dispatch(FINITE_KERNELS.first, { buffers: [x, buf.out], uniforms: uniforms().u32(n, index).bytes(), workgroups: groupsFor(n, WG) });
  });
}

/**
 * Folds a step's verdict (firstNonFinite's out) into the record `health`, in place, for the update
 * whose number is step[0] (int32, a buffer so that a recorded step replays with buffer writes
 * only); gate[0] = −1 if the update applies, else the index of the tensor that holds it back.
 * With `stop`, a non-finite step also holds back every later one.
 */
export function stepHealth(
  step: Step,
  buf: { health: GPUBuffer; verdict: GPUBuffer; gate: GPUBuffer; step: GPUBuffer },
  d: { stop: boolean },
): void {
  needBytes(buf.health, HEALTH_LENGTH, 'stepHealth health');
  needBytes(buf.verdict, 1, 'stepHealth verdict');
  needBytes(buf.gate, 1, 'stepHealth gate');
  needBytes(buf.step, 1, 'stepHealth step');
  step.dispatch(FINITE_KERNELS.health, {
    buffers: [buf.health, buf.verdict, buf.gate, buf.step],
    uniforms: uniforms().u32(d.stop ? 1 : 0).bytes(),
    workgroups: 1,
  });
}
