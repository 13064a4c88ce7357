// An optimizer turns gradients into parameter updates, expressed as ops so they run on the device.
// Its per-parameter state (momentum, moments) lives in named slots so it can be saved and restored.
// A step may be checked for non-finite values on the device; its updates then apply only if it passes.
import { checkOptions, fail } from '../errors.js';
import { tensor, zeros } from '../ops/create.js';
import { checkNonFinitePolicy } from '../ops/finite-check.js';
import type { NonFinitePolicy } from '../ops/finite-check.js';
import { realize } from '../scheduler.js';
import { assign } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import type { HostArray } from '../types.js';
import { NumericsGuard } from './numerics-guard.js';
import type { PendingCheck } from './numerics-guard.js';

export type OptimizerKind = 'SGD' | 'Adam';

/** Checks a step on the device: the loss and every gradient must be finite for its updates to apply. */
export interface StepCheck {
  loss: Tensor;
  /** 'stop': no update applies from the first non-finite step on; 'skip': only that step's does not. */
  onNonFinite: NonFinitePolicy;
}

export abstract class Optimizer {
  /** Number of steps taken so far, those whose update the finite check held back included. */
  steps = 0;
  abstract readonly kind: OptimizerKind;
  /** Per-parameter state tensors, in the order update() returns them after the new parameter. */
  abstract readonly slotNames: readonly string[];
  private readonly slots = new Map<string, Map<Tensor, Tensor>>();
  /** The device-side record of checked steps that were not finite; read it with `numerics.read()`. */
  readonly numerics = new NumericsGuard();

  /** The hyperparameters, enough to rebuild this optimizer. */
  abstract config(): Record<string, number>;

  /**
   * The values of step number `this.steps` that change from one step to the next (the learning
   * rate first), read when the step is planned and again when a recorded plan is replayed. They
   * reach update() as one float32 tensor, `hyper`.
   */
  protected abstract hyperparameters(): Float32Array;

  /**
   * The lazy new values: the parameter first, then its new state tensors in slotNames order.
   * `hyper` holds hyperparameters() (the same tensor for every parameter of a step). With a gate
   * (an int32 scalar), they equal the old values unless the gate is −1.
   */
  protected abstract update(param: Tensor, grad: Tensor, hyper: Tensor, gate?: Tensor): Tensor[];

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

  /** Frees the optimizer's state, the record of non-finite steps included. */
  dispose(): void {
    for (const states of this.slots.values()) for (const t of states.values()) t.dispose();
    this.slots.clear();
    this.numerics.dispose();
  }

  /**
   * Updates every parameter in one plan (one submit on the GPU), realizing `alsoRealize` with it.
   * With `check`, the loss and the gradients are checked on the device in the same plan and the
   * updates are gated by the verdict (nothing is read back; see `numerics`). `steps` counts every
   * step taken, applied or not (Adam's bias correction follows it).
   */
  step(params: readonly Tensor[], grads: readonly Tensor[], alsoRealize: readonly Tensor[] = [], check?: StepCheck): void {
    this.steps++;
    let plan: StepPlan | undefined;
    try {
      plan = this.plan(params, grads, check);
      realize([...alsoRealize, ...plan.targets], { donated: plan.donated });
    } catch (e) {
      this.steps--;
      plan?.abandon();
      throw e;
    } finally {
      for (const { tensor: t } of plan?.perStep ?? []) t.dispose();
    }
    plan.commit();
  }

  /**
   * @internal The lazy work of step number `this.steps` without running it: what to realize, what
   * it may overwrite, the tensors made for this step only (perStep: the caller disposes them once
   * the plan has run), and how to take the results (commit) or drop them (abandon).
   */
  plan(params: readonly Tensor[], grads: readonly Tensor[], check?: StepCheck): StepPlan {
    if (params.length !== grads.length) fail('Optimizer.step', `got ${params.length} parameters but ${grads.length} gradients`);
    if (check !== undefined) {
      checkOptions('Optimizer.step', check, ['loss', 'onNonFinite']);
      checkNonFinitePolicy('Optimizer.step', check.onNonFinite, 'check.onNonFinite');
    }
    // Read at call time, so that a replay of the plan picks up the step number and a changed lr.
    const perStep: PerStepTensor[] = [];
    const upload = (values: () => HostArray, scalar = false) => {
      const data = values();
      const t = tensor(data, scalar ? [] : [data.length]);
      perStep.push({ tensor: t, values });
      return t;
    };
    let guard: PendingCheck | undefined;
    let updates: Tensor[][];
    try {
      const hyper = upload(() => this.hyperparameters());
      guard = check && this.numerics.check(check.loss, grads, upload(() => Int32Array.of(this.steps), true), check.onNonFinite);
      updates = params.map((p, i) => this.update(p, grads[i], hyper, guard?.gate));
    } catch (e) {
      if (guard) this.numerics.abandon(guard);
      for (const { tensor: t } of perStep) t.dispose();
      throw e;
    }
    // The old parameters and states are replaced on commit, so the updates may overwrite them in place.
    const states = params.flatMap((p) => this.slotNames.map((slot) => this.slots.get(slot)?.get(p)));
    return {
      targets: [...(guard ? [guard.record] : []), ...updates.flat()],
      perStep,
      donated: [...params, ...states, this.numerics.current].filter((t) => t !== undefined && t !== null),
      commit: () => {
        if (guard) this.numerics.commit(guard);
        params.forEach((p, i) => {
          const [next, ...state] = updates[i];
          assign(p, next);
          state.forEach((t, s) => {
            // Like the parameter, an existing state tensor takes the new values and stays the same object.
            const old = this.slots.get(this.slotNames[s])?.get(p);
            if (old) assign(old, t);
            else this.setState(this.slotNames[s], p, t);
          });
        });
      },
      abandon: () => {
        if (guard) this.numerics.abandon(guard);
        for (const t of updates.flat()) t.dispose();
      },
    };
  }
}

/** A tensor made for one step only, and how to compute its contents again (StepPlan.perStep). */
export interface PerStepTensor {
  tensor: Tensor;
  values: () => HostArray;
}

/** One optimizer step's lazy work (Optimizer.plan). */
export interface StepPlan {
  targets: Tensor[];
  donated: Tensor[];
  /**
   * Tensors uploaded for this step only (the learning rate, Adam's bias corrections, the step
   * number). A replay of the plan rewrites them: values() gives their contents for the
   * optimizer's current `steps` and hyperparameters. They belong to the caller of plan(), who
   * disposes them once the plan has run (commit/abandon do not).
   */
  perStep: PerStepTensor[];
  commit(): void;
  abandon(): void;
}
