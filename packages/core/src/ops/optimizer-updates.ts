// Parameter updates as ops, so weights and optimizer state never leave the device. They return
// new values; the optimizer then points each parameter at its new storage. What changes from one
// step to the next (the learning rate, Adam's bias corrections) comes in a small float32 input,
// `hyper`, so a recorded step can be replayed with buffer writes only. Each takes an optional
// last input, the gate: an int32 scalar (stepHealth's, see finite-check.ts) that lets the update
// apply only when it is −1; otherwise the outputs are the inputs unchanged.
import { describe, fail } from '../errors.js';
import type { HostArray, TensorSpec } from '../types.js';
import { defineOp } from './define-op.js';

/** True when the last input is the int32 gate (every other input is float32). */
export function hasGate(specs: readonly TensorSpec[]): boolean {
  return specs.length > 0 && specs[specs.length - 1].dtype === 'int32';
}

/** The float inputs, after checking the gate (if any) is an int32 scalar. */
function valueSpecs(fn: string, specs: readonly TensorSpec[]): readonly TensorSpec[] {
  if (!hasGate(specs)) return specs;
  const gate = specs[specs.length - 1];
  if (gate.shape.length !== 0) fail(fn, `the gate (last input) must be an int32 scalar, got ${describe(gate)}`);
  return specs.slice(0, -1);
}

/** With a gate that holds the update back, the outputs are copies of the value inputs `kept`. */
function heldBack(inputs: readonly HostArray[], specs: readonly TensorSpec[], kept: number[]): HostArray[] | null {
  if (!hasGate(specs) || inputs[inputs.length - 1][0] === -1) return null;
  return kept.map((i) => inputs[i].slice());
}

function checkSameShapes(fn: string, specs: readonly TensorSpec[]): void {
  const [first] = specs;
  for (const s of specs) {
    if (s.dtype !== 'float32' || s.shape.length !== first.shape.length || s.shape.some((d, i) => d !== first.shape[i])) {
      fail(fn, `parameter, gradient and state must all be float32 [${first.shape}], got [${s.shape}] ${s.dtype}`);
    }
  }
}

/** The per-step values input (the last value input), after checking it is float32 [`length`] holding `holds`. */
function checkHyper(fn: string, values: readonly TensorSpec[], length: number, holds: string): void {
  const hyper = values[values.length - 1];
  if (hyper.dtype !== 'float32' || hyper.shape.length !== 1 || hyper.shape[0] !== length) {
    fail(fn, `hyper (input ${values.length - 1}) must be float32 [${length}] holding ${holds}, got ${describe(hyper)}`);
  }
}

export interface SgdAttrs {
  momentum: number;
}

/**
 * Inputs [p, g, v, hyper, gate?] → [p', v'] with v' = momentum·v + g and p' = p − lr·v', where
 * hyper is float32 [1] holding [lr] (an input, not an attribute, so that it can change from step to
 * step without a new plan). Without momentum: inputs [p, g, hyper, gate?] → [p'] with
 * p' = p − lr·g (no velocity is kept).
 */
export const sgdUpdateOp = defineOp<SgdAttrs>({
  name: 'sgdUpdate',
  inPlace: [[0, 0], [1, 2]],
  outputs(specs, { momentum }) {
    const values = valueSpecs('sgdUpdate', specs);
    if (values.length !== (momentum === 0 ? 3 : 4)) fail('sgdUpdate', `expects ${momentum === 0 ? '[p, g, hyper]' : '[p, g, v, hyper]'} and an optional gate, got ${specs.length} inputs`);
    checkHyper('sgdUpdate', values, 1, '[lr]');
    checkSameShapes('sgdUpdate', values.slice(0, -1));
    return momentum === 0 ? [values[0]] : [values[0], values[0]];
  },
  reference(inputs, specs, { momentum }) {
    const held = heldBack(inputs, specs, momentum === 0 ? [0] : [0, 2]);
    if (held) return held;
    const [p, g, v] = inputs;
    const [lr] = inputs[momentum === 0 ? 2 : 3];
    const velocity = new Float32Array(p.length);
    const next = new Float32Array(p.length);
    for (let i = 0; i < p.length; i++) {
      velocity[i] = momentum === 0 ? g[i] : momentum * v[i] + g[i];
      next[i] = p[i] - lr * velocity[i];
    }
    return momentum === 0 ? [next] : [next, velocity];
  },
});

export interface AdamAttrs {
  beta1: number;
  beta2: number;
  eps: number;
}

/**
 * Inputs [p, g, m, v, hyper, gate?] → [p', m', v'] (Kingma & Ba, with bias correction). hyper is
 * float32 [3] holding [lr, 1 − beta1^t, 1 − beta2^t] for update number t (from 1): the values that
 * change from step to step are inputs, computed by the caller, not attributes.
 */
export const adamUpdateOp = defineOp<AdamAttrs>({
  name: 'adamUpdate',
  inPlace: [[0, 0], [1, 2], [2, 3]],
  outputs(specs) {
    const values = valueSpecs('adamUpdate', specs);
    if (values.length !== 5) fail('adamUpdate', `expects [p, g, m, v, hyper] and an optional gate, got ${specs.length} inputs`);
    checkHyper('adamUpdate', values, 3, '[lr, 1 − beta1^t, 1 − beta2^t]');
    checkSameShapes('adamUpdate', values.slice(0, -1));
    return [values[0], values[0], values[0]];
  },
  reference(inputs, specs, { beta1, beta2, eps }) {
    const held = heldBack(inputs, specs, [0, 2, 3]);
    if (held) return held;
    const [p, g, m, v, [lr, c1, c2]] = inputs;
    const next = new Float32Array(p.length);
    const m2 = new Float32Array(p.length);
    const v2 = new Float32Array(p.length);
    for (let i = 0; i < p.length; i++) {
      m2[i] = beta1 * m[i] + (1 - beta1) * g[i];
      v2[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
      next[i] = p[i] - (lr * (m2[i] / c1)) / (Math.sqrt(v2[i] / c2) + eps);
    }
    return [next, m2, v2];
  },
});
