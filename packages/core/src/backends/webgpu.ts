// The webgpu backend: each op is encoded into the plan's one Step through @filtro/kernels, and
// flush() submits it. Buffers come from the runtime's pool; nothing is read back unless asked.
import { createGpu } from '@filtro/kernels';
import type { Gpu, PipelineNeed, Recording, Step } from '@filtro/kernels';
import type { OpDef } from '../ops/define-op.js';
import type { Stats } from '../stats.js';
import type { HostArray, TensorSpec } from '../types.js';
import { bytesOf } from '../types.js';
import type { Backend, BackendInfo, CapturedPlan, Storage } from './backend.js';
import { fail } from '../errors.js';
import { lowerings, scratchBuffers } from './webgpu-lowering.js';
import type { LoweringContext } from './webgpu-lowering.js';

interface GpuStorage {
  buffer: GPUBuffer;
}

const bufferOf = (s: Storage) => (s as GpuStorage).buffer;

export class WebgpuBackend implements Backend {
  readonly name = 'webgpu';
  private step: Step | null = null;
  private lastSubmit: Promise<void> = Promise.resolve();
  private destroyed = false;
  /** im2col columns made in the plan being encoded (LoweringContext.columns); they live until its submit. */
  private readonly columns = new Map<TensorSpec, Map<string, GPUBuffer>>();
  /** Set while precompile() collects: plans then only note the pipelines they need. */
  private collected: PipelineNeed[] | null = null;
  /** Set while capture() records: the plan's step is kept, not submitted. */
  private recorded: Recording[] | null = null;

  constructor(readonly gpu: Gpu) {}

  info(): BackendInfo {
    const a = this.gpu.info;
    const kind = a.isSoftware ? 'software' : 'hardware';
    return {
      name: 'webgpu',
      description: `webgpu (${a.description || [a.vendor, a.architecture, a.device].filter(Boolean).join(' ') || 'unknown adapter'}, ${kind}, ${a.backend}${this.gpu.subgroups ? ', subgroups' : ''})`,
      adapter: { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description, isSoftware: a.isSoftware },
    };
  }

  isLost(): boolean {
    return this.gpu.lost !== undefined;
  }

  destroy(): void {
    this.destroyed = true;
    this.step = null;
    this.gpu.destroy();
  }

  counters(): Partial<Stats> {
    const c = this.gpu.counters;
    return { submits: c.submits, dispatches: c.dispatches, buffersCreated: c.buffersCreated, pipelinesCompiled: c.pipelinesCompiled, bindGroupsCreated: c.bindGroupsCreated };
  }

  check(op: OpDef<unknown>, inputSpecs: readonly TensorSpec[], attrs: unknown, outputSpecs: readonly TensorSpec[]): void {
    const limits = this.gpu.limits;
    const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    const buffers = [
      ...outputSpecs.map((s, i) => ({ what: `output ${i} [${s.shape}]`, bytes: bytesOf(s) })),
      ...scratchBuffers(op.name, inputSpecs, attrs),
    ];
    for (const { what, bytes } of buffers) {
      if (bytes > limit) {
        fail(op.name, `${what} needs ${mb(bytes)}, above this adapter's limit of ${mb(limit)} per buffer (min of maxStorageBufferBindingSize and maxBufferSize); use a smaller batch`);
      }
    }
  }

  upload(data: HostArray): Storage {
    return { buffer: this.gpu.upload(data) } satisfies GpuStorage;
  }

  run(
    op: OpDef<unknown>,
    inputs: Storage[],
    inputSpecs: readonly TensorSpec[],
    attrs: unknown,
    outputSpecs: readonly TensorSpec[],
    into?: readonly (Storage | undefined)[],
  ): Storage[] {
    const lower = (lowerings as Record<string, (c: LoweringContext<unknown>) => void>)[op.name];
    if (!lower) throw new Error(`webgpu: op '${op.name}' has no GPU lowering`);
    this.step ??= this.gpu.step('filtro plan', { collectOnly: this.collected !== null });
    const outputs = outputSpecs.map((s, i) => (into?.[i] ? bufferOf(into[i]!) : this.gpu.buffer(bytesOf(s))));
    lower({ gpu: this.gpu, step: this.step, columns: this.columns, inputs: inputs.map(bufferOf), outputs, inputSpecs, outputSpecs, attrs });
    return outputs.map((buffer, i): Storage => into?.[i] ?? ({ buffer } satisfies GpuStorage));
  }

  release(storage: Storage): void {
    // Tensors of a destroyed device still let go of their storage; there is nothing to return.
    if (this.destroyed) return;
    // Safe while a plan is being encoded: work encoded later runs after the readers encoded earlier.
    this.gpu.release(bufferOf(storage));
  }

  flush(): void {
    if (!this.step) return;
    const step = this.step;
    this.step = null;
    this.columns.clear();
    if (this.collected) {
      this.collected.push(...step.pipelinesNeeded());
      step.discard();
      return;
    }
    if (this.recorded) {
      this.recorded.push(step.record());
      return;
    }
    this.settleAfter(step.submit());
  }

  /** Chains a submit's verdict after the earlier ones', for the next read to report. */
  private settleAfter(submitted: Promise<void>): void {
    const previous = this.lastSubmit;
    // Keep the first failure for the next read, and never leave a rejection unhandled.
    this.lastSubmit = previous.then(() => submitted);
    this.lastSubmit.catch(() => {});
  }

  capture(plan: () => void): CapturedPlan | null {
    if (this.recorded || this.collected) throw new Error('webgpu: capture() inside capture() or precompile()');
    const recorded: Recording[] = (this.recorded = []);
    try {
      plan();
    } catch (e) {
      for (const r of recorded) r.dispose();
      throw e;
    } finally {
      this.recorded = null;
    }
    if (recorded.length > 1) {
      for (const r of recorded) r.dispose();
      throw new Error(`webgpu: capture() needs exactly one plan, got ${recorded.length}`);
    }
    const [recording] = recorded;
    if (!recording) return null;
    return {
      replay: (writes, copies, outputs) => {
        const fresh = outputs.map(({ bytes }) => this.gpu.buffer(bytes));
        try {
          this.settleAfter(
            recording.replay({
              writes: writes.map(({ into, data }) => ({ buffer: bufferOf(into), data })),
              before: copies.map(({ from, into, bytes }) => ({ src: bufferOf(from), dst: bufferOf(into), size: bytes })),
              after: outputs.map(({ from, bytes }, i) => ({ src: bufferOf(from), dst: fresh[i], size: bytes })),
            }),
          );
        } catch (e) {
          for (const b of fresh) this.gpu.release(b);
          throw e;
        }
        return fresh.map((buffer): Storage => ({ buffer }) satisfies GpuStorage);
      },
      dispose: () => {
        if (!this.destroyed) recording.dispose();
      },
    };
  }

  async precompile(plans: () => void, onProgress?: (done: number, total: number) => void): Promise<number> {
    if (this.collected) throw new Error('webgpu: precompile() is already collecting');
    const needs: PipelineNeed[] = (this.collected = []);
    try {
      plans();
    } finally {
      this.collected = null;
    }
    return this.gpu.precompile(needs, onProgress);
  }

  async read(storage: Storage, spec: TensorSpec): Promise<HostArray> {
    // The copy is submitted now, before any later plan can overwrite the storage (updates work in
    // place); an earlier plan's failure is still reported first.
    const copied = this.gpu.read(bufferOf(storage), bytesOf(spec));
    copied.catch(() => {});
    const last = this.lastSubmit;
    try {
      await last;
    } catch (e) {
      // Reported once, to this read; later plans that work read normally.
      if (this.lastSubmit === last) this.lastSubmit = Promise.resolve();
      throw e;
    }
    const bytes = await copied;
    return spec.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }
}

export async function createWebgpuBackend(): Promise<WebgpuBackend> {
  return new WebgpuBackend(await createGpu());
}
