// The per-step numerics check, on the device: which of a step's tensors (the loss, then each
// gradient) first holds NaN or ±Inf, and a small int32 record of such steps that also decides
// whether the optimizer updates apply (their gate). Nothing here is read back; the record is read
// only when someone asks (optim/numerics-guard.ts). Neither op is differentiable.
import { checkDType, checkOptions, describe, fail } from '../errors.js';
import { apply, apply1 } from '../graph.js';
import { requireTensor } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import type { TensorSpec } from '../types.js';
import { defineOp } from './define-op.js';

/** What a training step does when its loss or a gradient is not finite. */
export type NonFinitePolicy = 'stop' | 'skip';
export const NON_FINITE_POLICIES: readonly NonFinitePolicy[] = ['stop', 'skip'];

/** Throws a FiltroError naming `fn` unless `value` is 'stop' or 'skip'. */
export function checkNonFinitePolicy(fn: string, value: unknown, arg = 'onNonFinite'): NonFinitePolicy {
  if (!NON_FINITE_POLICIES.includes(value as NonFinitePolicy)) {
    fail(fn, `${arg} must be 'stop' or 'skip', got ${JSON.stringify(value)}`);
  }
  return value as NonFinitePolicy;
}

/** Positions in the health record (an int32 [5]); −1 marks "none" in the step and tensor fields. */
export const HEALTH = { skipped: 0, stopStep: 1, stopTensor: 2, lastBadStep: 3, lastBadTensor: 4 } as const;
/** A record before any step: nothing skipped, never stopped, no bad step. */
export const HEALTH_START: readonly number[] = [0, -1, -1, -1, -1];

const VERDICT: TensorSpec = { shape: [], dtype: 'int32' };

export const firstNonFiniteOp = defineOp<Record<string, never>>({
  name: 'firstNonFinite',
  outputs(specs) {
    if (specs.length === 0) fail('firstNonFinite', 'needs at least one tensor');
    specs.forEach((s, i) => checkDType('firstNonFinite', `tensor ${i}`, s, 'float32'));
    return [VERDICT];
  },
  reference(inputs) {
    return [Int32Array.of(inputs.findIndex((x) => x.some((v) => !Number.isFinite(v))))];
  },
});

/** An int32 scalar: −1 when every tensor is finite, else the index of the first one holding NaN or ±Inf. */
export function firstNonFinite(tensors: readonly Tensor[]): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    fail('firstNonFinite', `tensors must be a non-empty array of float32 tensors, got ${Array.isArray(tensors) ? '[]' : typeof tensors}`);
  }
  return apply1(firstNonFiniteOp, tensors, {});
}

export interface StepHealthAttrs {
  policy: NonFinitePolicy;
}

/**
 * Inputs [health int32 [5], verdict int32 [], step int32 []] → [health', gate int32 []]. `step` is
 * the update this verdict belongs to (the optimizer's step count, from 1); it is an input, not an
 * attribute, so that it can change from step to step without a new plan. A verdict other than −1
 * becomes the last bad step; under 'stop' the first one also becomes the stop step, after which
 * no update applies. The gate is −1 when this step's update applies, else the index of the tensor
 * that holds it back; every update not applied counts as skipped.
 */
export const stepHealthOp = defineOp<StepHealthAttrs>({
  name: 'stepHealth',
  inPlace: [[0, 0]],
  outputs(specs, { policy }) {
    if (specs.length !== 3) fail('stepHealth', `expects [health, verdict, step], got ${specs.length} inputs`);
    const [health, verdict, step] = specs;
    if (health.dtype !== 'int32' || health.shape.length !== 1 || health.shape[0] !== HEALTH_START.length) {
      fail('stepHealth', `health must be int32 [${HEALTH_START.length}], got ${describe(health)}`);
    }
    if (verdict.dtype !== 'int32' || verdict.shape.length !== 0) fail('stepHealth', `verdict must be an int32 scalar, got ${describe(verdict)}`);
    if (step.dtype !== 'int32' || step.shape.length !== 0) fail('stepHealth', `step must be an int32 scalar, got ${describe(step)}`);
    checkNonFinitePolicy('stepHealth', policy, 'policy');
    return [health, VERDICT];
  },
  reference([health, [verdict], [step]], _specs, { policy }) {
    const h = Int32Array.from(health);
    const stopped = h[HEALTH.stopStep] !== -1;
    if (verdict !== -1) {
      h[HEALTH.lastBadStep] = step;
      h[HEALTH.lastBadTensor] = verdict;
      if (policy === 'stop' && !stopped) {
        h[HEALTH.stopStep] = step;
        h[HEALTH.stopTensor] = verdict;
      }
    }
    const applies = verdict === -1 && !stopped;
    if (!applies) h[HEALTH.skipped]++;
    const gate = applies ? -1 : verdict !== -1 ? verdict : h[HEALTH.stopTensor];
    return [h, Int32Array.of(gate)];
  },
});

/**
 * Folds a step's verdict (firstNonFinite) into the health record, for update number `step` (an
 * int32 scalar tensor); see stepHealthOp.
 */
export function stepHealth(health: Tensor, verdict: Tensor, step: Tensor, attrs: StepHealthAttrs): { health: Tensor; gate: Tensor } {
  requireTensor('stepHealth', step, 'step');
  if (attrs === undefined) fail('stepHealth', 'needs attrs { policy }');
  checkOptions('stepHealth', attrs, ['policy']);
  const [next, gate] = apply(stepHealthOp, [health, verdict, step], attrs);
  return { health: next, gate };
}
