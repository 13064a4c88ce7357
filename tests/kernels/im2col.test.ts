// im2col.wgsl (im2col, col2im gather; per element and per row/pixel, vec4 when C % 4 == 0), conv.wgsl
// (the direct input gradient) and the conv2d compositions in conv2d.ts against direct float64 loops
// over every geometry in geometry.ts.

import { describe, it } from 'vitest';
import {
  col2im, colCols, colRows, conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput, conv2dForward,
  im2col, type ConvDims,
} from '../../packages/kernels/src/index.js';
import { CASES, dims, forEachTap, label } from './geometry.js';
import { expectClose, random, readF32, run, useGpu } from './helpers.js';

const ctx = useGpu();
/** A runtime whose kernels take their paths without subgroup quads (ctx's share loads where the adapter has them). */
const plain = useGpu({ subgroups: false });
const rand = random(2);

describe.each(['element', 'rows'] as const)('im2col %s', (variant) => {
  it.each(CASES.map((k) => [label(k), k] as const))('im2col and col2im: %s', async (_, k) => {
    const { gpu } = ctx;
    const d = dims(k);
    const rows = colRows(d);
    const cols = colCols(d);
    const x = rand(k.n * k.h * k.w * k.c);
    const dcols = rand(rows * cols);
    const expectCols = new Float64Array(rows * cols);   // zero where the patch covers padding
    const expectDx = new Float64Array(x.length);
    forEachTap(d, (n, oh, ow, fh, fw, h, w) => {
      for (let c = 0; c < k.c; c++) {
        const r = (n * d.outHeight + oh) * d.outWidth + ow;
        const col = (fh * k.fw + fw) * k.c + c;
        const xi = ((n * k.h + h) * k.w + w) * k.c + c;
        expectCols[r * cols + col] = x[xi];
        expectDx[xi] += dcols[r * cols + col];
      }
    });
    const gx = gpu.upload(x);
    const gcols = gpu.buffer(rows * cols * 4);
    const gdcols = gpu.upload(dcols);
    const gdx = gpu.buffer(x.length * 4);
    await run(gpu, (s) => {
      im2col(s, { x: gx, cols: gcols }, d, variant);
      col2im(s, { dcols: gdcols, dx: gdx }, d, variant);
    });
    expectClose(await readF32(gpu, gcols, rows * cols), expectCols, 'cols', { rtol: 0, atol: 0 });
    expectClose(await readF32(gpu, gdx, x.length), expectDx, 'dx');
    for (const b of [gx, gcols, gdcols, gdx]) gpu.release(b);
  });
});

// Rows padded to a multiple of 4 (what conv2dColumns asks for): 'rows' then stores 4 columns at a
// time where C % 4 != 0 (im2col_rows_quads) and zeroes the padding; the other kernels leave it alone.
describe.each(['element', 'rows'] as const)('im2col %s, padded rows', (variant) => {
  it.each(CASES.map((k) => [label(k), k] as const))('%s', async (_, k) => {
    const { gpu } = ctx;
    const d = dims(k);
    const rows = colRows(d);
    const cols = colCols(d);
    const stride = Math.ceil(cols / 4) * 4 + 4;
    const x = rand(k.n * k.h * k.w * k.c);
    const expectCols = new Float64Array(rows * stride).fill(NaN);
    const zeroesPadding = variant === 'rows' && k.c % 4 !== 0;
    for (let r = 0; r < rows; r++) expectCols.fill(0, r * stride, r * stride + (zeroesPadding ? stride : cols));
    forEachTap(d, (n, oh, ow, fh, fw, h, w) => {
      for (let c = 0; c < k.c; c++) {
        const r = (n * d.outHeight + oh) * d.outWidth + ow;
        expectCols[r * stride + (fh * k.fw + fw) * k.c + c] = x[((n * k.h + h) * k.w + w) * k.c + c];
      }
    });
    const gx = gpu.upload(x);
    const gcols = gpu.upload(new Float32Array(rows * stride).fill(NaN));
    await run(gpu, (s) => im2col(s, { x: gx, cols: gcols }, d, variant, stride));
    const got = await readF32(gpu, gcols, rows * stride);
    // Compare where a value is expected; the padding must otherwise be left as it was (NaN).
    const mask = (a: ArrayLike<number>) => Array.from(a, (v, i) => (Number.isNaN(expectCols[i]) ? 0 : v));
    expectClose(Float32Array.from(mask(got)), Float64Array.from(mask(expectCols)), 'cols', { rtol: 0, atol: 0 });
    for (let i = 0; i < got.length; i++) if (Number.isNaN(expectCols[i]) && !Number.isNaN(got[i])) throw new Error(`padding ${i} was written`);
    for (const b of [gx, gcols]) gpu.release(b);
  });
});

// dx by either variant: 'direct' (conv.wgsl) where K % 4 == 0, else it falls back to gemm + col2im;
// 'direct' also without subgroups (conv_backward_input shares filter loads across quads for C <= 8).
describe.each([['gemm', 'ctx'], ['direct', 'ctx'], ['direct', 'plain']] as const)('conv2d (im2col + gemm), dx by %s, runtime %s', (dxVariant, runtime) => {
  it.each(CASES.map((k, i) => [label(k), k, i] as const))('forward and backward: %s', async (_, k, i) => {
    const { gpu } = runtime === 'ctx' ? ctx : plain;
    const K = [4, 5, 8, 3, 12, 1][i % 6];
    const d: ConvDims = { ...dims(k), outChannels: K, activation: i % 3 === 0 ? 'relu' : 'none' };
    const outLen = d.batch * d.outHeight * d.outWidth * K;
    const x = rand(k.n * k.h * k.w * k.c);
    const filter = rand(k.fh * k.fw * k.c * K);
    const bias = rand(K);
    const dy = rand(outLen);
    const fIndex = (fh: number, fw: number, c: number, kk: number) => ((fh * k.fw + fw) * k.c + c) * K + kk;
    const oIndex = (n: number, oh: number, ow: number, kk: number) => ((n * d.outHeight + oh) * d.outWidth + ow) * K + kk;
    const y = new Float64Array(outLen);
    for (let o = 0; o < outLen; o++) y[o] = bias[o % K];
    const dx = new Float64Array(x.length);
    const dFilter = new Float64Array(filter.length);
    const dBias = new Float64Array(K);
    for (let o = 0; o < outLen; o++) dBias[o % K] += dy[o];
    forEachTap(d, (n, oh, ow, fh, fw, h, w) => {
      for (let c = 0; c < k.c; c++) {
        const xi = ((n * k.h + h) * k.w + w) * k.c + c;
        for (let kk = 0; kk < K; kk++) {
          y[oIndex(n, oh, ow, kk)] += x[xi] * filter[fIndex(fh, fw, c, kk)];
          dx[xi] += dy[oIndex(n, oh, ow, kk)] * filter[fIndex(fh, fw, c, kk)];
          dFilter[fIndex(fh, fw, c, kk)] += x[xi] * dy[oIndex(n, oh, ow, kk)];
        }
      }
    });
    if (d.activation === 'relu') for (let o = 0; o < outLen; o++) y[o] = Math.max(0, y[o]);

    const [gx, gf, gb, gdy] = [x, filter, bias, dy].map((a) => gpu.upload(a));
    const [gy, gdx, gdf, gdb] = [outLen, x.length, filter.length, K].map((n) => gpu.buffer(n * 4));
    await run(gpu, (s) => {
      conv2dForward(s, { x: gx, filter: gf, bias: gb, y: gy }, d);
      conv2dBackwardInput(s, { dy: gdy, filter: gf, dx: gdx }, d, dxVariant);
      conv2dBackwardFilter(s, { x: gx, dy: gdy, dfilter: gdf }, d);
      conv2dBackwardBias(s, { dy: gdy, dbias: gdb }, d);
    });
    expectClose(await readF32(gpu, gy, outLen), y, 'y');
    expectClose(await readF32(gpu, gdx, x.length), dx, 'dx');
    expectClose(await readF32(gpu, gdf, filter.length), dFilter, 'dfilter');
    expectClose(await readF32(gpu, gdb, K), dBias, 'dbias');
    for (const b of [gx, gf, gb, gdy, gy, gdx, gdf, gdb]) gpu.release(b);
  });
});
