// gemm.wgsl against a float64 loop: sizes that are multiples of no tile (and 1), every transpose
// combination, bias and relu epilogues, every variant, non-default tiles, padded rows (lda, ldb),
// and the 'tex' variant's packing: folded textures, split-K, packing textures shared by many GEMMs.

import { describe, expect, it } from 'vitest';
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

async function check(d: GemmDims, withBias = false, gpu = ctx.gpu) {
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

describe.each(['tiled', 'direct', 'reg', 'tex'] as const)('gemm %s', (variant) => {
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

describe.each(['tiled', 'direct', 'reg', 'tex'] as const)('gemm %s with padded rows', (variant) => {
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

  it('small GEMMs on the default route (on software adapters: direct, workgroups as wide as N)', async () => {
    // A classifier's last layer (LeNet's dense2): forward, dW and dX share one pipeline.
    const { gpu } = ctx;
    const step = gpu.step('collect', { collectOnly: true });
    const [x, w, dy, out] = [64 * 128, 128 * 10, 64 * 10, 128 * 128].map((len) => gpu.buffer(len * 4));
    gemm(step, { a: x, b: w, c: out }, { m: 64, n: 10, k: 128 });
    gemm(step, { a: x, b: dy, c: out }, { m: 128, n: 10, k: 64, transA: true });
    gemm(step, { a: dy, b: w, c: out }, { m: 64, n: 128, k: 10, transB: true });
    const pipelines = new Set(step.pipelinesNeeded().map((p) => `${p.kernel.entry} ${JSON.stringify(p.constants)}`));
    step.discard();
    [x, w, dy, out].forEach((b) => gpu.release(b));
    expect(pipelines.size, [...pipelines].join(', ')).toBe(1);
    for (const n of [1, 3, 4, 5, 8, 10, 12, 13, 17]) {
      for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
        await check({ m: 64, n, k: 128, transA, transB });
        await check({ m: 9, n, k: 7, transA, transB, activation: 'relu' }, true);
      }
    }
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

describe('gemm tex (packing, folds, split-K, shared textures)', () => {
  const shapes: Array<[number, number, number]> = [
    [4, 4, 4], [16, 16, 16], [25, 8, 1000], [200, 16, 2052], [64, 128, 784], [33, 12, 64], [5, 9, 2000], [1, 300, 7], [70, 3, 5],
    [40, 20, 3001], // untransposed A, N > 16 (gemm_tex_thin takes 4 < N <= 16): automatic splits in gemm_tex
  ];
  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
    it(`transA=${transA} transB=${transB}, automatic and forced splits`, async () => {
      for (const [m, n, k] of shapes) await check({ m, n, k, transA, transB, variant: 'tex' });
      for (const [m, n, k, splits] of [[8, 8, 64, 3], [25, 8, 1001, 7], [12, 20, 9, 2], [4, 4, 1, 4]]) {
        await check({ m, n, k, transA, transB, variant: 'tex', splits });
      }
      // op(A) read from its buffer (packed only where that is not vec4-aligned), and always packed.
      for (const [m, n, k] of shapes) {
        await check({ m, n, k, transA, transB, variant: 'tex', packA: false });
        await check({ m, n, k, transA, transB, variant: 'tex', packA: true });
      }
    });
  }

  it('split-K with bias and relu', async () => {
    await check({ m: 25, n: 8, k: 1200, activation: 'relu', variant: 'tex', splits: 4 }, true);
    await check({ m: 10, n: 13, k: 999, variant: 'tex', splits: 3 }, true);
  });

  it('matrices taller than a texture fold into bands, and ones too wide fall back to reg', async () => {
    const tuning = ctx.gpu.tuning;
    tuning.gemmTexMaxSize = 64;
    try {
      for (const [transA, transB] of [[false, false], [true, true]]) {
        await check({ m: 150, n: 20, k: 60, transA, transB, variant: 'tex' }, true);   // A in 3 bands
        await check({ m: 30, n: 20, k: 150, transA, transB, variant: 'tex' });         // B in 3 bands
        await check({ m: 150, n: 9, k: 150, transA, transB, variant: 'tex', splits: 2 }); // too wide: reg
      }
    } finally {
      delete tuning.gemmTexMaxSize;
    }
  });

  it('GEMMs in one step, and replays of a recording, share the packing textures correctly', async () => {
    const { gpu } = ctx;
    // Packs, then copies (see the next test) into the textures the packs grew, then a pack again.
    const dims: GemmDims[] = [
      { m: 40, n: 36, k: 20 }, { m: 300, n: 50, k: 130, transA: true }, { m: 9, n: 70, k: 33, transB: true },
      { m: 64, n: 128, k: 784 }, { m: 33, n: 64, k: 24, transA: true, lda: 36 }, { m: 9, n: 128, k: 36, ldb: 192 },
      { m: 40, n: 64, k: 64, packA: true }, { m: 40, n: 36, k: 20 },
    ];
    const make = (d: GemmDims) => {
      const a = rand((d.transA ? d.k : d.m) * lda(d));
      const b = rand((d.transB ? d.n : d.k) * ldb(d));
      return { d: { ...d, variant: 'tex' as const }, a, b, ga: gpu.upload(a), gb: gpu.upload(b), gc: gpu.buffer(d.m * d.n * 4) };
    };
    const all = dims.map(make);
    const verify = async (label: string) => {
      for (const g of all) expectClose(await readF32(gpu, g.gc, g.d.m * g.d.n), reference(g.a, g.b, undefined, g.d), `${label} ${JSON.stringify(g.d)}`);
    };
    await run(gpu, (s) => all.forEach((g) => gemm(s, { a: g.ga, b: g.gb, c: g.gc }, g.d)));
    await verify('one step');
    const step = gpu.step('tex recording');
    all.forEach((g) => gemm(step, { a: g.ga, b: g.gb, c: g.gc }, g.d));
    const recording = step.record();
    for (const g of all) gpu.write(g.gc, new Float32Array(g.d.m * g.d.n).fill(NaN));
    await recording.replay();
    await recording.replay();
    await verify('replayed');
    recording.dispose();
    for (const g of all) [g.ga, g.gb, g.gc].forEach((b) => gpu.release(b));
  });

  it("an operand's rows are copied into its texture where they already are the packed layout, else packed", async () => {
    const { gpu } = ctx;
    // [dims, whether B is copied]: rows 256 bytes apart or a multiple (ldb = 64, 128), padded rows
    // (NaN columns past N must not be read), and the cases a copy cannot do.
    const cases: Array<[GemmDims, boolean]> = [
      [{ m: 33, n: 64, k: 20 }, true],
      [{ m: 70, n: 60, k: 8, ldb: 64 }, true],
      [{ m: 9, n: 128, k: 36, ldb: 192 }, true],
      [{ m: 64, n: 128, k: 784 }, true],           // LeNet's dense1 forward
      [{ m: 33, n: 64, k: 24, transA: true, lda: 36 }, true],
      [{ m: 33, n: 64, k: 21, transA: true, lda: 36 }, false], // K % 4 != 0: zero rows to add
      [{ m: 33, n: 62, k: 20, ldb: 64 }, false],   // N % 4 != 0: a partial last texel
      [{ m: 33, n: 48, k: 20 }, false],            // rows 192 bytes apart
      [{ m: 33, n: 64, k: 20, transB: true }, false],
    ];
    const dispatches = (d: GemmDims, packA = false) => {
      const step = gpu.step('count');
      const scratch = [gpu.buffer(64 * 784 * 4), gpu.buffer(784 * 192 * 4), gpu.buffer(64 * 128 * 4)];
      gemm(step, { a: scratch[0], b: scratch[1], c: scratch[2] }, { ...d, variant: 'tex', packA });
      const n = step.dispatchCount;
      step.discard();
      scratch.forEach((b) => gpu.release(b));
      return n;
    };
    for (const [d, copied] of cases) {
      expect(dispatches(d), JSON.stringify(d)).toBe(copied ? 1 : 2);
      await check({ ...d, variant: 'tex' }, true);
      await check({ ...d, variant: 'tex', packA: true });
    }
    // op(A) packed: copied too where its rows are 256 bytes apart (or a multiple), untransposed.
    const packedA: Array<[GemmDims, number]> = [
      [{ m: 40, n: 64, k: 64 }, 1],
      [{ m: 7, n: 20, k: 128 }, 2],                       // B's rows 80 bytes apart: packed
      [{ m: 40, n: 64, k: 60, lda: 64 }, 1],
      [{ m: 40, n: 64, k: 60 }, 2],                       // A's rows 240 bytes apart: packed
      [{ m: 64, n: 64, k: 40, transA: true }, 2],
    ];
    for (const [d, n] of packedA) {
      expect(dispatches(d, true), `packA ${JSON.stringify(d)}`).toBe(n);
      await check({ ...d, variant: 'tex', packA: true }, true);
    }
  });

  it('the default variant: tex from 2^26 multiply-adds (2^22 for plain ones), op(A) packed only where it pays', async () => {
    const { gpu } = ctx;
    /** For a default-variant gemm: undefined if not 'tex', else whether op(A) is packed. */
    const packsA = (m: number, n: number, k: number, transA = false) => {
      const [a, b, c] = [m * k, k * n, m * n].map((len) => gpu.buffer(len * 4));
      const step = gpu.step('collect', { collectOnly: true });
      gemm(step, { a, b, c }, { m, n, k, transA });
      const tex = step.pipelinesNeeded().find((p) => p.kernel.entry === 'gemm_tex');
      step.discard();
      [a, b, c].forEach((buf) => gpu.release(buf));
      return tex ? !tex.constants?.A_BUF : undefined;
    };
    if (gpu.tuning.gemmVariant !== 'tex') return expect(packsA(1024, 1024, 64)).toBeUndefined();
    expect(packsA(1024, 1024, 64)).toBe(true);          // MN/(M+N) = 512 uses of each A element
    expect(packsA(8192, 32, 512)).toBe(false);          // 32 uses: A read from its buffer
    expect(packsA(8192, 32, 513)).toBe(true);           // rows of A not vec4-aligned
    expect(packsA(512, 16, 8192, true)).toBe(false);    // a dW: colsᵀ read as vec4 rows
    // Below 2^26, only untransposed aligned A over at least 16 columns, from 2^22 (one pipeline):
    expect(packsA(4096, 32, 200)).toBe(false);          // 26M
    expect(packsA(64, 128, 784)).toBe(false);           // LeNet dense1 forward (6.4M)
    expect(packsA(200, 16, 12544, true)).toBeUndefined(); // conv2 dW: 'reg'
    expect(packsA(50176, 8, 28)).toBeUndefined();       // conv1 forward: N = 8, gemm_tex_thin (below)
    expect(packsA(12544, 16, 200)).toBeUndefined();     // conv2 forward: N = 16, gemm_tex_thin
    expect(packsA(4096, 16, 257)).toBeUndefined();      // unaligned A would need packing
    expect(packsA(64, 16, 2048)).toBeUndefined();       // 2M multiply-adds
  });

  it('the default variant: gemm_tex_thin for 4 < N <= 16 over rows enough to fill the device', async () => {
    const { gpu } = ctx;
    /** The GEMM entry point a default-variant gemm takes, and its A_SHIFT and NQ. */
    const entry = (m: number, n: number, k: number, extra: Partial<GemmDims> = {}) => {
      const lda = extra.lda ?? k;
      const [a, b, c] = [m * lda, k * n, m * n].map((len) => gpu.buffer(Math.ceil(len / 4) * 16));
      const step = gpu.step('collect', { collectOnly: true });
      gemm(step, { a, b, c }, { m, n, k, ...extra });
      const p = step.pipelinesNeeded().find((x) => x.kernel.entry.startsWith('gemm_') && x.kernel.entry !== 'gemm_pack')!;
      step.discard();
      [a, b, c].forEach((buf) => gpu.release(buf));
      return p.kernel.entry === 'gemm_tex_thin' ? `thin ${p.constants?.A_SHIFT} ${p.constants?.NQ}` : p.kernel.entry;
    };
    if (gpu.tuning.gemmVariant !== 'tex') return expect(entry(50176, 8, 25)).not.toMatch(/thin/);
    expect(entry(50176, 8, 25, { lda: 28 })).toBe('thin 0 2'); // LeNet conv1 forward (im2col rows padded)
    expect(entry(50176, 8, 25)).toBe('thin 1 2');              // the bench's conv1 GEMM: rows not vec4-aligned
    expect(entry(8192, 5, 27)).toBe('thin 3 2');
    expect(entry(50176, 10, 25)).toBe('thin 1 3');
    expect(entry(12544, 16, 200)).toBe('thin 0 4');            // LeNet conv2 forward
    expect(entry(50176, 4, 25)).toBe('gemm_reg');              // N <= 4: half the thread's work wasted
    expect(entry(50176, 17, 25)).toBe('gemm_reg');             // N > 16
    expect(entry(7936, 8, 100)).toBe('gemm_reg');              // 31 workgroups of 256 rows: fewer than 32
    expect(entry(25, 8, 50176, { transA: true })).toBe('gemm_reg'); // conv1 dW
  });
});

describe('gemm_tex_thin with and without subgroup quads', () => {
  const plain = useGpu({ subgroups: false });
  // Rows that leave the last quad of threads partly past M (1001: 251 threads; 9: 3), padded rows.
  // N from 5 to 16: 2, 3 and 4 column quads a thread.
  const shapes: Array<[number, number, number, number]> = [
    [1001, 7, 25, 25], [4097, 8, 27, 28], [9, 5, 3, 3], [1029, 6, 61, 63], [13, 8, 4, 4],
    [1001, 12, 25, 25], [4097, 16, 27, 28], [9, 13, 3, 3], [1029, 10, 61, 63], [13, 16, 4, 4],
  ];

  it('quads share B where the adapter has subgroups', async () => {
    expect(ctx.gpu.subgroups).toBe(!!ctx.gpu.source?.adapter.features.has('subgroups'));
    expect(plain.gpu.subgroups).toBe(false);
    for (const [m, n, k, lda] of shapes) {
      await check({ m, n, k, lda, variant: 'tex' }, true);
      await check({ m, n, k, lda, variant: 'tex', activation: 'relu' });
    }
  });

  it('each invocation fetches all of B without them', async () => {
    for (const [m, n, k, lda] of shapes) {
      await check({ m, n, k, lda, variant: 'tex' }, true, plain.gpu);
      await check({ m, n, k, lda, variant: 'tex', activation: 'relu' }, false, plain.gpu);
    }
  });
});
