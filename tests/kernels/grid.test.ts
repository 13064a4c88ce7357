// Grids above maxComputeWorkgroupsPerDimension fold into 2-D/3-D. foldGrid as a function; kernels
// on a runtime whose grid limit is forced down to 3, so every multi-workgroup dispatch folds
// (including into 3-D); and one real dispatch of more than 65535 workgroups.

import { describe, expect, it } from 'vitest';
import { fill, foldGrid, gemm, im2col, softmaxCrossEntropy, sumAxis, windowDims } from '../../packages/kernels/src/index.js';
import { expectClose, random, readF32, run, useGpu } from './helpers.js';

const ctx = useGpu({ gridLimit: 3 });
const rand = random(9);

describe('foldGrid', () => {
  it('covers the count within the limit', () => {
    expect(foldGrid(0)).toEqual([0, 1, 1]);
    expect(foldGrid(65535)).toEqual([65535, 1, 1]);
    expect(foldGrid(65536)).toEqual([32768, 2, 1]);
    for (const [count, max] of [[10, 3], [26, 3], [27, 3], [1e6, 65535], [5e9, 65535], [101, 10]]) {
      const [x, y, z] = foldGrid(count, max);
      expect(Math.max(x, y, z)).toBeLessThanOrEqual(max);
      expect(x * y * z).toBeGreaterThanOrEqual(count);
      expect(x * y * z - count).toBeLessThan(x * y);   // at most one partial z-layer
    }
    expect(() => foldGrid(28, 3)).toThrow(/28 workgroups exceed a 3³ grid/);
  });
});

describe('folded dispatches (grid limit 3)', () => {
  it('elementwise, gemm, im2col, split reduction and loss give the same results', async () => {
    const { gpu } = ctx;
    expect(gpu.gridLimit).toBe(3);
    const n = 1000;                          // 16 workgroups of 64 → 3×3×2
    const y = gpu.buffer(n * 4);
    const [m, k, nn] = [70, 9, 50];          // 2×4 tiles of 64×64 → 3×3×1 (one spare)
    const a = rand(m * k);
    const b = rand(k * nn);
    const [ga, gb] = [gpu.upload(a), gpu.upload(b)];
    const gc = gpu.buffer(m * nn * 4);
    const sums = rand(20 * 31 * 5);          // [20, 31, 5]: 600 chunk sums, 10 workgroups → 3×3×2
    const gs = gpu.upload(sums);
    const gsOut = gpu.buffer(100 * 4);
    const d = windowDims({ batch: 2, inHeight: 9, inWidth: 9, channels: 2, windowHeight: 3, windowWidth: 3, strideHeight: 1, strideWidth: 1, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 });
    const x = rand(2 * 9 * 9 * 2);
    const gx = gpu.upload(x);
    const colsLen = 2 * 9 * 9 * 18;          // 2916 elements: 46 workgroups, more than 3×3×3
    const gcols = gpu.buffer(colsLen * 4);
    const logits = rand(3 * 4);
    const [gl, glab] = [gpu.upload(logits), gpu.upload(Int32Array.of(0, 1, 2))];
    const gloss = gpu.buffer(4);
    let error: Error | undefined;
    await run(gpu, (s) => {
      fill(s, { y }, n, 7);
      gemm(s, { a: ga, b: gb, c: gc }, { m, n: nn, k });
      sumAxis(s, { x: gs, out: gsOut }, { outer: 20, reduce: 31, inner: 5, variant: 'split' });
      softmaxCrossEntropy(s, { logits: gl, labels: glab, loss: gloss }, { rows: 3, cols: 4, labels: 'index' });
      try {
        im2col(s, { x: gx, cols: gcols }, d, 'element');   // a thread per element
      } catch (e) {
        error = e as Error;
      }
    });
    expect(error?.message).toMatch(/exceed a 3³ grid/);   // 46 workgroups cannot fold into 3×3×3
    expect([...(await readF32(gpu, y, n))].every((v) => v === 7)).toBe(true);
    const c = new Float64Array(m * nn);
    for (let i = 0; i < m; i++) for (let j = 0; j < nn; j++) for (let p = 0; p < k; p++) c[i * nn + j] += a[i * k + p] * b[p * nn + j];
    expectClose(await readF32(gpu, gc, m * nn), c, 'folded gemm');
    const s = new Float64Array(100);
    for (let o = 0; o < 20; o++) for (let r = 0; r < 31; r++) for (let i = 0; i < 5; i++) s[o * 5 + i] += sums[(o * 31 + r) * 5 + i];
    expectClose(await readF32(gpu, gsOut, 100), s, 'folded split sum');
    expect(Number.isFinite((await readF32(gpu, gloss, 1))[0])).toBe(true);
    for (const buf of [y, ga, gb, gc, gs, gsOut, gx, gcols, gl, glab, gloss]) gpu.release(buf);
  });
});

describe('a real grid above 65535 workgroups', () => {
  it('fill over 65536·64 + 5 elements (default limit)', async () => {
    // A second runtime with the device's own limit; this is the only large buffer in the suite (16 MiB).
    const { createGpu } = await import('../../packages/kernels/src/index.js');
    const big = await createGpu();
    try {
      const n = 65536 * 64 + 5;
      const y = big.buffer(n * 4);
      const step = big.step();
      fill(step, { y }, n, 3);
      await step.submit();
      const tail = new Float32Array(await big.read(y, 4 * 1024, (n - 1024) * 4));
      const head = new Float32Array(await big.read(y, 4 * 1024, 0));
      expect(tail.every((v) => v === 3) && head.every((v) => v === 3)).toBe(true);
    } finally {
      big.destroy();
    }
  });
});
