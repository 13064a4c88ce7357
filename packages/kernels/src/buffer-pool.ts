// Pooled GPU buffers: free lists per (usage, size class), so steady-state training creates none.
// Size classes are 256 bytes, then steps of 1/4 of a power of two (2^k · {1, 1.25, 1.5, 1.75}),
// which wastes at most 25% and lets slightly different shapes share buffers.

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

/** Called with each buffer just before the pool destroys it. */
export type DestroyListener = (buffer: GPUBuffer) => void;

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly live = new Set<GPUBuffer>();
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
      buffer = this.device.createBuffer({ size, usage, label: label ?? `filtro pool ${size}` });
      this.counters.buffersCreated++;
    }
    this.live.add(buffer);
    this.counters.bytesLive += size;
    return buffer;
  }

  /** Returns a buffer from acquire() to the pool. Work already submitted may still use it. */
  release(buffer: GPUBuffer): void {
    if (!this.live.delete(buffer)) {
      throw new Error(`filtro: release of a buffer the pool does not hold live (${buffer.label}); released twice?`);
    }
    const size = buffer.size;
    this.counters.bytesLive -= size;
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

  /** Destroys every pooled (released) buffer. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) this.destroy(b);
    this.free.clear();
    this.counters.bytesPooled = 0;
  }

  /** Destroys every buffer, live or pooled (used when the runtime is destroyed). */
  destroyAll(): void {
    this.trim();
    for (const b of this.live) this.destroy(b);
    this.live.clear();
    this.counters.bytesLive = 0;
  }

  private destroy(buffer: GPUBuffer): void {
    this.onDestroy(buffer);
    buffer.destroy();
  }
}

function key(usage: number, size: number): string {
  return `${usage}:${size}`;
}
