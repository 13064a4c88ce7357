// Always-on, cheap counters read by tests and the bench page (DESIGN §3).

export interface Counters {
  /** queue.submit calls (steps and readbacks). */
  submits: number;
  /** Compute dispatches submitted. */
  dispatches: number;
  /** GPU buffers ever created by the pool. */
  buffersCreated: number;
  /** Bytes held by buffers handed out by the pool and not yet released. */
  bytesLive: number;
  /** Bytes held by released buffers waiting in the pool's free lists. */
  bytesPooled: number;
  /** Buffers copied back to the CPU. */
  readbacks: number;
  /** Bind groups created (cache misses; 0 per step once a training step repeats). */
  bindGroupsCreated: number;
  /** Compute pipelines created (cache misses). */
  pipelinesCompiled: number;
  /** WebGPU errors that escaped every error scope (each is also logged with console.error). */
  uncapturedErrors: number;
  /** Buffer creations the device refused for lack of memory (each rejects the next submit). */
  outOfMemoryErrors: number;
}

export function newCounters(): Counters {
  return { submits: 0, dispatches: 0, buffersCreated: 0, bytesLive: 0, bytesPooled: 0, readbacks: 0, bindGroupsCreated: 0, pipelinesCompiled: 0, uncapturedErrors: 0, outOfMemoryErrors: 0 };
}
