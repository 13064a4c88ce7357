// The fast CPU path (blocked GEMM, im2col convolution) against naive loops written straight from
// the definitions, on many seeded random shapes.
//
// Tolerance: 1e-4 relative, where "relative" is to Σ|terms| of each output (Σ_k |a_ik·b_kj| for a
// product, the same for each conv sum) rather than to |result|: with random signed data some sums
// cancel to nearly zero, and an error of a few float32 ulps of the terms would then look huge
// relative to the tiny result although it is not an error of the algorithm. The naive loops sum in
// float64; gemm() sums in float32 on WebAssembly SIMD (error about K·2⁻²⁴ of the terms, under 1e-5
// for the K here) and the JS kernel (gemmBlocked) rounds to float32 once per K block.

import { describe, expect, it } from 'vitest';
import { Rng } from '../packages/core/src/rng.ts';
import { gemm, gemmBlocked, type GemmBlocking } from '../packages/core/src/backends/cpu-fast/gemm.ts';
import {
  conv2dBackpropFilter,
  conv2dBackpropInput,
  conv2dForward,
  im2col,
} from '../packages/core/src/backends/cpu-fast/conv.ts';
import type { Activation, ConvGeometry } from '../packages/core/src/ops/conv-geometry.ts';
import { fastKernels } from '../packages/core/src/backends/cpu-kernels.ts';
import { sumOp } from '../packages/core/src/ops/reduce.ts';

const RTOL = 1e-4;

function randomArray(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

/** Checks |got − want| ≤ RTOL·scale elementwise (scale = Σ|terms|, or |want| where larger). */
function expectClose(got: Float32Array, want: Float64Array, scale: Float64Array, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const s = Math.max(scale[i], Math.abs(want[i]), 1e-30);
    const rel = Number.isNaN(err) ? Infinity : err / s;
    if (rel > worst) {
      worst = rel;
      worstAt = i;
    }
  }
  if (worst > RTOL) {
    throw new Error(
      `${what}: relative error ${worst} at ${worstAt} (got ${got[worstAt]}, want ${want[worstAt]})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// GEMM

/** Naive c = op(a)·op(b) in float64, with Σ|terms| per element. */
function naiveGemm(
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
): { c: Float64Array; scale: Float64Array } {
  const c = new Float64Array(M * N);
  const scale = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let t = 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? a[k * M + i] : a[i * K + k];
        const bv = transB ? b[j * K + k] : b[k * N + j];
        s += av * bv;
        t += Math.abs(av * bv);
      }
      c[i * N + j] = s;
      scale[i * N + j] = t;
    }
  }
  return { c, scale };
}

const SIZES = [1, 2, 3, 7, 17, 33, 64, 65, 130];
const TRANSPOSES: Array<[boolean, boolean]> = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

function checkGemm(
  rng: Rng,
  M: number,
  N: number,
  K: number,
  tA: boolean,
  tB: boolean,
  blocking?: GemmBlocking,
): void {
  const a = randomArray(rng, M * K);
  const b = randomArray(rng, K * N);
  const what = `gemm M=${M} N=${N} K=${K} tA=${tA} tB=${tB}${blocking ? ' ' + JSON.stringify(blocking) : ''}`;
  const { c: want, scale } = naiveGemm(a, b, M, N, K, tA, tB);
  // Overwrite: old contents (NaN here) must never be read.
  const c = new Float32Array(M * N).fill(NaN);
  if (blocking) gemmBlocked(a, b, c, M, N, K, tA, tB, false, blocking);
  else gemm(a, b, c, M, N, K, tA, tB);
  expectClose(c, want, scale, what);
  // Accumulate: c0 + op(a)·op(b).
  const c0 = randomArray(rng, M * N);
  const acc = Float32Array.from(c0);
  if (blocking) gemmBlocked(a, b, acc, M, N, K, tA, tB, true, blocking);
  else gemm(a, b, acc, M, N, K, tA, tB, true);
  const wantAcc = new Float64Array(M * N);
  const scaleAcc = new Float64Array(M * N);
  for (let i = 0; i < M * N; i++) {
    wantAcc[i] = c0[i] + want[i];
    scaleAcc[i] = Math.abs(c0[i]) + scale[i];
  }
  expectClose(acc, wantAcc, scaleAcc, what + ' accumulate');
}

describe('cpu-fast gemm', () => {
  for (const [tA, tB] of TRANSPOSES) {
    it(`matches the naive product for all sizes in ${JSON.stringify(SIZES)}³, tA=${tA} tB=${tB}`, () => {
      const rng = new Rng(1000 + (tA ? 2 : 0) + (tB ? 1 : 0));
      for (const M of SIZES) for (const N of SIZES) for (const K of SIZES) checkGemm(rng, M, N, K, tA, tB);
    });
  }

  it('handles blocks of every dimension being crossed (K > kc, M > mc, N > nc)', () => {
    const rng = new Rng(7);
    for (const [tA, tB] of TRANSPOSES) {
      checkGemm(rng, 3, 1100, 5, tA, tB); // N over the default nc = 1024
      checkGemm(rng, 5, 9, 700, tA, tB); // K over the default kc = 256
      checkGemm(rng, 300, 20, 30, tA, tB); // M over the default mc = 128
    }
  });

  it('is correct with tiny, odd blockings and every packing choice', () => {
    const rng = new Rng(11);
    const blockings: GemmBlocking[] = [];
    for (const mc of [4, 9]) {
      for (const kc of [1, 3, 8]) {
        for (const nc of [8, 17]) {
          for (const [pa, pb] of [[0, 0], [1e9, 1e9], [0, 1e9], [1e9, 0]]) {
            blockings.push({ mc, kc, nc, packANAbove: pa, packBNAbove: pb });
          }
        }
      }
    }
    const sizes = [1, 3, 4, 5, 8, 9, 13, 33];
    for (const blocking of blockings) {
      for (let t = 0; t < 12; t++) {
        const M = sizes[rng.int(sizes.length)];
        const N = sizes[rng.int(sizes.length)];
        const K = sizes[rng.int(sizes.length)];
        const [tA, tB] = TRANSPOSES[rng.int(4)];
        checkGemm(rng, M, N, K, tA, tB, blocking);
      }
    }
  });

  it('K = 0 gives zeros (or leaves c when accumulating); empty M or N is a no-op', () => {
    const c = new Float32Array(6).fill(5);
    gemm(new Float32Array(0), new Float32Array(0), c, 2, 3, 0, false, false, true);
    expect(Array.from(c)).toEqual([5, 5, 5, 5, 5, 5]);
    gemm(new Float32Array(0), new Float32Array(0), c, 2, 3, 0, false, false);
    expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
    const d = new Float32Array(2).fill(3);
    gemm(new Float32Array(4), new Float32Array(0), d, 0, 0, 4, false, false);
    expect(Array.from(d)).toEqual([3, 3]);
  });

  it('gives the same results when called repeatedly with shrinking and growing shapes', () => {
    const rng = new Rng(3);
    for (const [M, N, K] of [
      [130, 130, 300],
      [2, 3, 1],
      [65, 40, 17],
      [1, 1, 1],
      [130, 130, 300],
    ]) {
      checkGemm(rng, M, N, K, false, false);
      checkGemm(rng, M, N, K, true, true);
    }
  });

  it('rejects buffers that are too small', () => {
    expect(() => gemm(new Float32Array(3), new Float32Array(4), new Float32Array(4), 2, 2, 2, false, false)).toThrow(
      /too small/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Convolution

function geometry(
  batch: number,
  inHeight: number,
  inWidth: number,
  channels: number,
  windowHeight: number,
  windowWidth: number,
  strideHeight: number,
  strideWidth: number,
  padTop: number,
  padBottom: number,
  padLeft: number,
  padRight: number,
  outChannels: number,
): ConvGeometry {
  return {
    batch,
    inHeight,
    inWidth,
    channels,
    windowHeight,
    windowWidth,
    strideHeight,
    strideWidth,
    padTop,
    padLeft,
    padBottom,
    padRight,
    outHeight: Math.floor((inHeight + padTop + padBottom - windowHeight) / strideHeight) + 1,
    outWidth: Math.floor((inWidth + padLeft + padRight - windowWidth) / strideWidth) + 1,
    outChannels,
  };
}

function describeGeometry(g: ConvGeometry): string {
  return (
    `N=${g.batch} ${g.inHeight}×${g.inWidth}×${g.channels} filter ${g.windowHeight}×${g.windowWidth}` +
    `→${g.outChannels} stride ${g.strideHeight},${g.strideWidth} pad t${g.padTop} b${g.padBottom} ` +
    `l${g.padLeft} r${g.padRight} out ${g.outHeight}×${g.outWidth}`
  );
}

/** Calls f(n, oh, ow, fh, fw, ih, iw) for every window tap that lands inside the input. */
function forEachTap(
  g: ConvGeometry,
  f: (n: number, oh: number, ow: number, fh: number, fw: number, ih: number, iw: number) => void,
): void {
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++) {
        for (let fh = 0; fh < g.windowHeight; fh++) {
          for (let fw = 0; fw < g.windowWidth; fw++) {
            const ih = oh * g.strideHeight - g.padTop + fh;
            const iw = ow * g.strideWidth - g.padLeft + fw;
            if (ih >= 0 && ih < g.inHeight && iw >= 0 && iw < g.inWidth) f(n, oh, ow, fh, fw, ih, iw);
          }
        }
      }
    }
  }
}

function naiveConv(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  g: ConvGeometry,
  activation: Activation,
): { y: Float64Array; scale: Float64Array } {
  const { channels: C, outChannels: K, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo } = g;
  const len = g.batch * Ho * Wo * K;
  const y = new Float64Array(len);
  const scale = new Float64Array(len);
  forEachTap(g, (n, oh, ow, fh, fw, ih, iw) => {
    for (let k = 0; k < K; k++) {
      for (let c = 0; c < C; c++) {
        const p = x[((n * H + ih) * W + iw) * C + c] * w[((fh * g.windowWidth + fw) * C + c) * K + k];
        y[((n * Ho + oh) * Wo + ow) * K + k] += p;
        scale[((n * Ho + oh) * Wo + ow) * K + k] += Math.abs(p);
      }
    }
  });
  for (let i = 0; i < len; i++) {
    if (bias !== null) {
      y[i] += bias[i % K];
      scale[i] += Math.abs(bias[i % K]);
    }
    if (activation === 'relu' && y[i] < 0) y[i] = 0;
  }
  return { y, scale };
}

function naiveBackpropInput(
  dy: Float32Array,
  w: Float32Array,
  g: ConvGeometry,
): { dx: Float64Array; scale: Float64Array } {
  const { channels: C, outChannels: K, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo } = g;
  const dx = new Float64Array(g.batch * H * W * C);
  const scale = new Float64Array(dx.length);
  forEachTap(g, (n, oh, ow, fh, fw, ih, iw) => {
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < K; k++) {
        const p = dy[((n * Ho + oh) * Wo + ow) * K + k] * w[((fh * g.windowWidth + fw) * C + c) * K + k];
        dx[((n * H + ih) * W + iw) * C + c] += p;
        scale[((n * H + ih) * W + iw) * C + c] += Math.abs(p);
      }
    }
  });
  return { dx, scale };
}

function naiveBackpropFilter(
  x: Float32Array,
  dy: Float32Array,
  g: ConvGeometry,
): { dw: Float64Array; scale: Float64Array } {
  const { channels: C, outChannels: K, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo } = g;
  const dw = new Float64Array(g.windowHeight * g.windowWidth * C * K);
  const scale = new Float64Array(dw.length);
  forEachTap(g, (n, oh, ow, fh, fw, ih, iw) => {
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < K; k++) {
        const p = x[((n * H + ih) * W + iw) * C + c] * dy[((n * Ho + oh) * Wo + ow) * K + k];
        dw[((fh * g.windowWidth + fw) * C + c) * K + k] += p;
        scale[((fh * g.windowWidth + fw) * C + c) * K + k] += Math.abs(p);
      }
    }
  });
  return { dw, scale };
}

function checkConv(rng: Rng, g: ConvGeometry): void {
  const what = describeGeometry(g);
  const xLen = g.batch * g.inHeight * g.inWidth * g.channels;
  const wLen = g.windowHeight * g.windowWidth * g.channels * g.outChannels;
  const yLen = g.batch * g.outHeight * g.outWidth * g.outChannels;
  const x = randomArray(rng, xLen);
  const w = randomArray(rng, wLen);
  const bias = randomArray(rng, g.outChannels);
  const dy = randomArray(rng, yLen);

  for (const [b, act] of [
    [bias, 'relu'],
    [null, 'none'],
    [bias, 'none'],
    [null, 'relu'],
  ] as Array<[Float32Array | null, Activation]>) {
    const { y: want, scale } = naiveConv(x, w, b, g, act);
    expectClose(conv2dForward(x, w, b, g, act), want, scale, `forward ${act} bias=${b !== null} ${what}`);
  }
  const { dx, scale: sx } = naiveBackpropInput(dy, w, g);
  expectClose(conv2dBackpropInput(dy, w, g), dx, sx, `backprop input ${what}`);
  const { dw, scale: sw } = naiveBackpropFilter(x, dy, g);
  expectClose(conv2dBackpropFilter(x, dy, g), dw, sw, `backprop filter ${what}`);

  // Into a caller's buffer full of NaN: every value must be written.
  const out = new Float32Array(xLen).fill(NaN);
  expectClose(conv2dBackpropInput(dy, w, g, out), dx, sx, `backprop input (out) ${what}`);
}

describe('cpu-fast im2col', () => {
  it('writes rows (n·Ho+oh)·Wo+ow and columns (fh·Fw+fw)·Cin+cin, zero outside the input', () => {
    const rng = new Rng(5);
    for (let t = 0; t < 40; t++) {
      const g = randomGeometry(rng);
      const x = randomArray(rng, g.batch * g.inHeight * g.inWidth * g.channels);
      const taps = g.windowHeight * g.windowWidth * g.channels;
      const rows = g.batch * g.outHeight * g.outWidth;
      const cols = new Float32Array(rows * taps).fill(NaN);
      im2col(x, g, cols);
      const want = new Float32Array(rows * taps);
      forEachTap(g, (n, oh, ow, fh, fw, ih, iw) => {
        for (let c = 0; c < g.channels; c++) {
          want[((n * g.outHeight + oh) * g.outWidth + ow) * taps + (fh * g.windowWidth + fw) * g.channels + c] =
            x[((n * g.inHeight + ih) * g.inWidth + iw) * g.channels + c];
        }
      });
      expect(Array.from(cols), describeGeometry(g)).toEqual(Array.from(want));
    }
  });
});

/** A random valid geometry: batch 1–5, channels 1–33, filters 1–7 per axis, strides 1–3, pads 0–2. */
function randomGeometry(rng: Rng): ConvGeometry {
  for (;;) {
    const filters = [1, 2, 3, 4, 5, 7];
    const g = geometry(
      1 + rng.int(5),
      1 + rng.int(13),
      1 + rng.int(13),
      1 + rng.int(33),
      filters[rng.int(filters.length)],
      filters[rng.int(filters.length)],
      1 + rng.int(3),
      1 + rng.int(3),
      rng.int(3),
      rng.int(3),
      rng.int(3),
      rng.int(3),
      1 + rng.int(20),
    );
    if (g.outHeight >= 1 && g.outWidth >= 1) return g;
  }
}

describe('cpu-fast conv2d', () => {
  it('matches the naive loops on named shapes', () => {
    const rng = new Rng(21);
    const cases: ConvGeometry[] = [
      geometry(1, 6, 6, 1, 3, 3, 1, 1, 0, 0, 0, 0, 1), // the lecture's 6×6 / 3×3 example
      geometry(2, 10, 10, 3, 2, 2, 1, 1, 0, 0, 0, 0, 5),
      geometry(1, 6, 6, 1, 3, 3, 3, 3, 0, 0, 0, 0, 1), // stride 3
      geometry(1, 6, 6, 1, 3, 3, 2, 2, 0, 0, 0, 0, 1), // floored output, last row/col never covered
      geometry(3, 4, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, 4), // padding 1 keeps 4×4
      geometry(3, 5, 7, 33, 1, 1, 1, 1, 0, 0, 0, 0, 9), // 1×1 pointwise (im2col skipped)
      geometry(2, 5, 7, 6, 1, 1, 2, 3, 0, 0, 0, 0, 3), // 1×1 strided (im2col needed)
      geometry(2, 5, 7, 6, 1, 1, 1, 1, 1, 0, 2, 1, 3), // 1×1 padded
      geometry(4, 5, 3, 7, 5, 3, 1, 1, 0, 0, 0, 0, 10), // window = whole input (im2col skipped)
      geometry(2, 11, 9, 3, 7, 7, 1, 2, 2, 1, 0, 2, 8), // 7×7
      geometry(3, 9, 12, 5, 3, 5, 3, 1, 0, 2, 1, 1, 7), // non-square 3×5, asymmetric pads
      geometry(5, 8, 8, 4, 5, 3, 2, 3, 2, 2, 2, 0, 33),
      geometry(1, 2, 2, 1, 7, 7, 1, 1, 3, 3, 3, 3, 2), // filter much larger than the input
      geometry(2, 3, 3, 2, 1, 1, 3, 3, 2, 2, 2, 2, 2), // windows entirely in the padding
      geometry(64, 28, 28, 1, 5, 5, 1, 1, 0, 0, 0, 0, 8), // LeNet conv 1
      geometry(64, 12, 12, 8, 5, 5, 1, 1, 0, 0, 0, 0, 16), // LeNet conv 2
    ];
    for (const g of cases) checkConv(rng, g);
  });

  it('matches the naive loops on random shapes', () => {
    const rng = new Rng(42);
    for (let t = 0; t < 150; t++) checkConv(rng, randomGeometry(rng));
  });

  it('rejects a geometry whose output size does not follow from it', () => {
    const g = { ...geometry(1, 6, 6, 1, 3, 3, 1, 1, 0, 0, 0, 0, 1), outHeight: 5 };
    expect(() => conv2dForward(new Float32Array(36), new Float32Array(9), null, g, 'none')).toThrow(
      /does not match/,
    );
  });
});

describe('cpu-fast sum', () => {
  it('gives exactly the reference sums, over leading axes (its fast path) and any others', () => {
    const rng = new Rng(77);
    const sum = fastKernels.get('sum')!;
    const cases: Array<[number[], number[], boolean]> = [
      [[64, 28, 28, 8], [0, 1, 2], false], // a LeNet bias gradient
      [[5, 3, 7], [0], true],
      [[5, 3, 7], [0, 1, 2], false],
      [[5, 3, 7], [], false],
      [[5, 3, 7], [1], false], // not leading: the reference
      [[5, 3, 7], [0, 2], true],
      [[1, 1, 9], [0, 1], false],
    ];
    for (const [shape, axes, keepDims] of cases) {
      const x = randomArray(rng, shape.reduce((a, b) => a * b, 1));
      const spec = { shape, dtype: 'float32' as const };
      const [outSpec] = sumOp.outputs([spec], { axes, keepDims });
      const want = sumOp.reference([x], [spec], { axes, keepDims }, [outSpec])[0];
      const got = sum([x], [spec], { axes, keepDims } as never, [outSpec])[0];
      expect(Array.from(got), `sum ${JSON.stringify(shape)} over ${JSON.stringify(axes)}`).toEqual(Array.from(want));
    }
  });
});
