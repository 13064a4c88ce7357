// The training loop. One step = one plan on the backend (forward, loss, backward, optimizer update:
// one GPU submit, recorded once and then replayed): model.trainStepWithPredictions, whose batch
// predictions give the accuracy curve without an extra pass. Between steps the loop yields to the
// browser; the loss is read back only every few steps (what the charts show), which also keeps the
// GPU queue short. All model work (steps, evaluation, feature maps, drawing predictions) goes through one
// Exclusive, so a model is never replaced or read mid-step, and through DeviceRecovery, so a lost GPU
// device sends training back to the last snapshot on a new device (or the CPU) instead of ending it.
import * as f from '@filtro/core';
import { BatchSampler, slice } from './data.js';
import type { Dataset } from './data.js';
import { DeviceRecovery } from './device-recovery.js';
import { Exclusive, yieldToBrowser } from './dom.js';
import type { OptimizerKind, Schedule } from './params.js';
import type { Evaluation } from './visualize.js';

export interface Hyper {
  batch: number;
  optimizer: OptimizerKind;
  lr: number;
  momentum: number;
  schedule: Schedule;
  /** Steps per run (Start … stop); 0 = until paused. */
  steps: number;
}

export interface ReadOut {
  step: number;
  epoch: number;
  loss: number;
  /** Fraction of this batch predicted right. */
  batchAccuracy: number;
  stepsSinceLast: number;
  msPerStep: number;
  imagesPerSecond: number;
  lr: number;
}

export interface TrainerHooks {
  onRead(r: ReadOut): void;
  /** Called between steps; the page refreshes what is due (evaluation, feature maps). */
  between(step: number): Promise<void>;
  /** After a run ends (target reached or paused). */
  onRunEnd(reason: 'target' | 'paused' | 'error', error?: unknown): Promise<void>;
  /** The GPU device was lost, and then training went on (see ./device-recovery.ts): a sentence to show. */
  onDeviceEvent(notice: string, event: f.nn.TrainerEvent): void;
  /** Before a run's first step, as each GPU pipeline of the step is compiled (model.compile). */
  onCompileProgress(done: number, total: number): void;
}

/** Which optimizer `h` asks for: a change of it makes a new one (its state restarts); a new lr does not. */
function optimizerKey(h: Hyper): string {
  return h.optimizer === 'adam' ? 'adam' : `sgd:${h.momentum}`;
}

export class Trainer {
  /** Snapshots and recovery from a lost GPU device (`recovery.snapshotEvery`: steps between snapshots). */
  readonly recovery = new DeviceRecovery((notice, event) => this.hooks.onDeviceEvent(notice, event));
  private readonly lock = new Exclusive();
  /** Runs model work one task at a time, on a device that is not lost (see DeviceRecovery.around). */
  readonly gpu = { run: <T>(task: () => Promise<T> | T): Promise<T> => this.lock.run(() => this.recovery.around(task)) };
  model: f.nn.Sequential | null = null;
  dataset: Dataset | null = null;
  step = 0;
  running = false;
  /** Set by pause(); the loop stops after the step in flight. */
  private stopRequested = false;
  private optimizer: f.optim.Optimizer | null = null;
  private optimizerKey = '';
  private sampler: BatchSampler | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  /** Read the loss back about every readMs of training, and at least every readEvery steps. */
  readEvery = 10;
  readMs = 250;
  lastLr = 0;
  lastReadOut: ReadOut | null = null;
  /** The settings the loop reads before every step (the page changes them live). */
  hyper: Hyper = { batch: 32, optimizer: 'adam', lr: 0.002, momentum: 0.9, schedule: 'constant', steps: 0 };
  /** Last step of the run in progress (Infinity: until paused). */
  target = Infinity;

  constructor(private readonly hooks: TrainerHooks, private seed: number) {}

  get epoch(): number {
    return this.sampler?.epoch ?? 0;
  }

  get epochProgress(): number {
    return this.sampler?.progress ?? 0;
  }

  /**
   * Replaces the model: a new architecture or a loaded file start from step 0 with a fresh batch
   * order; the same weights moved to another backend keep their progress. Optimizer state restarts.
   */
  setModel(model: f.nn.Sequential, dataset: Dataset, keepProgress = false): void {
    if (this.model !== model) this.model?.dispose();
    this.recovery.reset();
    this.optimizer?.dispose();
    this.optimizer = null;
    this.optimizerKey = '';
    this.model = model;
    if (!keepProgress || this.dataset !== dataset || !this.sampler) {
      this.sampler = new BatchSampler(dataset, this.seed);
      this.step = 0;
      this.lastLr = 0;
      this.target = Infinity;
    }
    this.dataset = dataset;
  }

  /**
   * Continues from a checkpoint, after setModel() with its model and `hyper` set to its settings:
   * `optimizer` (null: a fresh one at the next step) replaces the one in use, and the step and epoch
   * counters go on from the saved ones. The batch order is not saved: it starts over.
   */
  resume(optimizer: f.optim.Optimizer | null, step: number, epoch: number): void {
    // The next step starts the recovery afresh, with a snapshot of the resumed weights and `optimizer`.
    this.recovery.reset();
    if (this.optimizer !== optimizer) this.optimizer?.dispose();
    this.optimizer = optimizer;
    this.optimizerKey = optimizer ? optimizerKey(this.hyper) : '';
    this.step = step;
    if (this.sampler) this.sampler.epoch = epoch;
  }

  /** The optimizer the steps use (null before the first step after setModel(), or a resume without one). */
  get optimizerInUse(): f.optim.Optimizer | null {
    return this.optimizer;
  }

  dispose(): void {
    this.recovery.reset();
    this.model?.dispose();
    this.optimizer?.dispose();
    this.model = null;
    this.optimizer = null;
  }

  private ensureOptimizer(h: Hyper): f.optim.Optimizer {
    const key = optimizerKey(h);
    if (!this.optimizer || key !== this.optimizerKey) {
      this.optimizer?.dispose();
      this.optimizer = h.optimizer === 'adam' ? new f.optim.Adam({ lr: h.lr }) : new f.optim.SGD({ lr: h.lr, momentum: h.momentum });
      this.optimizerKey = key;
    }
    return this.optimizer;
  }

  /** Starts a run (from the current step) in the background; resolves once it has begun. */
  start(): void {
    if (this.running || !this.model || !this.dataset) return;
    this.running = true;
    this.stopRequested = false;
    this.target = this.hyper.steps > 0 ? this.step + this.hyper.steps : Infinity;
    this.loopDone = this.loop();
  }

  /** Asks the loop to stop after the step in flight and waits until it has (and its run-end work). */
  async pause(): Promise<void> {
    this.stopRequested = true;
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    const first = this.step;
    const target = this.target;
    let lastRead = performance.now();
    let stepsAtLastRead = this.step;
    // Time spent on evaluation and pictures between steps is not training time.
    let excluded = 0;
    let reason: 'target' | 'paused' | 'error' = 'paused';
    let error: unknown;
    try {
      // Every GPU pipeline of the step compiled at once, in parallel, instead of one by one during
      // the first step (quick when they already are).
      const model = this.model!;
      const h0 = this.hyper;
      const optimizer0 = this.ensureOptimizer(h0);
      await this.gpu.run(() => model.compile(optimizer0, { batchSize: h0.batch, predictions: true, onProgress: (done, total) => this.hooks.onCompileProgress(done, total) }));
      while (!this.stopRequested && this.step < target) {
        const h = this.hyper;
        const optimizer = this.ensureOptimizer(h);
        const lr = h.schedule === 'cosine' && Number.isFinite(target)
          ? h.lr * 0.5 * (1 + Math.cos((Math.PI * (this.step - first)) / (target - first)))
          : h.lr;
        (optimizer as f.optim.Adam | f.optim.SGD).lr = lr;
        this.lastLr = lr;
        // On the GPU an unread step only queues work, so wall time says nothing until a read-back:
        // space the reads by the measured time per step, about readMs apart, at most readEvery steps.
        const measured = this.lastReadOut?.msPerStep;
        const every = measured ? Math.max(1, Math.min(this.readEvery, Math.round(this.readMs / Math.max(measured, 1e-3)))) : 1;
        const read = this.step + 1 >= target || this.step + 1 - stepsAtLastRead >= every;
        const stepBefore = this.step;
        const result = await this.gpu.run(() => this.trainStep(h.batch, optimizer, read));
        if (this.step !== stepBefore + 1) {
          // A lost device sent training back to a snapshot: time from here.
          lastRead = performance.now();
          stepsAtLastRead = this.step;
          excluded = 0;
        } else if (result) {
          const t = performance.now();
          const steps = this.step - stepsAtLastRead;
          const ms = Math.max(0, t - lastRead - excluded) / steps;
          const r: ReadOut = {
            step: this.step,
            epoch: this.epoch,
            loss: result.loss,
            batchAccuracy: result.accuracy,
            stepsSinceLast: steps,
            msPerStep: ms,
            imagesPerSecond: (h.batch * 1000) / ms,
            lr,
          };
          this.lastReadOut = r;
          this.hooks.onRead(r);
          lastRead = t;
          stepsAtLastRead = this.step;
          excluded = 0;
        }
        const before = performance.now();
        await this.hooks.between(this.step);
        excluded += performance.now() - before;
        await yieldToBrowser();
      }
      if (this.step >= target) reason = 'target';
    } catch (e) {
      reason = 'error';
      error = e;
    }
    this.running = false;
    await this.hooks.onRunEnd(reason, error);
  }

  /** One step through the recovery (it may run twice, the second time on a new device). */
  private async trainStep(batchSize: number, optimizer: f.optim.Optimizer, read: boolean): Promise<{ loss: number; accuracy: number } | null> {
    const { result, step } = await this.recovery.step(this.model!, optimizer, this.step, () => this.stepOnce(batchSize, optimizer, read));
    this.step = step;
    return result;
  }

  private async stepOnce(batchSize: number, optimizer: f.optim.Optimizer, read: boolean): Promise<{ loss: number; accuracy: number } | null> {
    const model = this.model!;
    const dataset = this.dataset!;
    const b = this.sampler!.next(batchSize);
    const x = f.tensor(b.images, [b.size, ...dataset.inputShape]);
    const y = f.tensor(b.labels, [b.size]);
    // Checked on the device: a NaN or ±Inf stops the updates, and the read below ends the run with
    // an error naming the step and the layer. On the GPU the step is recorded once and replayed.
    const { loss, predictions } = model.trainStepWithPredictions(x, y, optimizer, { onNonFinite: 'stop' });
    try {
      if (!read) return null;
      const [l, p] = await Promise.all([loss.data(), predictions.data(), f.nn.checkNumerics(model, optimizer)]);
      let right = 0;
      for (let i = 0; i < b.size; i++) if (p[i] === b.labels[i]) right++;
      return { loss: l[0], accuracy: right / b.size };
    } finally {
      for (const t of [x, y, loss, predictions]) t.dispose();
    }
  }

  /** Softmax probabilities, predictions and the confusion matrix on the first `count` test images. */
  evaluate(count: number, chunk = 100): Promise<Evaluation> {
    return this.gpu.run(async () => {
      const model = this.model!;
      const dataset = this.dataset!;
      const n = Math.min(count, dataset.test.count);
      const classes = dataset.classNames.length;
      const t0 = performance.now();
      const probabilities = new Float32Array(n * classes);
      const predictions = new Uint8Array(n);
      const labels = dataset.test.labels.slice(0, n);
      const confusion = new Uint32Array(classes * classes);
      let right = 0;
      for (let start = 0; start < n; start += chunk) {
        const size = Math.min(chunk, n - start);
        const b = slice(dataset, dataset.test, start, size);
        const x = f.tensor(b.images, [size, ...dataset.inputShape]);
        const logits = model.forward(x);
        const probs = f.softmax(logits);
        try {
          const p = (await probs.data()) as Float32Array;
          probabilities.set(p, start * classes);
          for (let i = 0; i < size; i++) {
            let best = 0;
            for (let c = 1; c < classes; c++) if (p[i * classes + c] > p[i * classes + best]) best = c;
            predictions[start + i] = best;
            confusion[labels[start + i] * classes + best]++;
            if (best === labels[start + i]) right++;
          }
        } finally {
          for (const t of [x, logits, probs]) t.dispose();
        }
        await yieldToBrowser();
      }
      return { step: this.step, count: n, accuracy: right / n, probabilities, predictions, labels, confusion, ms: performance.now() - t0 };
    });
  }

  /** Class probabilities for one image (the drawing pad). */
  predictOne(image: Float32Array): Promise<Float32Array | null> {
    return this.gpu.run(async () => {
      const model = this.model;
      const dataset = this.dataset;
      if (!model || !dataset) return null;
      const x = f.tensor(image, [1, ...dataset.inputShape]);
      const logits = model.forward(x);
      const probs = f.softmax(logits);
      try {
        return (await probs.data()) as Float32Array;
      } finally {
        for (const t of [x, logits, probs]) t.dispose();
      }
    });
  }
}
