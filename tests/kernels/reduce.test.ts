// reduce.wgsl against float64 loops: sums over the middle axis (both variants), column sums,
// argmax (first index wins ties) and max along the last axis.

import { describe, expect, it } from 'vitest';
import { argmaxLast, columnSums, maxLast, sumAxis } from '../../packages/kernels/src/index.js';
import { expectClose, random, readF32, readI32, run, useGpu } from './helpers.js';

const ctx = useGpu();
const rand = random(4);

describe('reduce', () => {
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1], [1, 1000, 1], [1, 37, 13], [3, 5, 7], [5, 300, 2], [2, 1, 9], [1, 4099, 3], [64, 65, 1], [7, 0, 3],
  ];
  for (const variant of ['serial', 'split', undefined] as const) {
    it(`sumAxis over [outer, reduce, inner], ${variant ?? 'default'} variant`, async () => {
      const { gpu } = ctx;
      for (const [outer, reduce, inner] of shapes) {
        const x = rand(outer * reduce * inner);
        const expected = new Float64Array(outer * inner);
        for (let o = 0; o < outer; o++)
          for (let r = 0; r < reduce; r++)
            for (let i = 0; i < inner; i++) expected[o * inner + i] += x[(o * reduce + r) * inner + i];
        const gx = gpu.upload(x.length ? x : new Float32Array(1));
        const gout = gpu.buffer(outer * inner * 4);
        await run(gpu, (s) => sumAxis(s, { x: gx, out: gout }, { outer, reduce, inner, variant }));
        // Sums of up to 4099 terms of ±1 cancel: the tolerance is against the inputs' scale
        // (Σ|x| ≈ reduce/2), since float32 cannot do better than that for a cancelled sum.
        expectClose(await readF32(gpu, gout, outer * inner), expected, `sum ${outer}×${reduce}×${inner}`, { atol: 1e-6 * reduce });
        gpu.release(gx);
        gpu.release(gout);
      }
    });
  }

  it('columnSums of [rows, cols]', async () => {
    const { gpu } = ctx;
    for (const [rows, cols] of [[1, 1], [33, 17], [500, 5], [3, 200]]) {
      const x = rand(rows * cols);
      const expected = new Float64Array(cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expected[c] += x[r * cols + c];
      const gx = gpu.upload(x);
      const gout = gpu.buffer(cols * 4);
      await run(gpu, (s) => columnSums(s, { x: gx, out: gout }, { rows, cols }));
      expectClose(await readF32(gpu, gout, cols), expected, `columnSums ${rows}×${cols}`, { atol: 1e-6 * rows });
      gpu.release(gx);
      gpu.release(gout);
    }
  });

  it('argmax and max along the last axis; ties go to the first index', async () => {
    const { gpu } = ctx;
    for (const [rows, cols] of [[1, 1], [7, 10], [65, 3], [3, 129]]) {
      const x = rand(rows * cols, -3, 3).map((v) => Math.round(v) || 0);   // plenty of ties (no −0)
      const arg: number[] = [];
      const max: number[] = [];
      for (let r = 0; r < rows; r++) {
        let best = 0;
        for (let c = 1; c < cols; c++) if (x[r * cols + c] > x[r * cols + best]) best = c;
        arg.push(best);
        max.push(x[r * cols + best]);
      }
      const gx = gpu.upload(x);
      const garg = gpu.buffer(rows * 4);
      const gmax = gpu.buffer(rows * 4);
      await run(gpu, (s) => {
        argmaxLast(s, { x: gx, out: garg }, { rows, cols });
        maxLast(s, { x: gx, out: gmax }, { rows, cols });
      });
      expect([...(await readI32(gpu, garg, rows))]).toEqual(arg);
      expect([...(await readF32(gpu, gmax, rows))]).toEqual(max);
      for (const b of [gx, garg, gmax]) gpu.release(b);
    }
  });
});
