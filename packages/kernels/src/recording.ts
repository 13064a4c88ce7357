// A Recording is a Step's work kept for replay: its pipelines and bind groups resolved once, its
// uniforms written once into a buffer it owns, and every pooled buffer it uses as scratch taken
// out of the pool for good. replay() then costs one command buffer of setPipeline/setBindGroup/
// dispatch calls, plus the caller's input writes and copies: no lowering, no lookups, no creation.
// Values that change from one replay to the next must therefore live in buffers the caller writes
// (the batch, the learning rate), never in uniforms.

import type { BufferPool } from './buffer-pool.js';
import type { Counters } from './counters.js';
import type { CachedPipeline } from './pipeline-cache.js';

/** A command with its pipeline and bind group resolved, ready to encode. */
export type EncodedCommand =
  | { kind: 'dispatch'; pipeline: GPUComputePipeline; group: GPUBindGroup; grid: readonly [number, number, number] }
  | { kind: 'clear'; buffer: GPUBuffer; offset: number; size?: number }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; size: number }
  | TextureCopy;

/** Rows of `src` (bytesPerRow apart, a multiple of 256) into texels [0, width) × [0, height) of `dst`. */
export interface TextureCopy {
  kind: 'texture copy';
  src: GPUBuffer;
  bytesPerRow: number;
  dst: GPUTexture;
  width: number;
  height: number;
}

/**
 * Encodes commands in order; dispatches share a compute pass until a clear or a copy ends it, and a
 * pipeline already set in the pass is not set again (each call costs a trip through the browser's
 * WebGPU bindings).
 */
export function encodeCommands(encoder: GPUCommandEncoder, commands: readonly EncodedCommand[], label: string): void {
  let pass: GPUComputePassEncoder | undefined;
  let pipeline: GPUComputePipeline | undefined;
  for (const c of commands) {
    if (c.kind === 'dispatch') {
      if (!pass) {
        pass = encoder.beginComputePass({ label });
        pipeline = undefined;
      }
      if (c.pipeline !== pipeline) pass.setPipeline((pipeline = c.pipeline));
      pass.setBindGroup(0, c.group);
      pass.dispatchWorkgroups(c.grid[0], c.grid[1], c.grid[2]);
    } else {
      pass?.end();
      pass = undefined;
      if (c.kind === 'clear') encoder.clearBuffer(c.buffer, c.offset, c.size);
      else if (c.kind === 'copy') encoder.copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.size);
      else encoder.copyBufferToTexture({ buffer: c.src, bytesPerRow: c.bytesPerRow }, { texture: c.dst }, { width: c.width, height: c.height });
    }
  }
  pass?.end();
}

/**
 * What a submit turns into: rejects with a device out-of-memory failure first (it explains any
 * validation error that follows), then a pipeline's compile error, then the validation error.
 */
export function submitVerdict(
  label: string,
  pipelines: readonly CachedPipeline[],
  scope: Promise<GPUError | null>,
  memory: Promise<Error | undefined> | undefined,
): Promise<void> {
  return Promise.allSettled([Promise.all(pipelines.map((p) => p.ready)), scope, memory]).then(([compiled, scoped, oom]) => {
    if (oom.status === 'fulfilled' && oom.value) throw oom.value;
    if (compiled.status === 'rejected') throw compiled.reason as Error;
    if (scoped.status === 'rejected') throw scoped.reason as Error;
    if (scoped.value) throw new Error(`filtro: step "${label}" failed validation: ${scoped.value.message}`);
  });
}

export interface RecordingHost {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  readonly counters: Counters;
  assertAlive(): void;
}

/** Bytes copied between buffers before or after a replay's recorded work. */
export interface BufferCopy {
  src: GPUBuffer;
  dst: GPUBuffer;
  /** A multiple of 4. */
  size: number;
}

export interface ReplayIO {
  /** Host data written (queue.writeBuffer) before the work, at offset 0. */
  writes?: readonly { buffer: GPUBuffer; data: ArrayBufferView }[];
  /** Copies encoded before the recorded work (the next batch into the recorded input, say). */
  before?: readonly BufferCopy[];
  /** Copies encoded after it (a recorded output into a buffer the caller keeps). */
  after?: readonly BufferCopy[];
}

export class Recording {
  private disposed = false;
  /**
   * Set once a replay passed validation. Later replays submit the same commands on buffers that
   * stay alive, so they skip the error scope (two more calls into the browser per step); anything
   * that still goes wrong reaches the device's uncaptured-error report.
   */
  private validated = false;

  constructor(
    private readonly host: RecordingHost,
    readonly label: string,
    private readonly commands: readonly EncodedCommand[],
    private readonly pipelines: readonly CachedPipeline[],
    /** Pooled buffers this recording holds until dispose(): its uniforms, temporaries and scratch. */
    private readonly owned: readonly GPUBuffer[],
    /** Dispatches per replay. */
    readonly dispatchCount: number,
  ) {}

  /**
   * Submits the recorded work once more, as one command buffer between `io.before` and `io.after`
   * copies. Resolves or rejects like Step.submit().
   */
  replay(io: ReplayIO = {}): Promise<void> {
    if (this.disposed) throw new Error(`filtro: recording "${this.label}" was disposed`);
    const { device, pool, counters } = this.host;
    this.host.assertAlive();
    const scoped = !this.validated;
    if (scoped) device.pushErrorScope('validation');
    try {
      for (const w of io.writes ?? []) device.queue.writeBuffer(w.buffer, 0, w.data.buffer, w.data.byteOffset, w.data.byteLength);
      const encoder = device.createCommandEncoder({ label: this.label });
      for (const c of io.before ?? []) encoder.copyBufferToBuffer(c.src, 0, c.dst, 0, c.size);
      encodeCommands(encoder, this.commands, this.label);
      for (const c of io.after ?? []) encoder.copyBufferToBuffer(c.src, 0, c.dst, 0, c.size);
      device.queue.submit([encoder.finish()]);
    } catch (e) {
      if (scoped) void device.popErrorScope();
      throw e;
    }
    counters.submits++;
    counters.dispatches += this.dispatchCount;
    const memory = pool.takeFailures();
    if (!scoped) return memory ? submitVerdict(this.label, [], Promise.resolve(null), memory) : Promise.resolve();
    const verdict = submitVerdict(this.label, this.pipelines, device.popErrorScope(), memory);
    verdict.then(() => (this.validated = true), () => {});
    return verdict;
  }

  /** Returns the buffers it holds to the pool (work already submitted may still use them). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.owned) this.host.pool.release(b);
  }
}
