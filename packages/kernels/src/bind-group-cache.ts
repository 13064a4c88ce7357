// Bind groups reused across steps. A training step binds the same pooled buffers at the same
// uniform offsets every time, so after warm-up every dispatch finds its bind group here instead of
// creating one (a call into the GPU process per dispatch in a browser). Entries holding a buffer
// are dropped when the pool destroys that buffer.

import type { Counters } from './counters.js';
import { isTextureBinding, type BindingKind, type BindingResource } from './kernel.js';

/** Entries kept at most; past it the cache starts over (a workload that never repeats). */
const MAX_ENTRIES = 4096;

export class BindGroupCache {
  private readonly ids = new WeakMap<BindingResource, number>();
  private readonly views = new WeakMap<GPUTexture, GPUTextureView>();
  private nextId = 1;
  private readonly groups = new Map<string, GPUBindGroup>();
  private readonly keysByBuffer = new Map<number, string[]>();

  constructor(private readonly device: GPUDevice, private readonly counters: Counters) {}

  /**
   * The bind group of `layout` (named `layoutKey`) over `buffers` (textures for the texture kinds) in binding order; a uniform
   * binding, if any, is the range [uniformOffset, uniformOffset + uniformSize) of `uniformBuffer`.
   */
  get(
    layoutKey: string,
    layout: GPUBindGroupLayout,
    bindings: readonly BindingKind[],
    buffers: readonly BindingResource[],
    uniform: { buffer: GPUBuffer; offset: number; size: number } | undefined,
    maxBinding: number,
  ): GPUBindGroup {
    let key = layoutKey;
    for (const b of buffers) key += `|${this.id(b)}`;
    if (uniform) key += `|u${this.id(uniform.buffer)}@${uniform.offset}+${uniform.size}`;
    const hit = this.groups.get(key);
    if (hit) return hit;

    let next = 0;
    const entries: GPUBindGroupEntry[] = bindings.map((kind, binding) => {
      if (kind === 'uniform') return { binding, resource: { buffer: uniform!.buffer, offset: uniform!.offset, size: uniform!.size } };
      const resource = buffers[next++];
      if (isTextureBinding(kind)) return { binding, resource: this.view(resource as GPUTexture) };
      const buffer = resource as GPUBuffer;
      return { binding, resource: { buffer, size: Math.min(buffer.size, maxBinding) } };
    });
    const group = this.device.createBindGroup({ label: layoutKey, layout, entries });
    this.counters.bindGroupsCreated++;
    if (this.groups.size >= MAX_ENTRIES) this.clear();
    this.groups.set(key, group);
    for (const b of uniform ? [...buffers, uniform.buffer] : buffers) {
      const id = this.id(b);
      const keys = this.keysByBuffer.get(id);
      if (keys) keys.push(key);
      else this.keysByBuffer.set(id, [key]);
    }
    return group;
  }

  /** Drops every bind group that uses `buffer` (call before destroying it, or replacing a texture). */
  forget(buffer: BindingResource): void {
    const id = this.ids.get(buffer);
    if (id === undefined) return;
    for (const key of this.keysByBuffer.get(id) ?? []) this.groups.delete(key);
    this.keysByBuffer.delete(id);
  }

  clear(): void {
    this.groups.clear();
    this.keysByBuffer.clear();
  }

  private view(texture: GPUTexture): GPUTextureView {
    let view = this.views.get(texture);
    if (!view) this.views.set(texture, (view = texture.createView()));
    return view;
  }

  private id(buffer: BindingResource): number {
    let id = this.ids.get(buffer);
    if (id === undefined) this.ids.set(buffer, (id = this.nextId++));
    return id;
  }
}
