// gemm.wgsl against a float64 loop: sizes that are multiples of no tile (and 1), every transpose
// combination, bias and relu epilogues, every variant, non-default tiles, padded rows (lda, ldb).

import { describe, it } from 'vitest';
import { gemm, type GemmDims } from '../../packages/kernels/src/index.js';
import { expectClose, random, readF32, run, useGpu } from './helpers.js';

const ctx = useGpu();
const rand = random(1);

/** C = op(A)·op(B) + bias, then act, in float64. */
function reference(a: Float32Array, b: Float32Array, bias: Float32Array | undefined, d: GemmDims): Float64Array {
  const { m, n, k } = d;
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = bias ? bias[j] : 0;
      for (let p = 0; p < k; p++) {
        const av = d.transA ? a[p * lda(d) + i] : a[i * lda(d) + p];
        const bv = d.transB ? b[j * ldb(d) + p] : b[p * ldb(d) + j];
        s += av * bv;
      }
      c[i * n + j] = d.activation === 'relu' ? Math.max(s, 0) : s;
    }
  }
  return c;
}

const lda = (d: GemmDims) => d.lda ?? (d.transA ? d.m : d.k);
const ldb = (d: GemmDims) => d.ldb ?? (d.transB ? d.k : d.n);

async function check(d: GemmDims, withBias = false) {
  const { gpu } = ctx;
  // Padding columns hold NaN: a kernel that read one would show it.
  const padded = (rows: number, len: number, ld: number) => {
    const values = rand(rows * ld);
    for (let r = 0; r < rows; r++) values.fill(NaN, r * ld + len, (r + 1) * ld);
    return values;
  };
  const a = padded(d.transA ? d.k : d.m, d.transA ? d.m : d.k, lda(d));
  const b = padded(d.transB ? d.n : d.k, d.transB ? d.k : d.n, ldb(d));
  const bias = withBias ? rand(d.n) : undefined;
  const ga = gpu.upload(a);
  const gb = gpu.upload(b);
  const gbias = bias ? gpu.upload(bias) : undefined;
  const gc = gpu.buffer(d.m * d.n * 4);
  await run(gpu, (s) => gemm(s, { a: ga, b: gb, c: gc, bias: gbias }, d));
  expectClose(await readF32(gpu, gc, d.m * d.n), reference(a, b, bias, d), `gemm ${JSON.stringify(d)} bias=${withBias}`);
  for (const buf of [ga, gb, gc, ...(gbias ? [gbias] : [])]) gpu.release(buf);
}

const SIZES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 7, 3], [5, 1, 9], [3, 4, 1], [17, 33, 29], [64, 64, 16], [65, 63, 70], [130, 67, 33], [257, 129, 300], [2, 500, 701],
];

describe.each(['tiled', 'direct', 'reg'] as const)('gemm %s', (variant) => {
  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
    it(`transA=${transA} transB=${transB}`, async () => {
      for (const [m, n, k] of SIZES) await check({ m, n, k, transA, transB, variant });
    });
  }

  it('bias and relu epilogue', async () => {
    for (const [m, n, k] of [[1, 1, 1], [33, 17, 40], [70, 130, 9]]) {
      await check({ m, n, k, activation: 'relu', variant }, true);
      await check({ m, n, k, variant }, true);
    }
  });
});

describe.each(['tiled', 'direct', 'reg'] as const)('gemm %s with padded rows', (variant) => {
  // lda / ldb beyond the packed row length, as im2col's columns padded to a multiple of 4 give.
  it.each([[false, false], [true, false], [false, true], [true, true]])('transA=%s transB=%s', async (transA, transB) => {
    for (const [m, n, k, padA, padB] of [[50, 8, 25, 3, 0], [25, 8, 301, 3, 0], [7, 5, 3, 1, 2], [33, 12, 64, 4, 3]]) {
      const d: GemmDims = { m, n, k, transA, transB, variant };
      await check({ ...d, lda: lda(d) + padA, ldb: ldb(d) + padB });
    }
  });
});

describe('gemm options', () => {
  it('non-default tiles and K = 0', async () => {
    await check({ m: 37, n: 45, k: 51, tile: { wgX: 8, wgY: 4, tk: 8 } });
    await check({ m: 37, n: 45, k: 51, transA: true, tile: { wgX: 4, wgY: 8, tk: 4 }, variant: 'direct' });
    await check({ m: 3, n: 5, k: 0 }, true);  // empty sum: C = bias
  });
});

describe('gemm reg (vec4 paths and split-K)', () => {
  // Sizes with M, N, K multiples of 4 (vec4 loads on every operand) and not, tiny and long K.
  const shapes: Array<[number, number, number]> = [
    [4, 4, 4], [8, 8, 4], [12, 16, 28], [25, 8, 1000], [200, 16, 2052], [24, 8, 3001], [7, 5, 3],
    [64, 128, 784], [16, 200, 16], [33, 12, 64], [5, 9, 2000],
  ];
  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
    it(`transA=${transA} transB=${transB}, automatic splits`, async () => {
      for (const [m, n, k] of shapes) await check({ m, n, k, transA, transB, variant: 'reg' });
    });
    it(`transA=${transA} transB=${transB}, forced splits`, async () => {
      for (const [m, n, k, splits] of [[8, 8, 64, 3], [25, 8, 1001, 7], [12, 20, 9, 2], [4, 4, 1, 4], [36, 16, 517, 5]]) {
        await check({ m, n, k, transA, transB, variant: 'reg', splits });
      }
    });
  }
  it('split-K with bias and relu', async () => {
    await check({ m: 25, n: 8, k: 1200, activation: 'relu', variant: 'reg', splits: 4 }, true);
    await check({ m: 10, n: 13, k: 999, variant: 'reg', splits: 3 }, true);
  });
  it('non-default workgroup shapes', async () => {
    await check({ m: 37, n: 45, k: 51, variant: 'reg', tile: { wgX: 2, wgY: 32 } });
    await check({ m: 64, n: 64, k: 64, variant: 'reg', tile: { wgX: 16, wgY: 16 }, transB: true });
  });
});
