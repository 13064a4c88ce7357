// Compiled pipelines keyed by (family, entry, override constants). Each family compiles once into
// a shader module: a prelude (subgroups.wgsl on a device with the 'subgroups' feature, else
// no_subgroups.wgsl), common.wgsl, then <family>.wgsl. WGSL errors surface as an Error that names
// the family and carries the compile log, with line numbers of the file each line came from.

import type { Counters } from './counters.js';
import type { BindingKind, Constants, KernelDef } from './kernel.js';

export interface CachedPipeline {
  readonly key: string;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /** Settles when compilation has been checked; rejects with the compile error. */
  readonly ready: Promise<void>;
  /** Set once `ready` has rejected. */
  error?: Error;
}

/** Files prepended to the families, not families themselves. */
const PRELUDES = new Set(['subgroups', 'no_subgroups', 'common']);

interface FamilyModule {
  module: GPUShaderModule;
  /** Rejects with the formatted compile log when the module has errors. */
  checked: Promise<void>;
}

export class PipelineCache {
  private readonly sources: Record<string, string>;
  private readonly modules = new Map<string, FamilyModule>();
  private readonly pipelines = new Map<string, CachedPipeline>();
  private readonly pending = new Map<string, Promise<CachedPipeline>>();
  private readonly layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();

  constructor(
    private readonly device: GPUDevice,
    private readonly counters: Counters,
    sources: Readonly<Record<string, string>>,
    /** Whether the device has the 'subgroups' feature and kernels may use it (see subgroups.wgsl). */
    readonly subgroups = false,
  ) {
    this.sources = { ...sources };
  }

  /** Families with WGSL source available (excluding the preludes). */
  families(): string[] {
    return Object.keys(this.sources).filter((f) => !PRELUDES.has(f)).sort();
  }

  /** Adds or replaces a family's source (a demo-only shader, or a broken one in a test). */
  setFamilySource(family: string, source: string): void {
    this.sources[family] = source;
    this.modules.delete(family);
    for (const k of [...this.pipelines.keys()]) if (k.startsWith(`${family}/`)) this.pipelines.delete(k);
  }

  static key(kernel: KernelDef, constants: Constants = {}): string {
    const c = Object.keys(constants)
      .sort()
      .map((k) => `${k}=${Number(constants[k])}`)
      .join(',');
    return `${kernel.family}/${kernel.entry}/${kernel.bindings.join('.')}{${c}}`;
  }

  /** The pipeline for a kernel, created synchronously on a miss (errors arrive via `ready`). */
  get(kernel: KernelDef, constants: Constants = {}): CachedPipeline {
    const key = PipelineCache.key(kernel, constants);
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const fam = this.module(kernel.family);
    const { group, pipeline: layout } = this.layout(kernel.bindings);
    this.device.pushErrorScope('validation');
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout,
      compute: { module: fam.module, entryPoint: kernel.entry, constants: numeric(constants) },
    });
    const scope = this.device.popErrorScope();
    this.counters.pipelinesCompiled++;
    const entry: CachedPipeline = {
      key,
      pipeline,
      layout: group,
      ready: fam.checked.then(async () => {
        const err = await scope;
        if (err) throw new Error(`filtro: pipeline ${key} failed: ${err.message}`);
      }),
    };
    entry.ready.catch((e: Error) => (entry.error = e));
    this.pipelines.set(key, entry);
    return entry;
  }

  /** Compiles a pipeline in the background (createComputePipelineAsync), e.g. to warm up. */
  warm(kernel: KernelDef, constants: Constants = {}): Promise<CachedPipeline> {
    const key = PipelineCache.key(kernel, constants);
    const hit = this.pipelines.get(key);
    if (hit) return hit.ready.then(() => hit);
    const inflight = this.pending.get(key);
    if (inflight) return inflight;
    const fam = this.module(kernel.family);
    const { group, pipeline: layout } = this.layout(kernel.bindings);
    const created = this.device
      .createComputePipelineAsync({
        label: key,
        layout,
        compute: { module: fam.module, entryPoint: kernel.entry, constants: numeric(constants) },
      })
      .catch(async (e: Error) => {
        await fam.checked;  // a compile error explains more than the pipeline error
        throw new Error(`filtro: pipeline ${key} failed: ${e.message}`);
      });
    const done = created.then((pipeline) => {
      this.pending.delete(key);
      this.counters.pipelinesCompiled++;
      const entry: CachedPipeline = { key, pipeline, layout: group, ready: Promise.resolve() };
      if (!this.pipelines.has(key)) this.pipelines.set(key, entry);
      return this.pipelines.get(key)!;
    }, (e: Error) => {
      this.pending.delete(key);
      throw e;
    });
    this.pending.set(key, done);
    return done;
  }

  private module(family: string): FamilyModule {
    const cached = this.modules.get(family);
    if (cached) return cached;
    const source = this.sources[family];
    if (source === undefined) {
      throw new Error(`filtro: no WGSL family "${family}" (known: ${this.families().join(', ')})`);
    }
    const files = PRELUDES.has(family) ? [family] : [this.subgroups ? 'subgroups' : 'no_subgroups', 'common', family];
    const parts = files.filter((f) => this.sources[f] !== undefined).map((f) => ({ file: f, lines: this.sources[f].split('\n') }));
    const code = parts.map((part) => part.lines.join('\n')).join('\n');
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ label: `${family}.wgsl`, code });
    const scope = this.device.popErrorScope();
    const checked = Promise.all([module.getCompilationInfo(), scope]).then(([info, err]) => {
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length === 0 && !err) return;
      const log = errors.map((m) => {
        const at = locate(parts, m.lineNum);
        return `  ${at.file}.wgsl:${at.line}:${m.linePos}: ${m.message}\n    ${at.text.trim()}`;
      });
      if (log.length === 0 && err) log.push(`  ${err.message}`);
      throw new Error(`filtro: WGSL compile error in shader family "${family}" (shaders/${family}.wgsl):\n${log.join('\n')}`);
    });
    checked.catch(() => {});  // reported through each pipeline's `ready`
    const fam = { module, checked };
    this.modules.set(family, fam);
    return fam;
  }

  private layout(bindings: readonly BindingKind[]) {
    const key = bindings.join('.');
    let l = this.layouts.get(key);
    if (!l) {
      const group = this.device.createBindGroupLayout({
        label: `filtro ${key}`,
        entries: bindings.map((kind, binding): GPUBindGroupLayoutEntry => {
          const visibility = 0x4; // GPUShaderStage.COMPUTE
          if (kind === 'texture') return { binding, visibility, texture: { sampleType: 'unfilterable-float' } };
          if (kind === 'storage-texture') return { binding, visibility, storageTexture: { access: 'write-only', format: 'rgba32float' } };
          return { binding, visibility, buffer: { type: kind === 'uniform' ? 'uniform' : kind === 'read' ? 'read-only-storage' : 'storage' } };
        }),
      });
      const pipeline = this.device.createPipelineLayout({ label: `filtro ${key}`, bindGroupLayouts: [group] });
      l = { group, pipeline };
      this.layouts.set(key, l);
    }
    return l;
  }
}

/** Which file, and which line of it, line `lineNum` (from 1) of the concatenated `parts` came from. */
function locate(parts: ReadonlyArray<{ file: string; lines: string[] }>, lineNum: number): { file: string; line: number; text: string } {
  let line = lineNum;
  for (const part of parts) {
    if (line <= part.lines.length) return { file: part.file, line, text: part.lines[line - 1] };
    line -= part.lines.length;
  }
  return { file: parts[parts.length - 1].file, line, text: '' };
}

function numeric(constants: Constants): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(constants)) out[k] = Number(v);
  return out;
}
