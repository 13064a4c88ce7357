// A Step records dispatches (and clears, copies, readbacks) and submits them as ONE command buffer,
// or keeps them as a Recording to submit again and again (record()).
// Pipelines are looked up at record time; bind groups and the step's uniform buffer are made at
// submit. All uniforms of a step live in one pooled buffer (an arena at 256-byte offsets), so a
// steady-state step creates no GPU buffers. submit() is synchronous on the queue (so later
// writeBuffer calls are ordered after it) and returns a promise that rejects with the WGSL
// compile log or the validation error if anything in the step was invalid, or with a
// GpuOutOfMemoryError if a buffer created since the previous submit could not be allocated.

import type { BindGroupCache } from './bind-group-cache.js';
import { READBACK_USAGE, UNIFORM_USAGE, type BufferPool } from './buffer-pool.js';
import type { Counters } from './counters.js';
import { foldGrid } from './grid.js';
import { PipelineCache, type CachedPipeline } from './pipeline-cache.js';
import { isTextureBinding, type BindingResource, type Constants, type KernelDef } from './kernel.js';
import { encodeCommands, Recording, submitVerdict, type EncodedCommand, type TextureCopy } from './recording.js';

/** What a Step needs from the runtime. */
export interface StepHost {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly bindGroups: BindGroupCache;
  readonly counters: Counters;
  /** maxComputeWorkgroupsPerDimension (or a smaller value forced for tests). */
  readonly gridLimit: number;
  assertAlive(): void;
  /** A small placeholder storage buffer; distinct indices give distinct buffers. */
  scratch(index?: number): GPUBuffer;
  /** The packing texture of `slot` (see Step.packTexture), at least width × height texels. */
  packTexture(slot: number, width: number, height: number): GPUTexture;
  /** Defaults the wrappers use when a caller does not choose. */
  readonly tuning: Tuning;
}

export interface Tuning {
  /** Default gemm variant: 'tex' on software adapters (see gemm_tex.wgsl), else 'tiled'. */
  gemmVariant: 'tiled' | 'direct' | 'reg' | 'tex';
  /** Default-variant 'reg' gemms smaller than this many multiply-adds run 'direct' instead (default 2^20). */
  gemmRegMinMacs?: number;
  /** 'reg' gemm: threads per workgroup (default 64). */
  gemmRegThreads?: number;
  /**
   * 'reg' gemm: split K while the output has fewer workgroups than this (default 32). Default-variant
   * 'tex' gemms of 5 to 16 columns take gemm_tex_thin from this many workgroups of 256 rows.
   */
  gemmSplitTarget?: number;
  /** 'reg' gemm: the shortest K slice of a split (default 256). */
  gemmSplitMinK?: number;
  /** Default-variant 'tex' gemms below this many multiply-adds run 'reg' (default 2^26; see gemm.ts). */
  gemmTexMinMacs?: number;
  /**
   * ...except those from this many (default 2^22) whose op(A) is read untransposed from its buffer
   * and whose N is at least 16: one 'tex' pipeline serves them all (see gemm.ts).
   */
  gemmTexPlainMinMacs?: number;
  /** 'tex' gemm: pack op(A) too where MN / (M + N), the uses of each element, reaches this (default 256). */
  gemmTexMinReuse?: number;
  /** 'tex' gemm: the largest packed texture side (default maxTextureDimension2D; tests lower it to fold). */
  gemmTexMaxSize?: number;
  /** 'tex' gemm: threads per workgroup along N at most (default 4, measured on SwiftShader). */
  gemmTexMaxWgX?: number;
  /** 'tex' gemm: split K while fewer threads than this have an output block (default 256). */
  gemmTexSplitThreads?: number;
  /** Default im2col/col2im variant (default: 'rows' when C % 4 == 0 or, for im2col, the rows are padded to a multiple of 4; else 'element'). */
  im2colVariant?: 'element' | 'rows';
  /** Default conv2d input-gradient variant (default 'direct' where K % 4 == 0, else 'gemm'). */
  convBackwardInputVariant?: 'gemm' | 'direct';
  /** Default max-pool backward variant (default 'scatter' where windows do not overlap). */
  maxPoolBackwardVariant?: 'gather' | 'scatter';
  /** relu backward on vec4s where aligned (default true). */
  vec4Elementwise?: boolean;
}

export interface DispatchArgs {
  /** One buffer (a texture for the texture kinds) per non-uniform binding, in binding order. */
  buffers: readonly BindingResource[];
  /** The Params struct bytes (see UniformWriter); required iff the kernel has a uniform binding. */
  uniforms?: Uint8Array;
  /** WGSL override values (part of the pipeline key). */
  constants?: Constants;
  /** Linear workgroup count; folded into 2-D/3-D when above the grid limit. 0 skips the dispatch. */
  workgroups: number;
}

/** A pipeline a step will need: what PipelineCache.warm() compiles ahead of time. */
export interface PipelineNeed {
  kernel: KernelDef;
  constants?: Constants;
}

type Command =
  | { kind: 'dispatch'; pipeline: CachedPipeline; kernel: KernelDef; buffers: readonly BindingResource[]; uniformOffset: number; uniformSize: number; grid: [number, number, number] }
  | { kind: 'clear'; buffer: GPUBuffer; offset: number; size?: number }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; size: number }
  | TextureCopy;

interface PendingRead {
  src: GPUBuffer;
  offset: number;
  size: number;        // rounded up to 4
  byteLength: number;  // as asked
  resolve: (data: ArrayBuffer) => void;
  reject: (e: Error) => void;
}

const UNIFORM_ALIGN = 256;

export class Step {
  /** Dispatches recorded so far. */
  dispatchCount = 0;
  private readonly commands: Command[] = [];
  private readonly reads: PendingRead[] = [];
  private readonly temporaries: GPUBuffer[] = [];
  private arena = new Uint8Array(1024);
  private arenaUsed = 0;
  private submitted = false;
  private readonly needed = new Map<string, PipelineNeed>();

  /**
   * With `collectOnly` the step records nothing to run: its dispatches only note the pipelines
   * they need (see pipelinesNeeded), and it is discarded instead of submitted.
   */
  constructor(private readonly host: StepHost, readonly label = 'filtro step', private readonly options: { collectOnly?: boolean } = {}) {
    host.assertAlive();
  }

  dispatch(kernel: KernelDef, args: DispatchArgs): void {
    this.assertOpen();
    const slots = kernel.bindings.filter((b) => b !== 'uniform').length;
    if (args.buffers.length !== slots) {
      throw new Error(`filtro: ${kernel.family}/${kernel.entry} takes ${slots} buffers, got ${args.buffers.length}`);
    }
    const hasUniform = kernel.bindings.includes('uniform');
    if (hasUniform !== !!args.uniforms) {
      throw new Error(`filtro: ${kernel.family}/${kernel.entry} ${hasUniform ? 'needs' : 'takes no'} uniforms`);
    }
    if (args.workgroups === 0) return;
    if (this.options.collectOnly) {
      this.needed.set(PipelineCache.key(kernel, args.constants), { kernel, constants: args.constants });
      return;
    }
    const pipeline = this.host.pipelines.get(kernel, args.constants);
    let uniformOffset = 0;
    let uniformSize = 0;
    if (args.uniforms) {
      uniformOffset = this.arenaUsed;
      uniformSize = args.uniforms.byteLength;
      this.reserve(uniformOffset + uniformSize);
      this.arena.set(args.uniforms, uniformOffset);
      this.arenaUsed = Math.ceil((uniformOffset + uniformSize) / UNIFORM_ALIGN) * UNIFORM_ALIGN;
    }
    const grid = foldGrid(args.workgroups, this.host.gridLimit);
    this.commands.push({ kind: 'dispatch', pipeline, kernel, buffers: args.buffers, uniformOffset, uniformSize, grid });
    this.dispatchCount++;
  }

  /**
   * A pooled storage buffer that lives until this step is submitted (im2col columns, say). It is
   * returned to the pool only after submit, so no later upload can land in it before this step runs.
   */
  temporary(bytes: number, label?: string): GPUBuffer {
    this.assertOpen();
    const buffer = this.host.pool.acquire(bytes, undefined, label ?? `${this.label} temporary`);
    this.temporaries.push(buffer);
    return buffer;
  }

  get tuning(): Tuning {
    return this.host.tuning;
  }

  /** The device's maxTextureDimension2D (the largest packing texture). */
  get maxTextureSize(): number {
    return this.host.device.limits.maxTextureDimension2D;
  }

  /** A small placeholder for a binding the kernel will not touch (see Gpu.scratch). */
  scratch(index = 0): GPUBuffer {
    return this.host.scratch(index);
  }

  /**
   * An rgba32float texture (TEXTURE_BINDING | STORAGE_BINDING) of at least width × height texels,
   * one per `slot` for the whole runtime, that a kernel packs an operand into and the next reads
   * (gemm 'tex'). Sharing is safe because the queue runs dispatches in order and every user writes
   * the texels it reads just before reading them.
   */
  packTexture(slot: number, width: number, height: number): GPUTexture {
    this.assertOpen();
    return this.host.packTexture(slot, width, height);
  }

  /** Zeroes a byte range (offset and size multiples of 4) between dispatches. */
  clear(buffer: GPUBuffer, offset = 0, size?: number): void {
    this.assertOpen();
    this.commands.push({ kind: 'clear', buffer, offset, size });
  }

  /** Copies bytes between buffers (offsets and size multiples of 4). */
  copy(src: GPUBuffer, dst: GPUBuffer, size: number, srcOffset = 0, dstOffset = 0): void {
    this.assertOpen();
    this.commands.push({ kind: 'copy', src, srcOffset, dst, dstOffset, size: align4(size) });
  }

  /**
   * Copies `height` rows of `width` rgba32float texels from `src` (rows `bytesPerRow` apart, a
   * multiple of 256 as WebGPU requires) into the top-left corner of `dst`.
   */
  copyToTexture(src: GPUBuffer, dst: GPUTexture, width: number, height: number, bytesPerRow: number): void {
    this.assertOpen();
    if (bytesPerRow % 256 !== 0 || bytesPerRow < width * 16) {
      throw new Error(`filtro: step "${this.label}": copyToTexture needs bytesPerRow a multiple of 256 and at least ${width * 16}, got ${bytesPerRow}`);
    }
    this.commands.push({ kind: 'texture copy', src, bytesPerRow, dst, width, height });
  }

  /** Reads `byteLength` bytes of `buffer` after this step's work; resolves after submit(). */
  read(buffer: GPUBuffer, byteLength: number, offset = 0): Promise<ArrayBuffer> {
    this.assertOpen();
    return new Promise((resolve, reject) => {
      this.reads.push({ src: buffer, offset, size: align4(byteLength), byteLength, resolve, reject });
    });
  }

  /** The pipelines a collect-only step's dispatches asked for, once each. */
  pipelinesNeeded(): PipelineNeed[] {
    return [...this.needed.values()];
  }

  /** Ends a step without running it, returning its temporaries to the pool. */
  discard(): void {
    this.assertOpen();
    this.submitted = true;
    for (const t of this.temporaries) this.host.pool.release(t);
  }

  /** Encodes everything into one command buffer and submits it once. */
  submit(): Promise<void> {
    this.assertOpen();
    if (this.options.collectOnly) throw new Error(`filtro: step "${this.label}" only collects pipelines; discard() it`);
    this.submitted = true;
    const { device, pool, counters } = this.host;
    const abandon = (e: Error) => {
      for (const t of this.temporaries) pool.release(t);
      for (const r of this.reads) r.reject(e);
    };
    try {
      this.host.assertAlive();
    } catch (e) {
      abandon(e as Error);
      throw e;
    }
    const used = [...new Set(this.commands.flatMap((c) => (c.kind === 'dispatch' ? [c.pipeline] : [])))];
    const broken = used.find((p) => p.error);
    if (broken) {
      abandon(broken.error!);
      return Promise.reject(broken.error);
    }

    let uniformBuffer: GPUBuffer | undefined;
    const staging: GPUBuffer[] = [];
    device.pushErrorScope('validation');
    try {
      if (this.arenaUsed > 0) {
        uniformBuffer = pool.acquire(this.arenaUsed, UNIFORM_USAGE, `${this.label} uniforms`);
        device.queue.writeBuffer(uniformBuffer, 0, this.arena, 0, this.arenaUsed);
      }
      for (const r of this.reads) staging.push(pool.acquire(r.size, READBACK_USAGE, `${this.label} readback`));
      device.queue.submit([this.encode(uniformBuffer, staging)]);
    } catch (e) {
      void device.popErrorScope();
      for (const b of [...staging, ...(uniformBuffer ? [uniformBuffer] : [])]) pool.release(b);
      abandon(e as Error);
      throw e;
    }
    const scope = device.popErrorScope();
    // Buffers created since the last submit (this step's uniforms and readbacks included): a device
    // out of memory is reported here first, as it explains any validation error that follows.
    const memory = pool.takeFailures();
    // Queue order protects this submit's contents from whoever acquires these next.
    if (uniformBuffer) pool.release(uniformBuffer);
    for (const t of this.temporaries) pool.release(t);
    counters.submits++;
    counters.dispatches += this.dispatchCount;

    const validated = submitVerdict(this.label, used, scope, memory);
    this.reads.forEach((r, i) => {
      const buffer = staging[i];
      const mapped = buffer.mapAsync(0x1 /* GPUMapMode.READ */).then(() => {
        const data = buffer.getMappedRange(0, r.size).slice(0, r.byteLength);
        buffer.unmap();
        return data;
      });
      const cleanup = () => pool.release(buffer);
      mapped.then(cleanup, cleanup);
      // A read resolves only once the step is known valid (an invalid step would read zeros).
      Promise.all([validated, mapped]).then(([, data]) => {
        counters.readbacks++;
        r.resolve(data);
      }, r.reject);
    });
    return validated;
  }

  private encode(uniformBuffer: GPUBuffer | undefined, staging: GPUBuffer[]): GPUCommandBuffer {
    const encoder = this.host.device.createCommandEncoder({ label: this.label });
    encodeCommands(encoder, this.resolve(uniformBuffer), this.label);
    this.reads.forEach((r, i) => encoder.copyBufferToBuffer(r.src, r.offset, staging[i], 0, r.size));
    return encoder.finish();
  }

  /** The commands with their pipelines and bind groups looked up (bind groups come from the cache). */
  private resolve(uniformBuffer: GPUBuffer | undefined): EncodedCommand[] {
    const maxBinding = this.host.device.limits.maxStorageBufferBindingSize;
    return this.commands.map((c): EncodedCommand => {
      if (c.kind !== 'dispatch') return c;
      const uniform = uniformBuffer && c.uniformSize > 0 ? { buffer: uniformBuffer, offset: c.uniformOffset, size: c.uniformSize } : undefined;
      const group = this.host.bindGroups.get(c.pipeline.key, c.pipeline.layout, c.kernel.bindings, c.buffers, uniform, maxBinding);
      return { kind: 'dispatch', pipeline: c.pipeline.pipeline, group, grid: c.grid };
    });
  }

  /**
   * Ends the step without submitting it and keeps its work as a Recording, to submit with replay()
   * as often as wanted. The recording owns its uniforms and temporaries, and takes out of the pool
   * every pooled buffer the work uses that nobody holds once recording ends (the intermediates
   * released while it was encoded), so nothing else can be handed them. The buffers it uses that
   * are still held (inputs, parameters, outputs) must keep their contents' meaning between
   * replays: that is the caller's contract. Steps with reads cannot be recorded.
   */
  record(): Recording {
    this.assertOpen();
    if (this.options.collectOnly) throw new Error(`filtro: step "${this.label}" only collects pipelines; discard() it`);
    if (this.reads.length > 0) throw new Error(`filtro: step "${this.label}" reads buffers back; a recording cannot`);
    this.host.assertAlive();
    this.submitted = true;
    const { pool, device } = this.host;
    const owned = [...this.temporaries];
    const used = new Set<GPUBuffer>();
    for (const c of this.commands) {
      if (c.kind === 'dispatch') {
        const slots = c.kernel.bindings.filter((b) => b !== 'uniform');
        c.buffers.forEach((b, i) => {
          if (!isTextureBinding(slots[i])) used.add(b as GPUBuffer);
        });
      } else if (c.kind === 'clear') used.add(c.buffer);
      else if (c.kind === 'copy') used.add(c.src).add(c.dst);
      else used.add(c.src);
    }
    for (const b of used) if (pool.claim(b)) owned.push(b);
    let uniformBuffer: GPUBuffer | undefined;
    if (this.arenaUsed > 0) {
      uniformBuffer = pool.acquire(this.arenaUsed, UNIFORM_USAGE, `${this.label} uniforms`);
      device.queue.writeBuffer(uniformBuffer, 0, this.arena, 0, this.arenaUsed);
      owned.push(uniformBuffer);
    }
    const pipelines = [...new Set(this.commands.flatMap((c) => (c.kind === 'dispatch' ? [c.pipeline] : [])))];
    return new Recording(this.host, this.label, this.resolve(uniformBuffer), pipelines, owned, this.dispatchCount);
  }

  private reserve(bytes: number): void {
    if (bytes <= this.arena.byteLength) return;
    const grown = new Uint8Array(Math.max(bytes, this.arena.byteLength * 2));
    grown.set(this.arena.subarray(0, this.arenaUsed));
    this.arena = grown;
  }

  private assertOpen(): void {
    if (this.submitted) throw new Error(`filtro: step "${this.label}" was already submitted; start a new step`);
  }
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
