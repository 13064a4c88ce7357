// A training loop that survives a lost GPU. Every `snapshotEvery` steps it copies the parameters
// and the optimizer's state to the host in the background (the loop never waits for it). When the
// device is lost it reports the loss, gets a new device (or, failing that, continues on cpu and
// says so), restores the last snapshot and goes on. Steps after that snapshot are redone by the
// caller's next batches; nothing earlier is lost.
import { getBackend, resetBackend, setBackend, currentBackend } from '../backends/registry.js';
import { checkInt, checkOptions } from '../errors.js';
import { tensor } from '../ops/create.js';
import type { Optimizer } from '../optim/optimizer.js';
import { restore } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import type { HostArray } from '../types.js';
import type { Sequential } from './sequential.js';

export interface TrainerEvent {
  kind: 'snapshot' | 'device-lost' | 'recovered' | 'fell-back-to-cpu';
  /** The trainer's step when it happened. */
  step: number;
  message: string;
}

export interface TrainerOptions {
  /** Steps between host snapshots (default 50). */
  snapshotEvery?: number;
  /** Called for every event (snapshots included). */
  onEvent?: (event: TrainerEvent) => void;
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

  constructor(readonly model: Sequential, readonly optimizer: Optimizer, options: TrainerOptions = {}) {
    checkOptions('Trainer', options, ['snapshotEvery', 'onEvent']);
    this.snapshotEvery = checkInt('Trainer', 'snapshotEvery', options.snapshotEvery ?? 50, 1);
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
  async trainStep(images: HostArray, imageShape: readonly number[], labels: Int32Array): Promise<Tensor> {
    await this.recoverIfLost();
    const x = tensor(images, imageShape);
    const y = tensor(labels, [labels.length]);
    try {
      const loss = this.model.trainStep(x, y, this.optimizer);
      this.step++;
      if (this.step % this.snapshotEvery === 0) this.takeSnapshot();
      return loss;
    } catch (e) {
      if (!currentBackend().isLost?.()) throw e;
      await this.recover();
      return this.trainStep(images, imageShape, labels);
    } finally {
      x.dispose();
      y.dispose();
    }
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
