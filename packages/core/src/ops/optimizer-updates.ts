// Parameter updates as ops, so weights and optimizer state never leave the device. They return
// new values; the optimizer then points each parameter at its new storage.
import { fail } from '../errors.js';
import type { TensorSpec } from '../types.js';
import { defineOp } from './define-op.js';

function checkSameShapes(fn: string, specs: readonly TensorSpec[]): void {
  const [first] = specs;
  for (const s of specs) {
    if (s.dtype !== 'float32' || s.shape.length !== first.shape.length || s.shape.some((d, i) => d !== first.shape[i])) {
      fail(fn, `parameter, gradient and state must all be float32 [${first.shape}], got [${s.shape}] ${s.dtype}`);
    }
  }
}

export interface SgdAttrs {
  lr: number;
  momentum: number;
}

/**
 * Inputs [p, g, v] → [p', v'] with v' = momentum·v + g and p' = p − lr·v'.
 * Without momentum: inputs [p, g] → [p'] with p' = p − lr·g (no velocity is kept).
 */
export const sgdUpdateOp = defineOp<SgdAttrs>({
  name: 'sgdUpdate',
  inPlace: [[0, 0], [1, 2]],
  outputs(specs, { momentum }) {
    checkSameShapes('sgdUpdate', specs);
    if (specs.length !== (momentum === 0 ? 2 : 3)) fail('sgdUpdate', `expects ${momentum === 0 ? '[p, g]' : '[p, g, v]'}, got ${specs.length} inputs`);
    return momentum === 0 ? [specs[0]] : [specs[0], specs[0]];
  },
  reference([p, g, v], _specs, { lr, momentum }) {
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
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 for the first update; drives the bias correction. */
  step: number;
}

/** Inputs [p, g, m, v] → [p', m', v'] (Kingma & Ba, with bias correction). */
export const adamUpdateOp = defineOp<AdamAttrs>({
  name: 'adamUpdate',
  inPlace: [[0, 0], [1, 2], [2, 3]],
  outputs(specs) {
    checkSameShapes('adamUpdate', specs);
    return [specs[0], specs[0], specs[0]];
  },
  reference([p, g, m, v], _specs, { lr, beta1, beta2, eps, step }) {
    const next = new Float32Array(p.length);
    const m2 = new Float32Array(p.length);
    const v2 = new Float32Array(p.length);
    const c1 = 1 - beta1 ** step;
    const c2 = 1 - beta2 ** step;
    for (let i = 0; i < p.length; i++) {
      m2[i] = beta1 * m[i] + (1 - beta1) * g[i];
      v2[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
      next[i] = p[i] - (lr * (m2[i] / c1)) / (Math.sqrt(v2[i] / c2) + eps);
    }
    return [next, m2, v2];
  },
});
