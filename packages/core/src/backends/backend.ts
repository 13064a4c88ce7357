// The contract every backend fulfils. The scheduler hands it one op at a time in dependency order;
// the backend may execute at once (cpu) or encode for a later submit (webgpu, on flush()).
import type { AdapterInfo as KernelsAdapterInfo } from '@filtro/kernels';
import type { OpDef } from '../ops/define-op.js';
import type { Stats } from '../stats.js';
import type { HostArray, TensorSpec } from '../types.js';

export type BackendName = 'cpu' | 'webgpu';

/** Opaque to the engine: a typed array on cpu, a GPUBuffer on webgpu. */
export type Storage = object;

/** Which GPU adapter runs the webgpu backend (the kernels runtime's report, less its Node details). */
export type AdapterInfo = Pick<KernelsAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description' | 'isSoftware'>;

export interface BackendInfo {
  name: BackendName;
  /** One line for people: which backend and, for webgpu, which adapter. */
  description: string;
  adapter?: AdapterInfo;
}

export interface Backend {
  readonly name: BackendName;
  info(): BackendInfo;
  /** Copies host data into new storage. */
  upload(data: HostArray, spec: TensorSpec): Storage;
  /** Throws a FiltroError if the op cannot run here (a buffer above a device limit); called for every node before a plan runs. */
  check?(op: OpDef<unknown>, inputSpecs: readonly TensorSpec[], attrs: unknown, outputSpecs: readonly TensorSpec[]): void;
  /**
   * Runs (or encodes) one op; returns one storage per output. Inputs stay owned by the caller.
   * `into[o]`, where set, is a donated input's storage that output o may be written into (see
   * OpDef.inPlace); a backend that uses it returns it as that output.
   */
  run(
    op: OpDef<unknown>,
    inputs: Storage[],
    inputSpecs: readonly TensorSpec[],
    attrs: unknown,
    outputSpecs: readonly TensorSpec[],
    into?: readonly (Storage | undefined)[],
  ): Storage[];
  /** Gives storage back; on webgpu it may be reused by work encoded after this call. */
  release(storage: Storage): void;
  /** Ends a plan: submits what was encoded. */
  flush(): void;
  /**
   * Runs `plans` (which realize tensors) without executing anything, notes every GPU pipeline they
   * would use, and compiles those in parallel; resolves with how many. What `plans` realized holds
   * no values: dispose it.
   */
  precompile?(plans: () => void, onProgress?: (done: number, total: number) => void): Promise<number>;
  /**
   * Runs `plan` (which realizes tensors in exactly one plan) with its work recorded instead of
   * run: nothing executes until replay(). Null when the plan realized nothing.
   */
  capture?(plan: () => void): CapturedPlan | null;
  /** True once the device behind this backend is gone (a lost GPU); it refuses further work. */
  isLost?(): boolean;
  /** Frees the device and everything on it. */
  destroy?(): void;
  /** Counters the backend keeps itself (GPU submits, dispatches, buffers, pipelines). */
  counters?(): Partial<Stats>;
  /** Copies storage back to the host. */
  read(storage: Storage, spec: TensorSpec): Promise<HostArray>;
}

/**
 * A plan's work kept for replay (Backend.capture). Each replay runs exactly the recorded work on
 * the storages it recorded, so values that change between replays must be written into recorded
 * storages (`writes`, `copies`) rather than baked in.
 */
export interface CapturedPlan {
  /**
   * Runs the recorded work once: first `writes` (host data) and `copies` fill recorded storages,
   * then the work runs, then each of `outputs` (recorded storage) is copied into new storage,
   * returned in order. One submit.
   */
  replay(
    writes: readonly { into: Storage; data: HostArray }[],
    copies: readonly { from: Storage; into: Storage; bytes: number }[],
    outputs: readonly { from: Storage; bytes: number }[],
  ): Storage[];
  /** Frees what the recording holds; replay() throws afterwards. */
  dispose(): void;
}
