// What the page measures: the rows (GEMM, conv2d, pooling, LeNet training, host overhead, cold
// start), the backends, how many runs, and what `?quick=1` leaves out.
import type { BackendId, ConvSpec, GemmSpec, PoolSpec, Row, RowGroup, Unit } from './types.ts';

export const BACKENDS: BackendId[] = [
  'filtro-webgpu',
  'filtro-cpu',
  'tfjs-webgpu',
  'tfjs-webgl',
  'tfjs-wasm',
  'tfjs-cpu',
  'jax-webgpu',
  'jax-wasm',
  'convnetjs',
];

export const FILTRO: BackendId[] = ['filtro-webgpu', 'filtro-cpu'];
export const GPU_BACKENDS = new Set<BackendId>(['filtro-webgpu', 'tfjs-webgpu', 'tfjs-webgl', 'jax-webgpu']);

export const BACKEND_LABELS: Record<BackendId, string> = {
  'filtro-webgpu': 'filtro webgpu',
  'filtro-cpu': 'filtro cpu',
  'tfjs-webgpu': 'tfjs webgpu',
  'tfjs-webgl': 'tfjs webgl',
  'tfjs-wasm': 'tfjs wasm',
  'tfjs-cpu': 'tfjs cpu',
  'jax-webgpu': 'jax-js webgpu',
  'jax-wasm': 'jax-js wasm',
  convnetjs: 'ConvNetJS',
};

export type RowSpec =
  | { kind: 'gemm'; spec: GemmSpec }
  | { kind: 'conv'; spec: ConvSpec; withGrad: boolean }
  | { kind: 'pool'; spec: PoolSpec; withGrad: boolean }
  | { kind: 'train' }
  | { kind: 'host' }
  | { kind: 'cold' };

export interface RowDef {
  id: string;
  group: RowGroup;
  label: string;
  unit: Unit;
  better: 'higher' | 'lower';
  what: RowSpec;
  flops?: number;
  /** Part of ?quick=1. */
  quick: boolean;
  /** In quick mode, only these backends (the rest are too slow to fit two minutes on SwiftShader and 2 cores). */
  quickOnly?: BackendId[];
}

export const BATCH = 64;

const gemmRow = (id: string, label: string, spec: GemmSpec, quick: boolean, quickOnly?: BackendId[]): RowDef => ({
  id,
  group: 'gemm',
  label: `GEMM ${label}`,
  unit: 'GFLOP/s',
  better: 'higher',
  what: { kind: 'gemm', spec },
  flops: 2 * spec.m * spec.k * spec.n,
  quick,
  quickOnly,
});

const convLabel = (s: ConvSpec) => `[${s.n},${s.h},${s.w},${s.cin}]·${s.f}×${s.f}×${s.cin}×${s.cout}`;
/** `quickOnly.bwd === null`: the forward+backward row is not part of quick mode. */
const convRows = (name: string, spec: ConvSpec, quick: boolean, quickOnly: { fwd?: BackendId[]; bwd?: BackendId[] | null } = {}): RowDef[] => [
  {
    id: `conv-fwd-${name}`,
    group: 'conv',
    label: `conv2d forward ${convLabel(spec)} 'same'`,
    unit: 'ms',
    better: 'lower',
    what: { kind: 'conv', spec, withGrad: false },
    flops: 2 * spec.n * spec.h * spec.w * spec.f * spec.f * spec.cin * spec.cout,
    quick,
    quickOnly: quickOnly.fwd,
  },
  {
    id: `conv-fwdbwd-${name}`,
    group: 'conv',
    label: `conv2d forward+backward (dX, dW) ${convLabel(spec)} 'same'`,
    unit: 'ms',
    better: 'lower',
    what: { kind: 'conv', spec, withGrad: true },
    flops: 3 * 2 * spec.n * spec.h * spec.w * spec.f * spec.f * spec.cin * spec.cout,
    quick: quick && quickOnly.bwd !== null,
    quickOnly: quickOnly.bwd ?? undefined,
  },
];

const poolLabel = (s: PoolSpec) => `[${s.n},${s.h},${s.w},${s.c}] ${s.size}×${s.size}/${s.size}`;
const poolRows = (name: string, spec: PoolSpec, quick: boolean, quickOnly?: BackendId[]): RowDef[] => [
  { id: `pool-fwd-${name}`, group: 'pool', label: `max pool forward ${poolLabel(spec)}`, unit: 'ms', better: 'lower', what: { kind: 'pool', spec, withGrad: false }, quick, quickOnly },
  { id: `pool-fwdbwd-${name}`, group: 'pool', label: `max pool forward+backward ${poolLabel(spec)}`, unit: 'ms', better: 'lower', what: { kind: 'pool', spec, withGrad: true }, quick, quickOnly },
];

// Quick mode keeps, for the expensive rows, filtro and the peers its targets name, plus the fast wasm
// ones. tfjs webgpu compiles a shader per op and shape (seconds each on SwiftShader): in quick mode it
// runs the training row only.
const ALL_BUT_TFJS_WEBGPU: BackendId[] = ['filtro-webgpu', 'filtro-cpu', 'tfjs-webgl', 'tfjs-wasm', 'tfjs-cpu', 'jax-webgpu', 'jax-wasm', 'convnetjs'];
// (ConvNetJS stays in the lists: it has no such op, and says so at once.)
const QUICK_GEMM_1024: BackendId[] = ['filtro-webgpu', 'filtro-cpu', 'tfjs-wasm', 'jax-webgpu', 'jax-wasm', 'convnetjs'];
const QUICK_CONV_BIG: BackendId[] = ['filtro-webgpu', 'filtro-cpu', 'jax-webgpu', 'tfjs-wasm', 'convnetjs'];
const QUICK_CONV_FWD: BackendId[] = ['filtro-webgpu', 'filtro-cpu', 'tfjs-webgl', 'tfjs-wasm', 'tfjs-cpu', 'jax-webgpu', 'convnetjs'];
const QUICK_CONV_BWD: BackendId[] = ['filtro-webgpu', 'filtro-cpu', 'jax-webgpu', 'convnetjs'];

export const ROWS: RowDef[] = [
  {
    id: 'train-lenet',
    group: 'train',
    label: `LeNet training step, batch ${BATCH} (Adam; ConvNetJS: SGD momentum)`,
    unit: 'images/s',
    better: 'higher',
    what: { kind: 'train' },
    quick: true,
  },
  {
    id: 'host-lenet',
    group: 'host',
    label: 'host overhead per LeNet step: main-thread ms of the synchronous step call',
    unit: 'ms',
    better: 'lower',
    what: { kind: 'host' },
    quick: true,
  },
  {
    id: 'cold-lenet',
    group: 'cold',
    label: 'cold start: page load → first finished training step (fresh iframes, median, data excluded)',
    unit: 's',
    better: 'lower',
    what: { kind: 'cold' },
    quick: true,
  },
  gemmRow('gemm-256', '256×256×256', { m: 256, k: 256, n: 256 }, false),
  gemmRow('gemm-512', '512×512×512', { m: 512, k: 512, n: 512 }, false),
  gemmRow('gemm-1024', '1024×1024×1024', { m: 1024, k: 1024, n: 1024 }, true, QUICK_GEMM_1024),
  gemmRow('gemm-2048', '2048×2048×2048', { m: 2048, k: 2048, n: 2048 }, false),
  gemmRow('gemm-lenet-conv1', '50176×25×8 (LeNet conv1 im2col)', { m: BATCH * 28 * 28, k: 25, n: 8 }, true, ALL_BUT_TFJS_WEBGPU),
  gemmRow('gemm-lenet-conv2', '12544×200×16 (LeNet conv2 im2col)', { m: BATCH * 14 * 14, k: 200, n: 16 }, true, ALL_BUT_TFJS_WEBGPU),
  gemmRow('gemm-lenet-dense1', '64×784×128 (LeNet dense 1)', { m: BATCH, k: 784, n: 128 }, true, ALL_BUT_TFJS_WEBGPU),
  gemmRow('gemm-lenet-dense2', '64×128×10 (LeNet dense 2)', { m: BATCH, k: 128, n: 10 }, true, ALL_BUT_TFJS_WEBGPU),
  ...convRows('lenet1', { n: BATCH, h: 28, w: 28, cin: 1, f: 5, cout: 8 }, false),
  ...convRows('lenet2', { n: BATCH, h: 14, w: 14, cin: 8, f: 5, cout: 16 }, true, { fwd: QUICK_CONV_FWD, bwd: QUICK_CONV_BWD }),
  ...convRows('32x32x64', { n: 32, h: 32, w: 32, cin: 64, f: 3, cout: 64 }, false),
  ...convRows('14x14x32', { n: 64, h: 14, w: 14, cin: 32, f: 5, cout: 64 }, true, { fwd: QUICK_CONV_BIG, bwd: null }),
  ...poolRows('lenet1', { n: BATCH, h: 28, w: 28, c: 8, size: 2 }, true, ALL_BUT_TFJS_WEBGPU),
  ...poolRows('lenet2', { n: BATCH, h: 14, w: 14, c: 16, size: 2 }, false),
  ...poolRows('32x32x64', { n: 32, h: 32, w: 32, c: 64, size: 2 }, false),
];

export interface RunConfig {
  quick: boolean;
  /** Extra warm-up runs after the first (reported) run, before the timed runs. */
  warmups: number;
  minRuns: number;
  maxRuns: number;
  /** Time a cell may take for its timed runs; fewer runs (not below minRuns) when they are slow. */
  budgetMs: number;
  /** A first run slower than this gets no extra warm-up and may be followed by a single timed run. */
  slowRunMs: number;
  /** Short operations repeat inside one timed run until it lasts about this long. */
  targetSampleMs: number;
  maxReps: number;
  /** A cell that takes longer than this is abandoned (its backend then skips the rest). */
  cellTimeoutMs: number;
  coldTimeoutMs: number;
  /** Fresh frames per library for the cold start, in interleaved rounds; the row shows their median. */
  coldRuns: number;
  /** Host-overhead samples wanted per GPU backend, and the time extra steps for them may take. */
  hostSamples: number;
  hostBudgetMs: number;
  backends: BackendId[];
  coldBackends: BackendId[];
  rows: RowDef[];
}

export function runConfig(params: URLSearchParams): RunConfig {
  const quick = params.get('quick') === '1';
  const only = params.get('only')?.split(',').filter(Boolean) as BackendId[] | undefined;
  const backends = only?.length ? BACKENDS.filter((b) => only.includes(b)) : BACKENDS;
  const grep = params.get('rows');
  let rows = ROWS.filter((r) => !quick || r.quick);
  if (grep) rows = rows.filter((r) => grep.split(',').some((g) => r.id.includes(g)));
  const coldAll: BackendId[] = backends.filter((b) => b !== 'tfjs-wasm');
  // Quick: the cold starts the targets need (filtro webgpu vs jax-js webgpu) and the cheap ones.
  const coldQuick: BackendId[] = coldAll.filter((b) => ['filtro-webgpu', 'filtro-cpu', 'jax-webgpu', 'convnetjs'].includes(b));
  const base = quick
    ? { quick, warmups: 1, minRuns: 1, maxRuns: 5, budgetMs: 2000, slowRunMs: 1000, targetSampleMs: 25, maxReps: 64, cellTimeoutMs: 120_000, coldTimeoutMs: 90_000, coldRuns: 3, hostSamples: 8, hostBudgetMs: 6000, backends, coldBackends: coldQuick, rows }
    : { quick, warmups: 1, minRuns: 3, maxRuns: 9, budgetMs: 20_000, slowRunMs: 30_000, targetSampleMs: 100, maxReps: 256, cellTimeoutMs: 300_000, coldTimeoutMs: 120_000, coldRuns: 3, hostSamples: 20, hostBudgetMs: 15_000, backends, coldBackends: coldAll, rows };
  // ?timeout=SECONDS: a shorter (or longer) limit per cell, e.g. to try the timeout path.
  const timeout = Number(params.get('timeout'));
  return timeout > 0 ? { ...base, cellTimeoutMs: timeout * 1000 } : base;
}

export function emptyRow(def: RowDef): Row {
  return { id: def.id, group: def.group, label: def.label, unit: def.unit, better: def.better, flops: def.flops, cells: {} };
}
