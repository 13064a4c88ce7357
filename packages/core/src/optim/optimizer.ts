// An optimizer turns gradients into parameter updates, expressed as ops so they run on the device.
// Its per-parameter state (momentum, moments) lives in named slots so it can be saved and restored.
import { fail } from '../errors.js';
import { zeros } from '../ops/create.js';
import { realize } from '../scheduler.js';
import { assign } from '../tensor.js';
import type { Tensor } from '../tensor.js';

export type OptimizerKind = 'SGD' | 'Adam';

export abstract class Optimizer {
  /** Number of updates applied so far. */
  steps = 0;
  abstract readonly kind: OptimizerKind;
  /** Per-parameter state tensors, in the order update() returns them after the new parameter. */
  abstract readonly slotNames: readonly string[];
  private readonly slots = new Map<string, Map<Tensor, Tensor>>();

  /** The hyperparameters, enough to rebuild this optimizer. */
  abstract config(): Record<string, number>;

  /** The lazy new values: the parameter first, then its new state tensors in slotNames order. */
  protected abstract update(param: Tensor, grad: Tensor): Tensor[];

  /** The state of `param` in `slot`, zeros until the first update. */
  protected state(slot: string, param: Tensor): Tensor {
    let states = this.slots.get(slot);
    if (!states) this.slots.set(slot, (states = new Map()));
    let t = states.get(param);
    if (!t) states.set(param, (t = zeros(param.shape)));
    return t;
  }

  /** Every state tensor, for saving. */
  stateTensors(): { slot: string; param: Tensor; tensor: Tensor }[] {
    return [...this.slots].flatMap(([slot, states]) => [...states].map(([param, tensor]) => ({ slot, param, tensor })));
  }

  /** @internal Replaces a state tensor (restoring a checkpoint, or after an update). */
  setState(slot: string, param: Tensor, tensor: Tensor): void {
    if (!this.slotNames.includes(slot)) fail(this.kind, `has no state slot '${slot}' (slots: ${this.slotNames.join(', ') || 'none'})`);
    let states = this.slots.get(slot);
    if (!states) this.slots.set(slot, (states = new Map()));
    states.get(param)?.dispose();
    states.set(param, tensor);
  }

  /** Frees the optimizer's state. */
  dispose(): void {
    for (const states of this.slots.values()) for (const t of states.values()) t.dispose();
    this.slots.clear();
  }

  /** Updates every parameter in one plan (one submit on the GPU), realizing `alsoRealize` with it. */
  step(params: readonly Tensor[], grads: readonly Tensor[], alsoRealize: readonly Tensor[] = []): void {
    if (params.length !== grads.length) fail('Optimizer.step', `got ${params.length} parameters but ${grads.length} gradients`);
    this.steps++;
    let updates: Tensor[][];
    try {
      updates = params.map((p, i) => this.update(p, grads[i]));
      // The old parameters and states are replaced below, so the updates may overwrite them in place.
      const donated = [...params, ...params.flatMap((p) => this.slotNames.map((slot) => this.slots.get(slot)?.get(p)).filter((t) => t !== undefined))];
      realize([...alsoRealize, ...updates.flat()], { donated });
    } catch (e) {
      this.steps--;
      throw e;
    }
    params.forEach((p, i) => {
      const [next, ...state] = updates[i];
      assign(p, next);
      state.forEach((t, s) => this.setState(this.slotNames[s], p, t));
    });
  }
}
