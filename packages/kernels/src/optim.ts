// Wrappers for shaders/optim.wgsl: in-place SGD (with optional momentum) and Adam updates, each
// optionally gated by an int32 verdict buffer (the update runs only where gate[0] is −1). What
// changes from step to step (the learning rate, Adam's bias corrections) is read from a small f32
// buffer, `hyper`, not from the uniforms, so a recorded step replays with buffer writes only.

import { needBytes, needDims } from './check.js';
import type { Step } from './encoder.js';
import { groupsFor } from './grid.js';
import { defineKernel } from './kernel.js';
import { uniforms } from './uniforms.js';

const WG = 64;
/** Parameters a thread updates: PER_THREAD in optim.wgsl. */
const PER_THREAD = 4;
export const OPTIM_KERNELS = {
  sgd: defineKernel('optim', 'sgd_step', ['write', 'read', 'read', 'read', 'uniform']),
  sgdMomentum: defineKernel('optim', 'sgd_momentum_step', ['write', 'read', 'read', 'read', 'write', 'uniform']),
  adam: defineKernel('optim', 'adam_step', ['write', 'read', 'read', 'read', 'write', 'write', 'uniform']),
};

/** The gate binding and the GATED override: the caller's gate, or a placeholder that decides nothing. */
function gating(step: Step, gate: GPUBuffer | undefined, what: string): { buffer: GPUBuffer; constants: { GATED: boolean } } {
  if (gate) needBytes(gate, 1, `${what} gate`);
  return { buffer: gate ?? step.scratch(), constants: { GATED: gate !== undefined } };
}

export interface SgdParams {
  n: number;
  /** 0 (default) is plain SGD and needs no velocity buffer. */
  momentum?: number;
  weightDecay?: number;
}

/**
 * v = momentum·v + g; p −= lr·v (momentum 0: p −= lr·g), with lr = hyper[0] (f32). g includes
 * weightDecay·p. With `gate` (int32), nothing changes unless gate[0] is −1.
 */
export function sgdStep(
  step: Step,
  buf: { param: GPUBuffer; grad: GPUBuffer; hyper: GPUBuffer; velocity?: GPUBuffer; gate?: GPUBuffer },
  d: SgdParams,
): void {
  needDims({ n: d.n }, 'sgdStep');
  needBytes(buf.param, d.n, 'sgdStep param');
  needBytes(buf.grad, d.n, 'sgdStep grad');
  needBytes(buf.hyper, 1, 'sgdStep hyper');
  const momentum = d.momentum ?? 0;
  const u = uniforms().u32(d.n).f32(momentum, d.weightDecay ?? 0).bytes();
  const gate = gating(step, buf.gate, 'sgdStep');
  if (momentum === 0) {
    step.dispatch(OPTIM_KERNELS.sgd, { buffers: [buf.param, buf.grad, gate.buffer, buf.hyper], uniforms: u, constants: gate.constants, workgroups: groupsFor(Math.ceil(d.n / PER_THREAD), WG) });
    return;
  }
  if (!buf.velocity) throw new Error('filtro: sgdStep with momentum needs a velocity buffer (zeroed at start)');
  needBytes(buf.velocity, d.n, 'sgdStep velocity');
  step.dispatch(OPTIM_KERNELS.sgdMomentum, {
    buffers: [buf.param, buf.grad, gate.buffer, buf.hyper, buf.velocity],
    uniforms: u,
    constants: gate.constants,
    workgroups: groupsFor(Math.ceil(d.n / PER_THREAD), WG),
  });
}

export interface AdamParams {
  n: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/**
 * Adam with bias correction; m and v start zeroed. `hyper` (f32) holds [lr, 1 − beta1^t,
 * 1 − beta2^t] for step t (from 1), computed by the caller. With `gate` (int32), nothing changes
 * unless gate[0] is −1.
 */
export function adamStep(
  step: Step,
  buf: { param: GPUBuffer; grad: GPUBuffer; m: GPUBuffer; v: GPUBuffer; hyper: GPUBuffer; gate?: GPUBuffer },
  d: AdamParams,
): void {
  needDims({ n: d.n }, 'adamStep');
  const { gate: gateBuffer, hyper, ...values } = buf;
  for (const [name, b] of Object.entries(values)) needBytes(b, d.n, `adamStep ${name}`);
  needBytes(hyper, 3, 'adamStep hyper');
  const gate = gating(step, gateBuffer, 'adamStep');
  step.dispatch(OPTIM_KERNELS.adam, {
    buffers: [buf.param, buf.grad, gate.buffer, hyper, buf.m, buf.v],
    constants: gate.constants,
    uniforms: uniforms()
      .u32(d.n)
      .f32(d.beta1 ?? 0.9, d.beta2 ?? 0.999, d.eps ?? 1e-8, d.weightDecay ?? 0)
      .bytes(),
    workgroups: groupsFor(Math.ceil(d.n / PER_THREAD), WG),
  });
}
