// Engine-wide counters, always on and cheap. Tests and the bench page read them through f.stats().
import { currentBackend } from './backends/registry.js';

export interface Stats {
  /** Command submissions (GPU queue submits; on cpu, one per realized plan). */
  submits: number;
  /** Kernels run (GPU dispatches; on cpu, op executions). */
  dispatches: number;
  /** Device buffers created (GPU); 0 on cpu. */
  buffersCreated: number;
  /** Bytes held by live tensor storage on the current backend, intermediates included. */
  bytesLive: number;
  /** Tensors holding storage (realized, not yet disposed or garbage-collected). */
  tensorsLive: number;
  /** Device → host copies made for data(). */
  readbacks: number;
  /** GPU pipelines compiled; 0 on cpu. */
  pipelinesCompiled: number;
  /** GPU bind groups created; 0 on cpu, and 0 per step once a training step repeats. */
  bindGroupsCreated: number;
  /** Training steps run by replaying a recorded step (model.trainStep on webgpu) rather than building it. */
  stepsReplayed: number;
}

const counters: Stats = {
  submits: 0,
  dispatches: 0,
  buffersCreated: 0,
  bytesLive: 0,
  tensorsLive: 0,
  readbacks: 0,
  pipelinesCompiled: 0,
  bindGroupsCreated: 0,
  stepsReplayed: 0,
};

/** The live counters object, mutated in place by the engine. */
export const liveStats: Stats = counters;

/** A snapshot of the counters. Compare two snapshots to find leaks: f.stats() before and after a block. */
export function stats(): Stats {
  return { ...counters, ...currentBackend().counters?.() };
}
