// Pooled GPU buffers: free lists per (usage, size class), so steady-state training creates none.
// Size classes are 256 bytes, then steps of 1/4 of a power of two (2^k · {1, 1.25, 1.5, 1.75}),
// which wastes at most 25% and lets slightly different shapes share buffers. Only the creation path
// pays for out-of-memory detection: each createBuffer runs inside an 'out-of-memory' error scope, and
// the next Step.submit() (see takeFailures) rejects with the sizes involved if one failed.

import type { Counters } from './counters.js';

export const STORAGE_USAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST
export const UNIFORM_USAGE = 0x40 | 0x8;       // UNIFORM | COPY_DST
export const READBACK_USAGE = 0x1 | 0x8;       // MAP_READ | COPY_DST

/** The smallest size class holding `bytes`. */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const pow = 2 ** Math.floor(Math.log2(bytes));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) {
    const size = pow * f;
    if (size >= bytes) return Math.ceil(size / 256) * 256;
  }
  return pow * 2;
}

export interface BufferPoolOptions {
  /** Released buffers beyond this many pooled bytes are destroyed instead (default 1 GiB). */
  maxPooledBytes?: number;
  /** The largest buffer the device allows (classes are capped at it). */
  maxBufferSize?: number;
}

/** A buffer the device could not allocate, with what the pool held at that moment. */
export class GpuOutOfMemoryError extends Error {
  constructor(
    /** Bytes asked for, and the size class actually requested from the device. */
    readonly bytes: number,
    readonly size: number,
    readonly label: string,
    /** Bytes handed out and bytes waiting in the free lists when the buffer was created. */
    readonly bytesLive: number,
    readonly bytesPooled: number,
    readonly maxBufferSize: number,
    /** The device's own message. */
    readonly deviceMessage: string,
  ) {
    super(
      `filtro: out of GPU memory creating a ${formatBytes(size)} buffer (${label}) with ${formatBytes(bytesLive)} live and ` +
        `${formatBytes(bytesPooled)} pooled (maxBufferSize ${formatBytes(maxBufferSize)}); free tensors (dispose) or use a smaller batch`,
    );
    this.name = 'GpuOutOfMemoryError';
  }
}

/** 512 bytes, 3.0 KiB, 512.0 MiB, 1.2 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (bytes < 1024) return `${bytes} bytes`;
  let i = 0;
  let v = bytes / 1024;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** Called with each buffer just before the pool destroys it. */
export type DestroyListener = (buffer: GPUBuffer) => void;

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly live = new Set<GPUBuffer>();
  /** Buffers whose creation failed: destroyed when released, never pooled. Almost always empty. */
  private readonly failed = new Set<GPUBuffer>();
  /** Out-of-memory checks of buffers created since the last takeFailures(). */
  private checks: Promise<GpuOutOfMemoryError | undefined>[] = [];
  /** The last out-of-memory failure reported by the device, if any. */
  lastOutOfMemory?: GpuOutOfMemoryError;
  private closed = false;
  private readonly maxPooledBytes: number;
  private readonly maxBufferSize: number;

  constructor(
    private readonly device: GPUDevice,
    private readonly counters: Counters,
    options: BufferPoolOptions = {},
    private readonly onDestroy: DestroyListener = () => {},
  ) {
    this.maxPooledBytes = options.maxPooledBytes ?? 2 ** 30;
    this.maxBufferSize = options.maxBufferSize ?? device.limits.maxBufferSize;
  }

  /** A buffer of at least `bytes` bytes with exactly `usage`; its contents are undefined. */
  acquire(bytes: number, usage: number = STORAGE_USAGE, label?: string): GPUBuffer {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`filtro: bad buffer size ${bytes}`);
    if (bytes > this.maxBufferSize) {
      throw new Error(`filtro: a ${bytes}-byte buffer exceeds this device's maxBufferSize (${this.maxBufferSize})`);
    }
    const size = Math.min(sizeClass(bytes), Math.max(256, Math.floor(this.maxBufferSize / 4) * 4));
    const list = this.free.get(key(usage, size));
    let buffer = list?.pop();
    if (buffer) {
      this.counters.bytesPooled -= size;
      if (label) buffer.label = label;
    } else {
      buffer = this.create(bytes, size, usage, label ?? `filtro pool ${size}`);
    }
    this.live.add(buffer);
    this.counters.bytesLive += size;
    return buffer;
  }

  /** Returns a buffer from acquire() to the pool. Work already submitted may still use it. */
  release(buffer: GPUBuffer): void {
    if (this.closed) return; // destroyAll() already destroyed it (a readback settling late, say)
    if (!this.live.delete(buffer)) {
      throw new Error(`filtro: release of a buffer the pool does not hold live (${buffer.label}); released twice?`);
    }
    const size = buffer.size;
    this.counters.bytesLive -= size;
    if (this.failed.size > 0 && this.failed.has(buffer)) {
      this.destroy(buffer);
      return;
    }
    if (this.counters.bytesPooled + size > this.maxPooledBytes) {
      this.destroy(buffer);
      return;
    }
    const k = key(buffer.usage, size);
    let list = this.free.get(k);
    if (!list) this.free.set(k, (list = []));
    list.push(buffer);
    this.counters.bytesPooled += size;
  }

  /**
   * Takes `buffer` back out of the free lists, as if acquired again; false (and nothing done) when
   * it is not pooled there (held by someone, or never the pool's). Release it as usual later.
   */
  claim(buffer: GPUBuffer): boolean {
    const list = this.free.get(key(buffer.usage, buffer.size));
    const at = list ? list.indexOf(buffer) : -1;
    if (at < 0) return false;
    list!.splice(at, 1);
    this.counters.bytesPooled -= buffer.size;
    this.live.add(buffer);
    this.counters.bytesLive += buffer.size;
    return true;
  }

  /**
   * The out-of-memory failures of buffers created since the last call, as one promise resolving to
   * the first failure (or undefined); undefined when no buffer was created (the steady state).
   * Step.submit() folds it into its result, so the submit after a failed creation rejects.
   */
  takeFailures(): Promise<GpuOutOfMemoryError | undefined> | undefined {
    if (this.checks.length === 0) return undefined;
    const checks = this.checks;
    this.checks = [];
    return Promise.all(checks).then((failures) => failures.find((f) => f !== undefined));
  }

  /** Destroys every pooled (released) buffer. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) this.destroy(b);
    this.free.clear();
    this.counters.bytesPooled = 0;
  }

  /** Destroys every buffer, live or pooled (used when the runtime is destroyed). */
  destroyAll(): void {
    this.closed = true;
    this.trim();
    for (const b of this.live) this.destroy(b);
    this.live.clear();
    this.failed.clear();
    this.counters.bytesLive = 0;
  }

  private create(bytes: number, size: number, usage: number, label: string): GPUBuffer {
    const { bytesLive, bytesPooled } = this.counters;
    this.device.pushErrorScope('out-of-memory');
    const buffer = this.device.createBuffer({ size, usage, label });
    this.counters.buffersCreated++;
    this.checks.push(
      this.device.popErrorScope().then(
        (error) => {
          if (!error) return undefined;
          const failure = new GpuOutOfMemoryError(bytes, size, label, bytesLive, bytesPooled, this.maxBufferSize, error.message);
          this.lastOutOfMemory = failure;
          this.counters.outOfMemoryErrors++;
          // Never hand the invalid buffer out again (if it is pooled, trim destroys it), and free the
          // pooled memory so a retry can fit. This runs in a promise callback, so never in the middle
          // of a core plan's synchronous encoding (a plan releases buffers its open step still reads).
          if (this.live.has(buffer)) this.failed.add(buffer);
          this.trim();
          return failure;
        },
        () => undefined, // a lost device: reported by the runtime's own checks
      ),
    );
    return buffer;
  }

  private destroy(buffer: GPUBuffer): void {
    this.failed.delete(buffer);
    this.onDestroy(buffer);
    buffer.destroy();
  }
}

function key(usage: number, size: number): string {
  return `${usage}:${size}`;
}
