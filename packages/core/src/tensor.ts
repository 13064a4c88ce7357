// Tensor: a shape, a dtype, and either a pending node (lazy) or an allocation (realized).
import { Allocation } from './allocation.js';
import { currentBackend } from './backends/registry.js';
import { fail } from './errors.js';
import type { Node } from './graph.js';
import { realize } from './scheduler.js';
import { liveStats } from './stats.js';
import type { DType, HostArray, TensorSpec } from './types.js';
import { bytesOf, formatShape, sizeOf } from './types.js';

interface Holder {
  alloc: Allocation | null;
}

// Tensors the user drops without dispose() give their storage back when garbage-collected.
const collector = new FinalizationRegistry<Holder>((holder) => {
  if (!holder.alloc) return;
  holder.alloc.release();
  holder.alloc = null;
  liveStats.tensorsLive--;
});

let nextId = 0;

export class Tensor implements TensorSpec {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** @internal The computation that produces this tensor; null once realized. */
  node: Node | null;
  /** @internal Kept apart from the tensor so the collector can release it after the tensor is gone. */
  readonly holder: Holder = { alloc: null };
  private disposed = false;
  private readback: Promise<HostArray> | null = null;

  /** @internal Use f.tensor() or an op to make tensors. */
  constructor(spec: TensorSpec, node: Node | null) {
    this.shape = Object.freeze([...spec.shape]);
    this.dtype = spec.dtype;
    this.size = sizeOf(spec.shape);
    this.node = node;
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** True once the tensor's values exist in storage. */
  get isRealized(): boolean {
    return this.holder.alloc !== null;
  }

  /** @internal */
  get allocation(): Allocation | null {
    return this.holder.alloc;
  }

  /** @internal Gives the tensor its storage (taking over one reference) and drops its pending node. */
  setAllocation(alloc: Allocation): void {
    if (this.holder.alloc) this.holder.alloc.release();
    else {
      collector.register(this, this.holder, this);
      liveStats.tensorsLive++;
    }
    this.holder.alloc = alloc;
    this.node = null;
    this.readback = null;
  }

  /** @internal Its storage was overwritten in place (by a replayed step): a cached readback is stale. */
  overwritten(): void {
    this.readback = null;
  }

  /** @internal Throws a clear error when a disposed tensor is used. */
  assertUsable(fn: string): void {
    if (this.disposed) fail(fn, `tensor #${this.id} ${formatShape(this.shape)} was disposed and cannot be used`);
  }

  /** Computes the tensor if needed and copies its values to the host (read back once, then cached). */
  async data(): Promise<HostArray> {
    this.assertUsable('data');
    if (!this.holder.alloc) realize([this]);
    const alloc = this.holder.alloc!;
    if (!this.readback) {
      liveStats.readbacks++;
      this.readback = alloc.backend.read(alloc.storage, this);
    }
    return (await this.readback).slice();
  }

  /** The values as nested arrays (a number for a scalar). */
  async array(): Promise<unknown> {
    const flat = Array.from(await this.data());
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return flat[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** Gives the storage back now instead of waiting for garbage collection. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    collector.unregister(this);
    if (this.holder.alloc) {
      this.holder.alloc.release();
      this.holder.alloc = null;
      liveStats.tensorsLive--;
    }
    this.node = null;
    this.readback = null;
  }

  toString(): string {
    return `Tensor(${this.dtype} ${formatShape(this.shape)})`;
  }
}

/** @internal Gives `target` fresh storage on the current backend holding `values` (recovery). */
export function restore(target: Tensor, values: HostArray): void {
  const backend = currentBackend();
  target.setAllocation(new Allocation(backend, backend.upload(values, target), bytesOf(target)));
}

/** @internal Makes `target` hold `source`'s values (a parameter update) and disposes `source`. */
export function assign(target: Tensor, source: Tensor): void {
  const alloc = source.allocation;
  if (!alloc) throw new Error('internal: assign() from an unrealized tensor');
  target.setAllocation(alloc.retain());
  source.dispose();
}

/** Throws a FiltroError naming `fn` unless `x` is a usable (not disposed) Tensor. */
export function requireTensor(fn: string, x: unknown, arg = 'input'): Tensor {
  if (!(x instanceof Tensor)) fail(fn, `${arg} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  x.assertUsable(fn);
  return x;
}
