// An optimizer turns gradients into parameter updates, expressed as ops so they run on the device.
import { assign } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import { realize } from '../scheduler.js';
import { fail } from '../errors.js';

export abstract class Optimizer {
  /** Number of updates applied so far. */
  steps = 0;

  /** The lazy new values: the parameter first, then its new state tensors. */
  protected abstract update(param: Tensor, grad: Tensor): Tensor[];
  /** Adopts the new state tensors returned by update() after they are realized. */
  protected abstract commit(param: Tensor, state: Tensor[]): void;

  /** Frees the optimizer's state (momentum, moments). */
  abstract dispose(): void;

  /** Updates every parameter in one plan (one submit on the GPU), realizing `alsoRealize` with it. */
  step(params: readonly Tensor[], grads: readonly Tensor[], alsoRealize: readonly Tensor[] = []): void {
    if (params.length !== grads.length) fail('Optimizer.step', `got ${params.length} parameters but ${grads.length} gradients`);
    this.steps++;
    let updates: Tensor[][];
    try {
      updates = params.map((p, i) => this.update(p, grads[i]));
      realize([...alsoRealize, ...updates.flat()]);
    } catch (e) {
      this.steps--;
      throw e;
    }
    params.forEach((p, i) => {
      const [next, ...state] = updates[i];
      assign(p, next);
      this.commit(p, state);
    });
  }
}
