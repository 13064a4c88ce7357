// Timing: the first run apart (it compiles), optional warm-ups, then timed runs; short operations
// repeat inside a run so that a run lasts long enough to time (how many times: sized from a warm
// run, then refined from a run of that many); median with min and max.
import type { RunConfig } from './config.ts';

export interface Timing {
  /** The first run, ms (includes pipeline compilation, first uploads, JIT tracing). */
  firstMs: number;
  /** Per-iteration ms of each timed run. */
  samplesMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  reps: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** How the training rows drive one library's step: make the loss, read it (not consuming it), free it. */
export interface StepLoop<L> {
  step(): L;
  read(loss: L): Promise<number>;
  dispose(loss: L): void;
}

/**
 * TrainRunner.steps for any library: `reps` steps, each synchronous step() call timed on its own
 * (host ms), with `settle` each loss read before the next step starts; resolves with the last loss.
 */
export async function timeSteps<L>(reps: number, settle: boolean, loop: StepLoop<L>): Promise<{ hostMs: number[]; loss: number }> {
  const hostMs: number[] = [];
  let loss: L | undefined;
  for (let i = 0; i < reps; i++) {
    if (loss !== undefined) loop.dispose(loss);
    const t0 = performance.now();
    loss = loop.step();
    hostMs.push(performance.now() - t0);
    if (settle) await loop.read(loss);
  }
  const value = await loop.read(loss!);
  loop.dispose(loss!);
  return { hostMs, loss: value };
}

/** Lets the page paint and the event loop breathe between runs. */
export const yieldToBrowser = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Times `run(reps)` (which must resolve once the device finished) as described above. */
export async function measure(run: (reps: number) => Promise<void>, cfg: RunConfig, onRun?: (reps: number) => void): Promise<Timing> {
  let t = performance.now();
  await run(1);
  const firstMs = performance.now() - t;
  onRun?.(1);
  // A first run slower than slowRunMs: no warm-up beyond it and one timed run at least (not three).
  const slow = firstMs > cfg.slowRunMs;
  const minRuns = slow ? 1 : cfg.minRuns;
  let warmMs = firstMs;
  for (let i = 0; i < (slow ? 0 : cfg.warmups); i++) {
    await yieldToBrowser();
    t = performance.now();
    await run(1);
    warmMs = performance.now() - t;
  }
  const repsFor = (msPerRep: number) => Math.max(1, Math.min(cfg.maxReps, Math.ceil(cfg.targetSampleMs / Math.max(msPerRep, 0.01))));
  let reps = repsFor(warmMs);
  // A run ends with a readback round trip (every library's): sized from a run of one, a
  // sub-millisecond op would be timed mostly by that. One run of the first estimate refines it.
  if (reps > 1) {
    await yieldToBrowser();
    t = performance.now();
    await run(reps);
    reps = repsFor((performance.now() - t) / reps);
  }
  // Timed runs: at least minRuns, then more while the budget lasts (estimated from the last run, not
  // from the first, which includes compilation), up to maxRuns.
  const samplesMs: number[] = [];
  let spentMs = 0;
  while (samplesMs.length < cfg.maxRuns) {
    if (samplesMs.length >= minRuns) {
      const next = samplesMs[samplesMs.length - 1] * reps;
      if (spentMs + next > cfg.budgetMs) break;
    }
    await yieldToBrowser();
    t = performance.now();
    await run(reps);
    const ms = performance.now() - t;
    spentMs += ms;
    samplesMs.push(ms / reps);
    onRun?.(reps);
  }
  return { firstMs, samplesMs, medianMs: median(samplesMs), minMs: Math.min(...samplesMs), maxMs: Math.max(...samplesMs), reps };
}

export class TimeoutError extends Error {
  constructor(
    message: string,
    /** The abandoned work, still running: settles (or not) later. */
    readonly pending: Promise<unknown>,
  ) {
    super(message);
  }
  /** Set by guarded(): whether the work ended within a second timeout. */
  drained = false;
}

/**
 * withTimeout, and on a timeout waits once more as long for the work to end (so that its buffers are
 * not freed under it), recording in the error whether it did.
 */
export async function guarded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  try {
    return await withTimeout(promise, ms, what);
  } catch (e) {
    if (e instanceof TimeoutError) e.drained = await settlesWithin(e.pending, ms);
    throw e;
  }
}

/** Work that timed out and never ended: its resources must not be freed, its backend not reused. */
export const stuck = (e: unknown) => e instanceof TimeoutError && !e.drained;

/** Rejects with a TimeoutError after `ms` (the work itself cannot be cancelled). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = promise.then(
    () => undefined,
    () => undefined,
  );
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what}: no result after ${(ms / 1000).toFixed(0)} s (abandoned)`, settled)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** True when `p` settles within `ms`. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([p.then(() => true as const), late]);
  clearTimeout(timer);
  return result;
}

export const errorText = (e: unknown): string => {
  const text = e instanceof Error ? e.message || String(e) : String(e);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
};
