// How the train page survives a lost GPU device: f.nn.Trainer's recovery for the model and optimizer
// in use. Every `snapshotEvery` steps the weights and optimizer state are copied to the host in the
// background; when the device is lost, training goes back to that copy on a new device (or on the
// CPU when none can be had) and goes on. The loop's steps run through step(); all other model work
// (evaluation, pictures, saving) through around(), so it never touches a lost device either.
import * as f from '@filtro/core';

/** What the page shows: a sentence for the banner and status, and the trainer's event behind it. */
export type DeviceNotice = (notice: string, event: f.nn.TrainerEvent) => void;

export class DeviceRecovery {
  /** Steps between snapshots (read when the model or optimizer changes). Small: they are cheap and never waited for. */
  snapshotEvery = 10;
  private trainer: f.nn.Trainer | null = null;
  /** The page's step when `trainer` was made (the trainer counts its own steps from 0). */
  private base = 0;

  constructor(private readonly notify: DeviceNotice) {}

  /** Drops the snapshots (a new model, or none). */
  reset(): void {
    this.trainer = null;
  }

  /**
   * One training step of `model` with `optimizer` at the page's step `step`. Resolves to what `run`
   * returns and the page's step after it: `step + 1`, or less when a lost device sent training back
   * to a snapshot. `run` makes its tensors inside, on the current backend (it may run again).
   */
  async step<T>(model: f.nn.Sequential, optimizer: f.optim.Optimizer, step: number, run: () => Promise<T>): Promise<{ result: T; step: number }> {
    let trainer = this.trainer;
    if (trainer?.model !== model || trainer.optimizer !== optimizer) {
      trainer = new f.nn.Trainer(model, optimizer, { snapshotEvery: this.snapshotEvery, onEvent: (e) => this.onEvent(e) });
      this.trainer = trainer;
      this.base = step;
    }
    const result = await trainer.run(run);
    return { result, step: this.base + trainer.step };
  }

  /** Other model work (see f.nn.Trainer.guard): after recovering a lost device, and again if it is lost under it. */
  around<T>(task: () => Promise<T> | T): Promise<T> {
    return this.trainer ? this.trainer.guard(task) : Promise.resolve().then(task);
  }

  private onEvent(event: f.nn.TrainerEvent): void {
    const trainer = this.trainer;
    const outcome = event.kind === 'recovered' || event.kind === 'fell-back-to-cpu';
    if (!trainer || (!outcome && event.kind !== 'device-lost')) return; // snapshots, skipped steps
    // The trainer's steps count from `base`; the page shows its own.
    const lostAt = `The GPU device was lost at step ${this.base + event.step}`;
    if (!outcome) {
      this.notify(`${lostAt}: recovering…`, event);
      return;
    }
    const where = event.kind === 'recovered' ? `on a new device, ${f.backendInfo().description}` : `on the CPU, as ${event.message}`;
    this.notify(`${lostAt}. Training went back to step ${this.base + trainer.snapshotStep}, the last copy of the weights and optimizer state, and goes on ${where}.`, event);
  }
}
