// filtro / peer ratios from one run, and the targets of issue 5 as met / not met lines.
import { BACKEND_LABELS, FILTRO, GPU_BACKENDS } from './config.ts';
import type { BackendId, Ratio, Row, TargetResult } from './types.ts';

const valueOf = (row: Row | undefined, b: BackendId): number | undefined => {
  const c = row?.cells[b];
  return c?.status === 'ok' && c.value !== undefined && c.value > 0 ? c.value : undefined;
};

/** Throughput ratio filtro / peer: > 1 means filtro is faster (for times: peer / filtro). */
export function speedup(row: Row, filtroValue: number, peerValue: number): number {
  return row.better === 'higher' ? filtroValue / peerValue : peerValue / filtroValue;
}

export function computeRatios(rows: Row[], backends: BackendId[]): Ratio[] {
  const out: Ratio[] = [];
  for (const row of rows) {
    for (const filtro of FILTRO) {
      const fv = valueOf(row, filtro);
      if (fv === undefined) continue;
      for (const peer of backends) {
        if (FILTRO.includes(peer)) continue;
        const pv = valueOf(row, peer);
        if (pv === undefined) continue;
        out.push({ row: row.id, filtro, peer, ratio: speedup(row, fv, pv), sameClass: GPU_BACKENDS.has(filtro) === GPU_BACKENDS.has(peer) });
      }
    }
  }
  return out;
}

interface TargetDef {
  id: string;
  text: string;
  row: string;
  filtro: BackendId;
  peer?: BackendId;
  need: number;
  comparison: '>=' | '>' | '<=';
}

const LENET_GEMMS: [string, string][] = [
  ['gemm-lenet-conv1', 'LeNet conv1 GEMM 50176×25×8'],
  ['gemm-lenet-conv2', 'LeNet conv2 GEMM 12544×200×16'],
  ['gemm-lenet-dense1', 'LeNet dense1 GEMM 64×784×128'],
  ['gemm-lenet-dense2', 'LeNet dense2 GEMM 64×128×10'],
];

/** Issue 5's targets, one line each. Ratios are throughput ratios (cold start: peer time / filtro time). */
export const TARGETS: TargetDef[] = [
  { id: 'train-vs-jax-webgpu', text: 'WebGPU training ≥ 2× jax-js webgpu', row: 'train-lenet', filtro: 'filtro-webgpu', peer: 'jax-webgpu', need: 2, comparison: '>=' },
  { id: 'train-vs-tfjs-webgpu', text: 'WebGPU training ≥ 10× TensorFlow.js webgpu', row: 'train-lenet', filtro: 'filtro-webgpu', peer: 'tfjs-webgpu', need: 10, comparison: '>=' },
  { id: 'train-vs-tfjs-webgl', text: 'WebGPU training above TensorFlow.js webgl', row: 'train-lenet', filtro: 'filtro-webgpu', peer: 'tfjs-webgl', need: 1, comparison: '>' },
  { id: 'gemm1024-vs-jax-webgpu', text: 'GEMM 1024 ≥ 1.5× jax-js webgpu', row: 'gemm-1024', filtro: 'filtro-webgpu', peer: 'jax-webgpu', need: 1.5, comparison: '>=' },
  { id: 'gemm1024-vs-tfjs-webgpu', text: 'GEMM 1024 ≥ 4× TensorFlow.js webgpu', row: 'gemm-1024', filtro: 'filtro-webgpu', peer: 'tfjs-webgpu', need: 4, comparison: '>=' },
  ...LENET_GEMMS.flatMap(([row, name]): TargetDef[] => [
    { id: `${row}-vs-jax-webgpu`, text: `${name} ≥ 1.5× jax-js webgpu`, row, filtro: 'filtro-webgpu', peer: 'jax-webgpu', need: 1.5, comparison: '>=' },
    { id: `${row}-vs-tfjs-webgpu`, text: `${name} ≥ 4× TensorFlow.js webgpu`, row, filtro: 'filtro-webgpu', peer: 'tfjs-webgpu', need: 4, comparison: '>=' },
  ]),
  { id: 'conv-fwd-vs-jax-webgpu', text: 'conv2d forward [64,14,14,32]·5×5×32×64 ≥ 2× jax-js webgpu', row: 'conv-fwd-14x14x32', filtro: 'filtro-webgpu', peer: 'jax-webgpu', need: 2, comparison: '>=' },
  { id: 'conv-fwdbwd-vs-tfjs-webgpu', text: 'conv2d forward+backward [64,14,14,32]·5×5×32×64 ≥ 5× TensorFlow.js webgpu', row: 'conv-fwdbwd-14x14x32', filtro: 'filtro-webgpu', peer: 'tfjs-webgpu', need: 5, comparison: '>=' },
  { id: 'cold-vs-jax-webgpu', text: 'cold start ≤ half of jax-js webgpu’s', row: 'cold-lenet', filtro: 'filtro-webgpu', peer: 'jax-webgpu', need: 2, comparison: '>=' },
  { id: 'cpu-train-vs-convnetjs', text: 'CPU backend training ≥ 2× ConvNetJS', row: 'train-lenet', filtro: 'filtro-cpu', peer: 'convnetjs', need: 2, comparison: '>=' },
  { id: 'cpu-train-vs-tfjs-cpu', text: 'CPU backend training ≥ 5× TensorFlow.js cpu', row: 'train-lenet', filtro: 'filtro-cpu', peer: 'tfjs-cpu', need: 5, comparison: '>=' },
  { id: 'host-overhead', text: 'host overhead per LeNet step ≤ 1 ms (main thread, webgpu)', row: 'host-lenet', filtro: 'filtro-webgpu', need: 1, comparison: '<=' },
];

const meets = (x: number, need: number, cmp: TargetDef['comparison']) => (cmp === '>=' ? x >= need : cmp === '>' ? x > need : x <= need);

export function evaluateTargets(rows: Row[]): TargetResult[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return TARGETS.map((t): TargetResult => {
    const row = byId.get(t.row);
    const base = { id: t.id, text: t.text, row: t.row, filtro: t.filtro, peer: t.peer, unit: row?.unit ?? 'ms', need: t.need, comparison: t.comparison } as const;
    if (!row) return { ...base, status: 'not measured', message: `row ${t.row} not in this run` };
    const why = (b: BackendId) => {
      const c = row.cells[b];
      return `${BACKEND_LABELS[b]}: ${c ? `${c.status}${c.message ? `: ${c.message}` : ''}` : 'not run'}`;
    };
    const fv = valueOf(row, t.filtro);
    if (fv === undefined) return { ...base, status: 'not measured', message: why(t.filtro) };
    if (!t.peer) return { ...base, filtroValue: fv, status: meets(fv, t.need, t.comparison) ? 'met' : 'not met' };
    const pv = valueOf(row, t.peer);
    if (pv === undefined) return { ...base, filtroValue: fv, status: 'not measured', message: why(t.peer) };
    const ratio = speedup(row, fv, pv);
    return { ...base, filtroValue: fv, peerValue: pv, ratio, status: meets(ratio, t.need, t.comparison) ? 'met' : 'not met' };
  });
}
