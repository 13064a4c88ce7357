// A training loop that survives a lost GPU. Every `snapshotEvery` steps it copies the parameters
// and the optimizer's state to the host in the background (the loop never waits for it). When the
// device is lost it reports the loss, gets a new device (or, failing that, continues on cpu and
// says so), restores the last snapshot and goes on. Steps after that snapshot are redone by the
// caller's next batches; nothing earlier is lost. Each step is also checked for NaN or ±Inf on the
// device (onNonFinite); health() reads the verdict when the caller reads its metrics.
import { getBackend, resetBackend, setBackend, currentBackend } from '../backends/registry.js';
import { checkInt, checkOptions } from '../errors.js';
import { tensor } from '../ops/create.js';
import { checkNonFinitePolicy } from '../ops/finite-check.js';
import type { NonFinitePolicy } from '../ops/finite-check.js';
import type { Optimizer } from '../optim/optimizer.js';
import { restore } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import type { HostArray } from '../types.js';
import { numericsReport } from './numerics.js';
import type { NumericsReport } from './numerics.js';
import type { Sequential } from './sequential.js';

export interface TrainerEvent {
  kind: 'snapshot' | 'device-lost' | 'recovered' | 'fell-back-to-cpu' | 'skipped';
  /** The trainer's step when it happened. */
  step: number;
  message: string;
}

export interface TrainerOptions {
  /** Steps between host snapshots (default 50). */
  snapshotEvery?: number;
  /** Called for every event (snapshots included). */
  onEvent?: (event: TrainerEvent) => void;
  /** A step whose loss or a gradient is NaN or ±Inf: 'stop' (default) or 'skip' (see Sequential.trainStep and health()). */
  onNonFinite?: NonFinitePolicy;
}

/** How long a failure may precede the report of the device loss that caused it. */
const LOSS_REPORT_MS = 1000;

/**
 * Whether the current backend's device is lost, after a failure. The loss can be reported a moment
 * after the failures it causes (in Chromium, device.destroy() aborts a pending read-back at once and
 * resolves device.lost later), so a backend that can lose its device gets up to LOSS_REPORT_MS.
 */
async function lostAfterFailure(): Promise<boolean> {
  const backend = currentBackend();
  if (!backend.isLost) return false;
  const until = performance.now() + LOSS_REPORT_MS;
  while (!backend.isLost()) {
    if (performance.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

interface Snapshot {
  step: number;
  optimizerSteps: number;
  params: Float32Array[];
  states: { slot: string; index: number; values: Float32Array }[];
}

export class Trainer {
  /** Training steps taken through this trainer (a step redone after recovery counts again). */
  step = 0;
  readonly events: TrainerEvent[] = [];
  private snapshot: Snapshot | null = null;
  private pending: Promise<void> | null = null;
  private readonly snapshotEvery: number;
  private readonly onEvent?: (event: TrainerEvent) => void;
  readonly onNonFinite: NonFinitePolicy;

  constructor(readonly model: Sequential, readonly optimizer: Optimizer, options: TrainerOptions = {}) {
    checkOptions('Trainer', options, ['snapshotEvery', 'onEvent', 'onNonFinite']);
    this.snapshotEvery = checkInt('Trainer', 'snapshotEvery', options.snapshotEvery ?? 50, 1);
    this.onNonFinite = checkNonFinitePolicy('Trainer', options.onNonFinite ?? 'stop');
    this.onEvent = options.onEvent;
    this.takeSnapshot();
  }

  /** The step of the last completed snapshot (-1 before the first one completes). */
  get snapshotStep(): number {
    return this.snapshot?.step ?? -1;
  }

  /** Recovers (see the class comment) if the device is gone; true when it did. */
  async recoverIfLost(): Promise<boolean> {
    if (!currentBackend().isLost?.()) return false;
    await this.recover();
    return true;
  }

  /** One training step on a host batch. Returns the loss tensor (not read back). */
  trainStep(images: HostArray, imageShape: readonly number[], labels: Int32Array): Promise<Tensor> {
    return this.run(() => {
      const x = tensor(images, imageShape);
      const y = tensor(labels, [labels.length]);
      try {
        return this.model.trainStep(x, y, this.optimizer, { onNonFinite: this.onNonFinite });
      } finally {
        x.dispose();
        y.dispose();
      }
    });
  }

  /**
   * One training step that the caller builds: `step` must update this trainer's model with its
   * optimizer on the current backend, making its tensors inside (after a recovery it runs again, on
   * the new device). Runs through guard(); resolves to what `step` returns.
   */
  async run<T>(step: () => T | Promise<T>): Promise<T> {
    const result = await this.guard(step);
    this.step++;
    if (this.step % this.snapshotEvery === 0) this.takeSnapshot();
    return result;
  }

  /**
   * Runs model work (a step, an evaluation, a save) on a device that is not lost: recovers first if
   * it is gone, and again, running `work` once more, if `work` fails because it was lost meanwhile.
   */
  async guard<T>(work: () => T | Promise<T>): Promise<T> {
    await this.recoverIfLost();
    try {
      return await work();
    } catch (e) {
      if (!(await lostAfterFailure())) throw e;
      await this.recover();
      return this.guard(work);
    }
  }

  /**
   * Reads the record of non-finite steps (one readback; call it when reading the loss). Under
   * 'stop' it throws a FiltroError naming the step and the tensor that was not finite; under
   * 'skip' it reports the updates skipped since the last call as a 'skipped' event.
   */
  async health(): Promise<NumericsReport> {
    const report = numericsReport(this.model, await this.guard(() => this.optimizer.numerics.read()), 'Trainer.health');
    if (report.newlySkipped > 0 && report.lastBad) {
      const { step, tensor: what } = report.lastBad;
      this.report('skipped', `${report.newlySkipped} update(s) skipped (${report.skipped} in all) because a loss or gradient was not finite; the latest at step ${step}: ${what}`);
    }
    return report;
  }

  /** Waits for the snapshot in flight, if any. */
  async settle(): Promise<void> {
    await this.pending;
  }

  private report(kind: TrainerEvent['kind'], message: string): void {
    const event = { kind, step: this.step, message };
    this.events.push(event);
    this.onEvent?.(event);
  }

  /** Starts copying parameters and optimizer state to the host; training does not wait. */
  private takeSnapshot(): void {
    if (this.pending) return; // the previous one is still in flight: skip this one
    const step = this.step;
    const optimizerSteps = this.optimizer.steps;
    const params = this.model.parameters();
    const states = this.optimizer.stateTensors().map((s) => ({ slot: s.slot, index: params.indexOf(s.param), tensor: s.tensor }));
    this.pending = Promise.all([Promise.all(params.map((p) => p.data())), Promise.all(states.map((s) => s.tensor.data()))])
      .then(([values, stateValues]) => {
        this.snapshot = {
          step,
          optimizerSteps,
          params: values as Float32Array[],
          states: states.map((s, i) => ({ slot: s.slot, index: s.index, values: stateValues[i] as Float32Array })),
        };
        this.report('snapshot', `parameters and optimizer state of step ${step} copied to the host`);
      })
      .catch(() => {
        // The device went away mid-copy: keep the previous snapshot.
      })
      .finally(() => {
        this.pending = null;
      });
  }

  private async recover(): Promise<void> {
    const lostOn = getBackend();
    this.report('device-lost', `the ${lostOn} device was lost at step ${this.step}; restoring the snapshot of step ${this.snapshotStep}`);
    await this.pending?.catch(() => {});
    const snapshot = this.snapshot;
    if (!snapshot) throw new Error('Trainer: the device was lost before any snapshot completed; nothing to restore');
    try {
      const info = await resetBackend(lostOn);
      this.report('recovered', `continuing on a new device: ${info.description}`);
    } catch (e) {
      await setBackend('cpu');
      this.report('fell-back-to-cpu', `no new ${lostOn} device could be had (${(e as Error).message.split('\n')[0]}); continuing on cpu`);
    }
    const params = this.model.parameters();
    params.forEach((p, i) => restore(p, snapshot.params[i]));
    this.optimizer.dispose(); // its state lived on the lost device
    for (const { slot, index, values } of snapshot.states) this.optimizer.setState(slot, params[index], tensor(values, params[index].shape));
    this.optimizer.steps = snapshot.optimizerSteps;
    this.step = snapshot.step;
  }
}
