// Benchmark of the fast CPU GEMM and convolutions at the shapes of a LeNet training step
// (batch 64, 28×28×1 → conv 5×5×8 → pool 2 → conv 5×5×16 → pool 2 → dense 128 → dense 10).
//
//   npx tsc -b packages/core && node packages/core/dist/backends/cpu-fast/gemm-bench.js [--quick]
//
// Prints GFLOP/s (the median of several timed runs) of gemm with the default blocking and with
// alternatives, then the time of each conv call of the step. Only this file's own main runs it;
// importing it does nothing.

import { pathToFileURL } from 'node:url';
import type { ConvGeometry } from '../../ops/conv-geometry.js';
import { conv2dBackpropFilter, conv2dBackpropInput, conv2dForward } from './conv.js';
import { DEFAULT_BLOCKING, gemmBlocked, type GemmBlocking } from './gemm.js';

export interface GemmCase {
  name: string;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
}

/** The products of a LeNet step (forward, and the transposed products of backward), and 1024³. */
export const GEMM_CASES: GemmCase[] = [
  { name: '1024³', M: 1024, N: 1024, K: 1024, transA: false, transB: false },
  { name: 'conv1 fwd', M: 64 * 24 * 24, N: 8, K: 25, transA: false, transB: false },
  { name: 'conv2 fwd', M: 64 * 8 * 8, N: 16, K: 200, transA: false, transB: false },
  { name: 'dense1 fwd', M: 64, N: 128, K: 256, transA: false, transB: false },
  { name: 'conv1 dW = colsᵀ·dy', M: 25, N: 8, K: 64 * 24 * 24, transA: true, transB: false },
  { name: 'conv2 dW = colsᵀ·dy', M: 200, N: 16, K: 64 * 8 * 8, transA: true, transB: false },
  { name: 'conv2 dcols = dy·wᵀ', M: 64 * 8 * 8, N: 200, K: 16, transA: false, transB: true },
  { name: 'conv1 dcols = dy·wᵀ', M: 64 * 24 * 24, N: 25, K: 8, transA: false, transB: true },
  { name: 'dense1 dX = dy·wᵀ', M: 64, N: 256, K: 128, transA: false, transB: true },
  { name: 'dense1 dW = xᵀ·dy', M: 256, N: 128, K: 64, transA: true, transB: false },
  { name: '1024³ tA tB', M: 1024, N: 1024, K: 1024, transA: true, transB: true },
];

/** The blockings compared; the first is the default. */
export const BLOCKINGS: Array<{ name: string; blocking: GemmBlocking }> = [
  { name: 'default', blocking: { ...DEFAULT_BLOCKING } },
  { name: 'small (64,128,512)', blocking: { ...DEFAULT_BLOCKING, mc: 64, kc: 128, nc: 512 } },
  { name: 'large (256,512,2048)', blocking: { ...DEFAULT_BLOCKING, mc: 256, kc: 512, nc: 2048 } },
  { name: 'always pack', blocking: { ...DEFAULT_BLOCKING, packANAbove: 0, packBNAbove: 0 } },
];

function randomArray(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median milliseconds per call of f over `samples` timed batches of calls lasting about minMs. */
export function timeMs(f: () => void, samples = 7, minMs = 40): number {
  f(); // warm up (and compile)
  let reps = 1;
  let elapsed = 0;
  for (;;) {
    const t = performance.now();
    for (let r = 0; r < reps; r++) f();
    elapsed = performance.now() - t;
    if (elapsed >= minMs / 8 || reps >= 1 << 20) break;
    reps *= 2;
  }
  reps = Math.max(1, Math.round((reps * minMs) / Math.max(elapsed, 1e-3)));
  const ms: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t = performance.now();
    for (let r = 0; r < reps; r++) f();
    ms.push((performance.now() - t) / reps);
  }
  return median(ms);
}

/** GFLOP/s of each case under each blocking: result[case][blocking]. */
export function benchGemm(
  cases: GemmCase[] = GEMM_CASES,
  blockings = BLOCKINGS,
  samples = 7,
): number[][] {
  return cases.map((cs, ci) => {
    const a = randomArray(cs.M * cs.K, 1 + ci);
    const b = randomArray(cs.K * cs.N, 100 + ci);
    const c = new Float32Array(cs.M * cs.N);
    const flops = 2 * cs.M * cs.N * cs.K;
    return blockings.map(({ blocking }) => {
      const f = (): void => gemmBlocked(a, b, c, cs.M, cs.N, cs.K, cs.transA, cs.transB, false, blocking);
      return flops / (timeMs(f, samples) * 1e6);
    });
  });
}

function convGeometry(batch: number, size: number, cin: number, f: number, k: number): ConvGeometry {
  return {
    batch,
    inHeight: size,
    inWidth: size,
    channels: cin,
    windowHeight: f,
    windowWidth: f,
    strideHeight: 1,
    strideWidth: 1,
    padTop: 0,
    padLeft: 0,
    padBottom: 0,
    padRight: 0,
    outHeight: size - f + 1,
    outWidth: size - f + 1,
    outChannels: k,
  };
}

/** Milliseconds of each conv call of a LeNet step at batch 64 (median of runs). */
export function benchConv(samples = 7): Array<{ name: string; ms: number; gflops: number }> {
  const out: Array<{ name: string; ms: number; gflops: number }> = [];
  for (const [layer, g] of [
    ['conv1', convGeometry(64, 28, 1, 5, 8)],
    ['conv2', convGeometry(64, 12, 8, 5, 16)],
  ] as const) {
    const xLen = g.batch * g.inHeight * g.inWidth * g.channels;
    const wLen = g.windowHeight * g.windowWidth * g.channels * g.outChannels;
    const yLen = g.batch * g.outHeight * g.outWidth * g.outChannels;
    const x = randomArray(xLen, 1);
    const w = randomArray(wLen, 2);
    const bias = randomArray(g.outChannels, 3);
    const dy = randomArray(yLen, 4);
    const y = new Float32Array(yLen);
    const dx = new Float32Array(xLen);
    const dw = new Float32Array(wLen);
    const flops = 2 * yLen * g.windowHeight * g.windowWidth * g.channels;
    const calls: Array<[string, () => void]> = [
      ['forward (relu, bias)', () => conv2dForward(x, w, bias, g, 'relu', y)],
      ['backprop input', () => conv2dBackpropInput(dy, w, g, dx)],
      ['backprop filter', () => conv2dBackpropFilter(x, dy, g, dw)],
    ];
    for (const [name, f] of calls) {
      const ms = timeMs(f, samples);
      out.push({ name: `${layer} ${name}`, ms, gflops: flops / (ms * 1e6) });
    }
  }
  return out;
}

function main(): void {
  const quick = process.argv.includes('--quick');
  const samples = quick ? 3 : 7;
  const cases = quick ? GEMM_CASES.filter((c) => c.M * c.N * c.K < 1e8) : GEMM_CASES;
  console.log(`gemm GFLOP/s (median of ${samples}), by blocking:`);
  const names = BLOCKINGS.map((b) => b.name);
  console.log(['case (M×N×K)'.padEnd(40), ...names.map((n) => n.padStart(22))].join(''));
  const res = benchGemm(cases, BLOCKINGS, samples);
  cases.forEach((c, i) => {
    const label = `${c.name} (${c.M}×${c.N}×${c.K}${c.transA ? ' tA' : ''}${c.transB ? ' tB' : ''})`;
    console.log([label.padEnd(40), ...res[i].map((g) => g.toFixed(2).padStart(22))].join(''));
  });
  console.log('\nconv calls of a LeNet step (batch 64):');
  for (const r of benchConv(samples)) {
    console.log(`${r.name.padEnd(30)} ${r.ms.toFixed(2).padStart(8)} ms ${r.gflops.toFixed(2).padStart(6)} GFLOP/s`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
