// pool.wgsl against float64 loops: max (argmax, first max wins, padding never wins) and average
// (padding excluded) forward and backward, over geometry.ts plus the lecture's 4×4 example.

import { describe, expect, it } from 'vitest';
import {
  avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward, windowDims, type WindowDims,
} from '../../packages/kernels/src/index.js';
import { CASES, dims, label } from './geometry.js';
import { expectClose, random, readF32, readI32, run, useGpu } from './helpers.js';

const ctx = useGpu();
const rand = random(3);

/** Calls fn(outIndex, inIndices) per output with the flat x indices of its in-bounds cells, row-major. */
function windows(d: WindowDims, fn: (o: number, cells: number[]) => void) {
  const { batch, inHeight: H, inWidth: W, channels: C } = d;
  for (let n = 0; n < batch; n++)
    for (let oh = 0; oh < d.outHeight; oh++)
      for (let ow = 0; ow < d.outWidth; ow++)
        for (let c = 0; c < C; c++) {
          const cells: number[] = [];
          for (let fh = 0; fh < d.windowHeight; fh++)
            for (let fw = 0; fw < d.windowWidth; fw++) {
              const h = oh * d.strideHeight - d.padTop + fh;
              const w = ow * d.strideWidth - d.padLeft + fw;
              if (h >= 0 && h < H && w >= 0 && w < W) cells.push(((n * H + h) * W + w) * C + c);
            }
          fn(((n * d.outHeight + oh) * d.outWidth + ow) * C + c, cells);
        }
}

async function check(d: WindowDims, x: Float32Array) {
  const { gpu } = ctx;
  const outLen = d.batch * d.outHeight * d.outWidth * d.channels;
  const dy = rand(outLen);
  const maxY = new Float64Array(outLen);
  const arg = new Int32Array(outLen);
  const maxDx = new Float64Array(x.length);
  const avgY = new Float64Array(outLen);
  const avgDx = new Float64Array(x.length);
  windows(d, (o, cells) => {
    let best = -1;
    for (const i of cells) if (best < 0 || x[i] > x[best]) best = i;
    arg[o] = best;
    maxY[o] = best < 0 ? 0 : x[best];
    if (best >= 0) maxDx[best] += dy[o];
    let sum = 0;
    for (const i of cells) sum += x[i];
    avgY[o] = cells.length ? sum / cells.length : 0;
    for (const i of cells) avgDx[i] += dy[o] / cells.length;
  });
  const gx = gpu.upload(x);
  const gdy = gpu.upload(dy);
  const [gy, garg, gay, gadx] = [outLen, outLen, outLen, x.length].map((n) => gpu.buffer(n * 4));
  const gdx = gpu.upload(rand(x.length));  // garbage: the scatter variant must clear it
  const gdxGather = gpu.buffer(x.length * 4);
  await run(gpu, (s) => {
    maxPoolForward(s, { x: gx, y: gy, argmax: garg }, d);
    maxPoolBackward(s, { dy: gdy, argmax: garg, dx: gdx }, d);
    maxPoolBackward(s, { dy: gdy, argmax: garg, dx: gdxGather }, d, 'gather');
    avgPoolForward(s, { x: gx, y: gay }, d);
    avgPoolBackward(s, { dy: gdy, dx: gadx }, d);
  });
  expect([...(await readI32(gpu, garg, outLen))]).toEqual([...arg]);
  expectClose(await readF32(gpu, gy, outLen), maxY, 'max y', { rtol: 0, atol: 0 });
  expectClose(await readF32(gpu, gdx, x.length), maxDx, 'max dx');
  expectClose(await readF32(gpu, gdxGather, x.length), maxDx, 'max dx (gather)');
  expectClose(await readF32(gpu, gay, outLen), avgY, 'avg y');
  expectClose(await readF32(gpu, gadx, x.length), avgDx, 'avg dx');
  for (const b of [gx, gdy, gy, garg, gdx, gdxGather, gay, gadx]) gpu.release(b);
  return { maxY, avgY };
}

describe('pool', () => {
  it('lecture example: 4×4, 2×2 window, stride 2', async () => {
    const x = Float32Array.from([1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4]);
    const d = windowDims({ batch: 1, inHeight: 4, inWidth: 4, channels: 1, windowHeight: 2, windowWidth: 2, strideHeight: 2, strideWidth: 2, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0 });
    const { maxY, avgY } = await check(d, x);
    expect([...maxY]).toEqual([6, 8, 3, 4]);
    expect([...avgY]).toEqual([3.25, 5.25, 2, 2]);
  });

  it.each(CASES.map((k) => [label(k), k] as const))('random: %s', async (_, k) => {
    await check(dims(k), rand(k.n * k.h * k.w * k.c));
  });

  it.each(CASES.slice(0, 6).map((k) => [label(k), k] as const))('ties (first max wins): %s', async (_, k) => {
    const x = rand(k.n * k.h * k.w * k.c).map((v) => Math.round(v));  // many equal values
    await check(dims(k), x);
  });

  it('negative inputs next to padding, and a window wholly in padding', async () => {
    const base = { batch: 2, inHeight: 3, inWidth: 4, channels: 3, strideHeight: 1, strideWidth: 1 };
    await check(windowDims({ ...base, windowHeight: 3, windowWidth: 3, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2 }), rand(72, -5, -1));
    // 1×1 windows with padding 1: the border outputs see only padding (y 0, argmax −1, no gradient).
    await check(windowDims({ ...base, windowHeight: 1, windowWidth: 1, padTop: 1, padLeft: 1, padBottom: 1, padRight: 0 }), rand(72));
  });
});
