// Wrapper for shaders/finite.wgsl: sets a u32 flag when a buffer holds NaN or ±Inf.

import { needBytes, needDims } from './check.js';
import type { Step } from './encoder.js';
import { groupsFor } from './grid.js';
import { defineKernel } from './kernel.js';
import { uniforms } from './uniforms.js';

export const FINITE_KERNEL = defineKernel('finite', 'finite_check', ['read', 'write', 'uniform']);

/**
 * flag[0] (u32) becomes 1 if any of x[0..n) is NaN or ±Inf. With `clear` (default) the flag is
 * zeroed first in the same step; pass false to OR several buffers into one flag.
 */
export function checkFinite(step: Step, buf: { x: GPUBuffer; flag: GPUBuffer }, n: number, opts: { clear?: boolean } = {}): void {
  needDims({ n }, 'checkFinite');
  needBytes(buf.x, n, 'checkFinite x');
  needBytes(buf.flag, 1, 'checkFinite flag');
  if (opts.clear ?? true) step.clear(buf.flag, 0, 4);
  step.dispatch(FINITE_KERNEL, {
    buffers: [buf.x, buf.flag],
    uniforms: uniforms().u32(n).bytes(),
    workgroups: groupsFor(n, 64),
  });
}
