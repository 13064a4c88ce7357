// The WebAssembly SIMD GEMM of the cpu backend (cpu-fast/gemm-simd.ts) and the binary writer that
// generates it (cpu-fast/wasm-encoder.ts), against a float64 product written from the definition.
//
// Tolerance: the SIMD kernel sums K float32 products in float32, so each output may be off by
// about K·2⁻²⁴ of Σ_k |a_ik·b_kj| (the classic dot-product bound); we allow twice that, plus the
// final rounding. A wrong index or a lost term is off by a whole term, far beyond it.

import { describe, expect, it } from 'vitest';
import { Rng } from '../packages/core/src/rng.ts';
import { gemmBlocked, DEFAULT_BLOCKING } from '../packages/core/src/backends/cpu-fast/gemm.ts';
import {
  gemmSimd,
  releaseSimdGemm,
  simdGemmAvailable,
  simdGemmModule,
} from '../packages/core/src/backends/cpu-fast/gemm-simd.ts';
import { encodeModule, sleb, uleb } from '../packages/core/src/backends/cpu-fast/wasm-encoder.ts';

const U = 2 ** -24;

function randomArray(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

/** op(a)·op(b) in float64, with Σ|terms| of each output. */
function naive(a: Float32Array, b: Float32Array, M: number, N: number, K: number, tA: boolean, tB: boolean) {
  const c = new Float64Array(M * N);
  const scale = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let t = 0;
      for (let k = 0; k < K; k++) {
        const p = (tA ? a[k * M + i] : a[i * K + k]) * (tB ? b[j * K + k] : b[k * N + j]);
        s += p;
        t += Math.abs(p);
      }
      c[i * N + j] = s;
      scale[i * N + j] = t;
    }
  }
  return { c, scale };
}

function expectWithinBound(got: Float32Array, want: Float64Array, scale: Float64Array, K: number, what: string): void {
  let worst = -1;
  for (let i = 0; i < want.length; i++) {
    const bound = 2 * (K + 1) * U * scale[i] + U * Math.abs(want[i]);
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= bound)) {
      worst = i;
      break;
    }
  }
  expect(worst, `${what}: first output outside the bound: ${worst} (${got[worst]} vs ${want[worst]})`).toBe(-1);
}

function checkSimd(rng: Rng, M: number, N: number, K: number, tA: boolean, tB: boolean): void {
  const what = `gemmSimd M=${M} N=${N} K=${K} tA=${tA} tB=${tB}`;
  const a = randomArray(rng, M * K);
  const b = randomArray(rng, K * N);
  const { c: want, scale } = naive(a, b, M, N, K, tA, tB);
  const c = new Float32Array(M * N).fill(NaN); // old contents must never be read
  expect(gemmSimd(a, b, c, M, N, K, tA, tB, false), what).toBe(true);
  expectWithinBound(c, want, scale, K, what);
  const c0 = randomArray(rng, M * N);
  const acc = Float32Array.from(c0);
  expect(gemmSimd(a, b, acc, M, N, K, tA, tB, true), what).toBe(true);
  const wantAcc = want.map((v, i) => v + c0[i]);
  const scaleAcc = scale.map((v, i) => v + Math.abs(c0[i]));
  expectWithinBound(acc, wantAcc, scaleAcc, K, what + ' accumulate');
}

const TRANSPOSES: Array<[boolean, boolean]> = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

describe('wasm encoder', () => {
  it('writes LEB128 as the specification’s examples', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(0)).toEqual([0]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it('writes modules the engine validates, and one it rejects when a body is broken', () => {
    expect(WebAssembly.validate(encodeModule([]))).toBe(true);
    expect(WebAssembly.validate(simdGemmModule())).toBe(true);
    // A body that leaves an i32 on the stack of a function without results is invalid.
    const broken = encodeModule([{ name: 'f', params: [], locals: [], body: [0x41, 0x01] }]);
    expect(WebAssembly.validate(broken)).toBe(false);
  });
});

describe('cpu SIMD gemm', () => {
  it('is available in this engine (so the cases below test it, not a fallback)', () => {
    expect(simdGemmAvailable()).toBe(true);
  });

  for (const [tA, tB] of TRANSPOSES) {
    it(`matches the float64 product on odd and block-crossing shapes, tA=${tA} tB=${tB}`, () => {
      const rng = new Rng(7100 + (tA ? 2 : 0) + (tB ? 1 : 0));
      const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 13, 17];
      for (const M of sizes) for (const N of sizes) for (const K of [1, 3, 8, 31]) checkSimd(rng, M, N, K, tA, tB);
      // The LeNet products (shrunk along their long side) and row blocks of A crossed (mc < M).
      for (const [M, N, K] of [
        [1571, 8, 25],
        [393, 16, 200],
        [25, 8, 1571],
        [201, 16, 393],
        [393, 200, 16],
        [64, 128, 784],
        [37, 10, 20000],
        [130, 33, 1000],
      ]) {
        checkSimd(rng, M, N, K, tA, tB);
      }
    });
  }

  it('keeps every row of c to its own row of A (rows past M read other data but are never copied out)', () => {
    const rng = new Rng(7200);
    for (const M of [5, 6, 7]) {
      const K = 9;
      const N = 3;
      const a = randomArray(rng, K * M); // stored [K, M]: transposed
      a[4 * M + (M - 1)] = Infinity; // op(a)(M − 1, 4): only row M − 1 of c may become non-finite
      const b = randomArray(rng, K * N);
      const c = new Float32Array(M * N);
      gemmSimd(a, b, c, M, N, K, true, false, false);
      const { c: want } = naive(a, b, M, N, K, true, false);
      for (let i = 0; i < M - 1; i++) {
        for (let j = 0; j < N; j++) expect(c[i * N + j], `M=${M} row ${i}`).toBeCloseTo(want[i * N + j], 5);
      }
      for (let j = 0; j < N; j++) expect(Number.isFinite(c[(M - 1) * N + j]), `M=${M} last row`).toBe(false);
    }
  });

  it('agrees with the JS kernel, and gives the same results across growing, shrinking and released memory', () => {
    const shapes: Array<[number, number, number]> = [[300, 70, 500], [3, 2, 1], [700, 9, 60], [5, 300, 7]];
    const first: Float32Array[] = [];
    for (let round = 0; round < 2; round++) {
      shapes.forEach(([M, N, K], s) => {
        const seeded = new Rng(7400 + s);
        const a = randomArray(seeded, M * K);
        const b = randomArray(seeded, K * N);
        const c = new Float32Array(M * N);
        expect(gemmSimd(a, b, c, M, N, K, false, true, false)).toBe(true);
        if (round === 0) {
          first.push(c);
          const js = new Float32Array(M * N);
          gemmBlocked(a, b, js, M, N, K, false, true, false, DEFAULT_BLOCKING);
          const { scale } = naive(a, b, M, N, K, false, true);
          expectWithinBound(c, Float64Array.from(js), scale.map((v) => 2 * v), K, `vs JS ${M}×${N}×${K}`);
        } else {
          expect(Array.from(c), `round 2 ${M}×${N}×${K}`).toEqual(Array.from(first[s]));
        }
      });
      releaseSimdGemm();
    }
  });
});
