// An optimizer's record of non-finite steps, kept on the device: each checked step folds in which of
// its tensors (the loss, then each gradient) first held NaN or ±Inf, and its updates apply only
// when the record's gate says so (ops/finite-check.ts). Nothing is read back until read().
import { firstNonFinite, HEALTH, HEALTH_START, stepHealth } from '../ops/finite-check.js';
import type { NonFinitePolicy } from '../ops/finite-check.js';
import { tensor } from '../ops/create.js';
import { assign } from '../tensor.js';
import type { Tensor } from '../tensor.js';

/** A step whose loss or a gradient was not finite; tensor 0 is the loss, tensor i the gradient of parameter i − 1. */
export interface NonFiniteStep {
  step: number;
  tensor: number;
}

export interface HealthRecord {
  /** Updates not applied: non-finite steps, and under 'stop' every step after the first of them. */
  skipped: number;
  /** How many of those were added since the previous read(). */
  newlySkipped: number;
  /** The non-finite step that stopped training under 'stop' (null while it goes on). */
  stopped: NonFiniteStep | null;
  /** The latest non-finite step under either policy (null if none). */
  lastBad: NonFiniteStep | null;
}

/** One step's lazy check: the gate its updates take, the new record, and the start record made for it (if any). */
export interface PendingCheck {
  gate: Tensor;
  record: Tensor;
  start: Tensor | null;
}

export class NumericsGuard {
  private record: Tensor | null = null;
  private skippedAtLastRead = 0;

  /**
   * The lazy check of the update whose number `step` holds (an int32 scalar tensor, which stays the
   * caller's): the gate its updates take (−1: apply) and the new record. Realize the record in the
   * same plan as the updates, then commit() it, or abandon() it if the plan failed.
   */
  check(loss: Tensor, grads: readonly Tensor[], step: Tensor, policy: NonFinitePolicy): PendingCheck {
    const verdict = firstNonFinite([loss, ...grads]);
    const start = this.record ? null : tensor(Int32Array.from(HEALTH_START), [HEALTH_START.length]);
    const { health, gate } = stepHealth(this.record ?? start!, verdict, step, { policy });
    return { gate, record: health, start };
  }

  /** The current record, which the next check replaces (so its plan may update it in place). */
  get current(): Tensor | null {
    return this.record;
  }

  /** Makes the realized record of `check` the current one. */
  commit(check: PendingCheck): void {
    if (this.record) assign(this.record, check.record);
    else this.record = check.record;
    check.start?.dispose();
  }

  /** Drops a check whose plan failed or was never meant to run; the record stays as it was. */
  abandon(check: PendingCheck): void {
    check.record.dispose();
    check.start?.dispose();
  }

  /** Reads the record back (one readback); all zeros and nulls before the first checked step. */
  async read(): Promise<HealthRecord> {
    const h = this.record ? await this.record.data() : Int32Array.from(HEALTH_START);
    const at = (step: number, tensor: number): NonFiniteStep | null => (step === -1 ? null : { step, tensor });
    const skipped = h[HEALTH.skipped];
    const newlySkipped = Math.max(0, skipped - this.skippedAtLastRead);
    this.skippedAtLastRead = skipped;
    return { skipped, newlySkipped, stopped: at(h[HEALTH.stopStep], h[HEALTH.stopTensor]), lastBad: at(h[HEALTH.lastBadStep], h[HEALTH.lastBadTensor]) };
  }

  /** Forgets the record (it starts afresh at the next checked step). */
  dispose(): void {
    this.record?.dispose();
    this.record = null;
    this.skippedAtLastRead = 0;
  }
}
