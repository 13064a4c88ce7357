// When and what the train page checkpoints: every `every` steps (in the background: training goes
// on while IndexedDB writes) and when a run ends. The weights and optimizer state are read inside the
// trainer's GPU lock, so a checkpoint never falls between the halves of a step and its step number is
// the one its weights belong to; the IndexedDB write happens outside the lock. A failed save is
// reported and never stops training.
import * as f from '@filtro/core';
import { formatShape } from './architecture.js';
import { CheckpointStoreError, storeError, writeCheckpoint } from './checkpoint-store.js';
import type { CheckpointMeta, StoredCheckpoint } from './checkpoint-store.js';
import { errorText } from './dom.js';
import type { Trainer } from './loop.js';

export interface CheckpointerHooks {
  onSaved(meta: CheckpointMeta): void;
  onFailed(error: CheckpointStoreError): void;
}

export class Checkpointer {
  /** Steps between background saves; 0 = no checkpoints at all. */
  every = 50;
  /** What the store holds, as far as this page knows: skips saving the same state twice. */
  private stored: { model: f.nn.Sequential; step: number } | null = null;
  private inFlight: Promise<void> | null = null;

  constructor(private readonly trainer: Trainer, private readonly hooks: CheckpointerHooks) {}

  /** Between steps: starts a save when `step` is a multiple of `every`; never waits for it. */
  onStep(step: number): void {
    if (this.every > 0 && step % this.every === 0 && !this.inFlight) void this.save();
  }

  /** Saves now (end of a run), after any save in flight; resolves once stored or reported. */
  async save(): Promise<void> {
    if (this.every <= 0) return;
    while (this.inFlight) await this.inFlight;
    this.inFlight = this.write().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** The store holds this model at this step (it was just resumed from there). */
  markStored(model: f.nn.Sequential, step: number): void {
    this.stored = { model, step };
  }

  private async write(): Promise<void> {
    let snapshot: { model: f.nn.Sequential; checkpoint: StoredCheckpoint } | null;
    try {
      snapshot = await this.trainer.gpu.run(() => this.snapshot());
    } catch (e) {
      this.hooks.onFailed(new CheckpointStoreError('failed', `reading the weights back failed: ${errorText(e)}`));
      return;
    }
    if (!snapshot) return;
    try {
      await writeCheckpoint(snapshot.checkpoint);
    } catch (e) {
      this.hooks.onFailed(storeError(e));
      return;
    }
    this.stored = { model: snapshot.model, step: snapshot.checkpoint.meta.step };
    this.hooks.onSaved(snapshot.checkpoint.meta);
  }

  /** Inside the GPU lock: the model, its optimizer state and progress as checkpoint bytes. */
  private async snapshot(): Promise<{ model: f.nn.Sequential; checkpoint: StoredCheckpoint } | null> {
    const { model, dataset, step } = this.trainer;
    if (!model || !dataset || (this.stored?.model === model && this.stored.step === step)) return null;
    const epoch = this.trainer.epoch;
    const optimizer = this.trainer.optimizerInUse ?? undefined;
    const bytes = await model.save({ optimizer, progress: { step, epoch } });
    const read = this.trainer.lastReadOut;
    const meta: CheckpointMeta = {
      dataset: dataset.id,
      datasetTitle: dataset.title,
      architecture: [formatShape(model.inputShape), ...model.layers.map((l) => l.kind)].join(' → '),
      step,
      epoch,
      loss: read?.loss ?? null,
      batchAccuracy: read?.batchAccuracy ?? null,
      hyper: { ...this.trainer.hyper },
      backend: f.getBackend(),
      savedAt: Date.now(),
      bytes: bytes.length,
    };
    return { model, checkpoint: { meta, bytes } };
  }
}
