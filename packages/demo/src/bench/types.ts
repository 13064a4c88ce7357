// Shared types of the benchmark page: what a library adapter provides, what a measured cell holds,
// and the shape of the results published on window.__bench (read by scripts/bench.mjs and
// tests/e2e/bench.e2e.test.ts).

/** Every column of the table: filtro on both of its backends, then each peer on each backend. */
export type BackendId =
  | 'filtro-webgpu'
  | 'filtro-cpu'
  | 'tfjs-webgpu'
  | 'tfjs-webgl'
  | 'tfjs-wasm'
  | 'tfjs-cpu'
  | 'jax-webgpu'
  | 'jax-wasm'
  | 'convnetjs';

export type Unit = 'GFLOP/s' | 'ms' | 'images/s' | 's';

/** Runs `reps` iterations of one measured operation and resolves once the device finished them. */
export interface OpRunner {
  run(reps: number): Promise<void>;
  dispose(): void;
}

/** One LeNet training step at a time; resolves when the step's loss is known (read back). */
export interface TrainRunner {
  /**
   * Runs `reps` training steps, awaiting only the last loss, or with `settle` each step's loss
   * before the next one starts. Returns the main-thread time of each step's synchronous call (ms),
   * i.e. what the library spends encoding and bookkeeping, and the last loss.
   */
  steps(reps: number, settle?: boolean): Promise<{ hostMs: number[]; loss: number }>;
  /** Per-step engine counters where the library has them (filtro). */
  counters?(): Record<string, number> | undefined;
  dispose(): void;
}

export interface GemmSpec {
  m: number;
  k: number;
  n: number;
}

export interface ConvSpec {
  /** NHWC input. */
  n: number;
  h: number;
  w: number;
  cin: number;
  /** Square filters [f, f, cin, cout], stride 1, 'same' padding. */
  f: number;
  cout: number;
}

export interface PoolSpec {
  n: number;
  h: number;
  w: number;
  c: number;
  /** Max pooling, square window `size`, stride `size`. */
  size: number;
}

/** The data every library trains on: the same images and labels, NHWC [batch, 28, 28, 1]. */
export interface TrainData {
  batch: number;
  images: Float32Array;
  labels: Int32Array;
}

/** One library on one backend, behind a uniform interface. Missing methods mean "not offered". */
export interface BackendAdapter {
  id: BackendId;
  /** Selects this backend as the library's current one (libraries with a global backend switch). */
  activate(): Promise<void>;
  /** Adapter / device description for the table header. */
  describe(): string;
  gemm?(spec: GemmSpec): Promise<OpRunner>;
  conv?(spec: ConvSpec, withGrad: boolean): Promise<OpRunner>;
  pool?(spec: PoolSpec, withGrad: boolean): Promise<OpRunner>;
  train?(data: TrainData): Promise<TrainRunner>;
  /** Why `conv(…, true)` / `train` cannot run, where the library lacks something (tfjs wasm). */
  unsupported?: Partial<Record<'convGrad' | 'poolGrad' | 'train', string>>;
}

export type CellStatus = 'ok' | 'error' | 'skipped' | 'n/a' | 'pending';

/** One measured figure: a row (what) on a backend (who). Values are in the row's unit. */
export interface Cell {
  backend: BackendId;
  status: CellStatus;
  /** Median of the timed runs, in the row's unit. */
  value?: number;
  min?: number;
  max?: number;
  /** The first (cold, compiling) run in the row's unit, reported apart from the timed runs. */
  first?: number;
  /** Timed runs and iterations per run. */
  runs?: number;
  reps?: number;
  /** Per-iteration milliseconds of each timed run. */
  samplesMs?: number[];
  firstMs?: number;
  medianMs?: number;
  /** Error message (status 'error') or the reason a cell is skipped / not applicable. */
  message?: string;
  /** Extra figures (cold start breakdown, counters). */
  detail?: Record<string, number | string>;
}

export type RowGroup = 'gemm' | 'conv' | 'pool' | 'train' | 'host' | 'cold';

export interface Row {
  id: string;
  group: RowGroup;
  label: string;
  unit: Unit;
  better: 'higher' | 'lower';
  /** FLOPs of one iteration (GEMM rows), to turn ms into GFLOP/s. */
  flops?: number;
  cells: Partial<Record<BackendId, Cell>>;
}

/** filtro vs one peer on one row, from the same run; > 1 means filtro is faster. */
export interface Ratio {
  row: string;
  filtro: BackendId;
  peer: BackendId;
  /** Throughput ratio filtro / peer (for time units: peer time / filtro time). */
  ratio: number;
  /** Same class of device (GPU vs GPU, CPU vs CPU). */
  sameClass: boolean;
}

export interface TargetResult {
  id: string;
  /** The target as issue 5 states it. */
  text: string;
  row: string;
  filtro: BackendId;
  peer?: BackendId;
  filtroValue?: number;
  peerValue?: number;
  unit: Unit;
  /** filtro / peer (throughput sense); absent for absolute targets. */
  ratio?: number;
  /** The ratio (or, for absolute targets, the value) needed. */
  need: number;
  comparison: '>=' | '>' | '<=';
  status: 'met' | 'not met' | 'not measured';
  message?: string;
}

export interface BenchResults {
  done: boolean;
  quick: boolean;
  startedAt: string;
  elapsedMs: number;
  adapter: { filtro: unknown; backends: Partial<Record<BackendId, string>> } | null;
  backends: BackendId[];
  rows: Row[];
  ratios: Ratio[];
  targets: TargetResult[];
  /** Fatal error that stopped the run (never set for a failing peer: that is a cell error). */
  error?: string;
  userAgent: string;
  notes: string[];
  config: Record<string, unknown>;
}
