// The runtime: one device, its buffer pool, pipeline cache, counters and shader sources.
// createGpu() is the entry point; wrappers (gemm.ts, pool.ts, …) record into a Step from gpu.step().

import { BindGroupCache } from './bind-group-cache.js';
import { BufferPool, STORAGE_USAGE, type BufferPoolOptions } from './buffer-pool.js';
import { newCounters, type Counters } from './counters.js';
import { acquireDevice, type AdapterInfo, type DeviceOptions } from './device.js';
import { Step, type PipelineNeed, type StepHost, type Tuning } from './encoder.js';
import { PipelineCache } from './pipeline-cache.js';
import { loadShaderSources, type ShaderSources } from './shader-source.js';

export interface CreateGpuOptions extends DeviceOptions, BufferPoolOptions {
  /** WGSL sources by family; default: shaders/*.wgsl (see shader-source.ts). */
  shaderSources?: ShaderSources;
  /** Use this device instead of requesting one (the runtime will not destroy it). */
  device?: GPUDevice;
  /** Override the defaults in `tuning` (e.g. { gemmVariant: 'tiled' }). */
  tuning?: Partial<Tuning>;
  /** Fold grids above this many workgroups per dimension (default: the device limit; tests lower it). */
  gridLimit?: number;
}

export class Gpu implements StepHost {
  readonly counters: Counters = newCounters();
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly bindGroups: BindGroupCache;
  readonly gridLimit: number;
  readonly tuning: Tuning;
  /** Whether kernels share loads across subgroup quads: the device has 'subgroups' and `options.subgroups` is not false. */
  readonly subgroups: boolean;
  /** Set when the device is lost (or destroyed); every later call throws. */
  lost?: GPUDeviceLostInfo;
  private destroyed = false;
  private readonly scratchBuffers: GPUBuffer[] = [];
  private readonly packTextures: GPUTexture[] = [];

  constructor(
    readonly device: GPUDevice,
    readonly info: AdapterInfo,
    shaderSources: ShaderSources,
    options: CreateGpuOptions = {},
    /** The adapter and GPU instance when this runtime requested the device (it then owns it). */
    readonly source?: { adapter: GPUAdapter; instance: GPU },
  ) {
    this.bindGroups = new BindGroupCache(device, this.counters);
    this.pool = new BufferPool(device, this.counters, options, (buffer) => this.bindGroups.forget(buffer));
    this.subgroups = options.subgroups !== false && device.features.has('subgroups');
    this.pipelines = new PipelineCache(device, this.counters, shaderSources, this.subgroups);
    this.tuning = { gemmVariant: info.isSoftware ? 'tex' : 'tiled', ...options.tuning };
    this.gridLimit = Math.min(options.gridLimit ?? Infinity, device.limits.maxComputeWorkgroupsPerDimension);
    void device.lost.then((info) => {
      this.lost = info;
    });
    device.addEventListener?.('uncapturederror', (event) => {
      this.counters.uncapturedErrors++;
      console.error(`filtro: uncaptured WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  assertAlive(): void {
    if (this.destroyed) throw new Error('filtro: this GPU runtime was destroyed; create a new one with createGpu().');
    if (this.lost) {
      throw new Error(
        `filtro: the GPU device was lost (${this.lost.reason}: ${this.lost.message || 'no message'}); ` +
          'its buffers are gone. Create a new runtime with createGpu().',
      );
    }
  }

  /** A new step: record dispatches with the wrappers, then `await step.submit()`. */
  step(label?: string, options?: { collectOnly?: boolean }): Step {
    return new Step(this, label, options);
  }

  /**
   * Compiles pipelines ahead of use, all at once in the background (createComputePipelineAsync), so
   * a first step does not compile them one by one. Resolves, when all are ready, with how many
   * distinct pipelines there were.
   */
  async precompile(needs: readonly PipelineNeed[], onProgress?: (done: number, total: number) => void): Promise<number> {
    this.assertAlive();
    const unique = [...new Map(needs.map((n) => [PipelineCache.key(n.kernel, n.constants), n])).values()];
    let done = 0;
    await Promise.all(
      unique.map(async ({ kernel, constants }) => {
        await this.pipelines.warm(kernel, constants);
        onProgress?.(++done, unique.length);
      }),
    );
    return unique.length;
  }

  /** A pooled storage buffer (STORAGE | COPY_SRC | COPY_DST) of at least `bytes` bytes; contents undefined. */
  buffer(bytes: number, label?: string): GPUBuffer {
    this.assertAlive();
    return this.pool.acquire(bytes, STORAGE_USAGE, label);
  }

  /** A pooled storage buffer holding `data`. */
  upload(data: ArrayBufferView, label?: string): GPUBuffer {
    const buffer = this.buffer(data.byteLength, label);
    this.write(buffer, data);
    return buffer;
  }

  /** queue.writeBuffer; ordered after every step already submitted. byteLength must be a multiple of 4. */
  write(buffer: GPUBuffer, data: ArrayBufferView, offset = 0): void {
    this.assertAlive();
    this.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Returns a buffer from buffer()/upload() to the pool. */
  release(buffer: GPUBuffer): void {
    this.pool.release(buffer);
  }

  /** Copies `byteLength` bytes of `buffer` back to the CPU (one submit). */
  async read(buffer: GPUBuffer, byteLength: number, offset = 0): Promise<ArrayBuffer> {
    const step = this.step('filtro read');
    const data = step.read(buffer, byteLength, offset);
    const [bytes] = await Promise.all([data, step.submit()]);
    return bytes;
  }

  /**
   * A small storage buffer bound where a kernel's binding is unused (no bias, loss not wanted).
   * Distinct indices give distinct buffers, for several writable placeholders in one dispatch.
   */
  scratch(index = 0): GPUBuffer {
    while (this.scratchBuffers.length <= index) {
      this.scratchBuffers.push(this.device.createBuffer({ size: 256, usage: STORAGE_USAGE, label: 'filtro scratch' }));
    }
    return this.scratchBuffers[index];
  }

  /**
   * The packing texture of `slot` (see Step.packTexture). It only grows: a larger request makes a
   * new one covering both sizes, and the old one lives on while recordings still bind it.
   */
  packTexture(slot: number, width: number, height: number): GPUTexture {
    const max = this.device.limits.maxTextureDimension2D;
    if (width > max || height > max) throw new Error(`filtro: packing texture ${width}×${height} exceeds maxTextureDimension2D ${max}`);
    const have = this.packTextures[slot];
    if (have && have.width >= width && have.height >= height) return have;
    const size = { width: Math.max(width, have?.width ?? 0), height: Math.max(height, have?.height ?? 0) };
    const texture = this.device.createTexture({
      label: `filtro packing texture ${slot}`,
      size,
      format: 'rgba32float',
      usage: 0x2 | 0x4 | 0x8, // GPUTextureUsage.COPY_DST | TEXTURE_BINDING | STORAGE_BINDING
    });
    this.packTextures[slot] = texture;
    if (have) this.bindGroups.forget(have);  // the cache would keep the old one alive
    return texture;
  }

  /** Resolves when the queue has finished all submitted work. */
  async idle(): Promise<void> {
    this.assertAlive();
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Frees every buffer and destroys the device (unless it was passed in). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.destroyAll();
    this.bindGroups.clear();
    for (const b of this.scratchBuffers) b.destroy();
    this.scratchBuffers.length = 0;
    for (const t of this.packTextures) t?.destroy(); // slots are sparse: a runtime may use slot 1 only
    this.packTextures.length = 0;
    if (this.source) this.device.destroy();
  }
}

export async function createGpu(options: CreateGpuOptions = {}): Promise<Gpu> {
  const shaders = options.shaderSources ?? (await loadShaderSources());
  if (options.device) {
    const info: AdapterInfo = { vendor: '', architecture: '', device: '', description: 'device passed in', isSoftware: false, backend: 'external' };
    return new Gpu(options.device, info, shaders, options);
  }
  const acquired = await acquireDevice(options);
  return new Gpu(acquired.device, acquired.info, shaders, options, { adapter: acquired.adapter, instance: acquired.instance });
}
