// Fast CPU GEMM: c[M,N] (+)= op(a)·op(b) on Float32Array, single-threaded. gemm() runs it on
// WebAssembly SIMD (gemm-simd.ts, 5-12× faster) where the engine has it; this file's JS kernel is
// the fallback, and the oracle the SIMD kernel is tested against.
//
// Structure (after BLIS): the N dimension is cut into NC-wide blocks, K into KC-deep blocks, M into
// MC-tall blocks; inside, a 4×8 register-blocked micro-kernel (32 accumulators in locals) walks
// the k dimension of one MR-row panel of op(a) and one NR-column panel of op(b). Panels are packed into
// contiguous k-major scratch when they are reused often enough to pay for the copy (or when their
// natural layout is unfriendly: a transposed b); otherwise the kernel reads them in place through
// strides, which matters for the skinny products of a CNN (e.g. [36864×25]·[25×8]). Partial edge
// panels are always packed and zero-padded, so the kernel never reads out of bounds and every size
// works, including 1 and non-multiples of the blocks.
//
// Scratch (the packed panels) lives in module-level buffers that grow as needed, so steady-state
// calls allocate nothing. c must not alias a or b.

import { gemmSimd, releaseSimdGemm } from './gemm-simd.js';

/** Rows and columns of the register block computed by the micro-kernel. */
const MR = 4;
const NR = 8;

/** Cache blocking. The defaults won the comparison in gemm-bench.ts. */
export interface GemmBlocking {
  /** Rows of op(a) per block (the packed A block, MC×KC, stays in L2). */
  mc: number;
  /** Depth of a block (one packed B panel KC×NR stays in L1). */
  kc: number;
  /** Columns of op(b) per block. */
  nc: number;
  /** Pack A panels only when N exceeds this (each panel is then reused over N/NR column panels). */
  packANAbove: number;
  /** Pack B (when not transposed) only when N exceeds this (its rows are then far apart). */
  packBNAbove: number;
}

export const DEFAULT_BLOCKING: Readonly<GemmBlocking> = Object.freeze({
  mc: 128,
  kc: 256,
  nc: 1024,
  packANAbove: 16,
  packBNAbove: 32,
});

let packA = new Float32Array(0);
let packB = new Float32Array(0);
const edgeTile = new Float64Array(MR * NR);

/** Frees the packing scratch and the SIMD module's memory (they grow again on the next call). */
export function releaseGemmScratch(): void {
  packA = new Float32Array(0);
  packB = new Float32Array(0);
  releaseSimdGemm();
}

/**
 * c[M,N] (+)= op(a)·op(b), on WebAssembly SIMD (gemm-simd.ts) where the engine has it, else on the
 * JS kernel below (gemmBlocked). a is [M,K], or with transA stored [K,M]; b is [K,N], or with transB
 * stored [N,K]; c is [M,N] row-major. Without accumulate c is overwritten (its old contents,
 * NaN included, are never read).
 */
export function gemm(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  accumulate = false,
): void {
  if (M > 0 && N > 0 && K > 0 && sizesFit(a, b, c, M, N, K)) {
    if (gemmSimd(a, b, c, M, N, K, transA, transB, accumulate)) return;
  }
  gemmBlocked(a, b, c, M, N, K, transA, transB, accumulate, DEFAULT_BLOCKING);
}

const sizesFit = (a: Float32Array, b: Float32Array, c: Float32Array, M: number, N: number, K: number) =>
  a.length >= M * K && b.length >= K * N && c.length >= M * N;

/** gemm with explicit cache blocking (for benchmarks and tuning). */
export function gemmBlocked(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  accumulate: boolean,
  blocking: Readonly<GemmBlocking>,
): void {
  if (M <= 0 || N <= 0) return;
  if (a.length < M * K || b.length < K * N || c.length < M * N) {
    throw new Error(
      `gemm: buffers too small for M=${M} N=${N} K=${K} ` +
        `(a ${a.length}, b ${b.length}, c ${c.length})`,
    );
  }
  if (K <= 0) {
    if (!accumulate) c.fill(0, 0, M * N);
    return;
  }
  const MC = Math.max(MR, Math.floor(blocking.mc / MR) * MR);
  const KC = Math.max(1, blocking.kc);
  const NC = Math.max(NR, Math.floor(blocking.nc / NR) * NR);
  const mcMax = Math.min(MC, M);
  const kcMax = Math.min(KC, K);
  const ncMax = Math.min(NC, N);
  const doPackA = N > blocking.packANAbove;
  const doPackB = transB || N > blocking.packBNAbove;
  const needA = (doPackA ? Math.ceil(mcMax / MR) : 1) * MR * kcMax;
  const needB = (doPackB ? Math.ceil(ncMax / NR) : 1) * NR * kcMax;
  if (packA.length < needA) packA = new Float32Array(needA);
  if (packB.length < needB) packB = new Float32Array(needB);
  // In-place strides of op(a): element (i, k) is at i * ars + k * acs.
  const ars = transA ? 1 : K;
  const acs = transA ? M : 1;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      const store = pc === 0 && !accumulate;
      if (doPackB) {
        for (let jr = 0, off = 0; jr < nc; jr += NR, off += kc * NR) {
          packPanelB(b, transB, N, K, jc + jr, Math.min(NR, nc - jr), pc, kc, packB, off);
        }
      } else if (nc % NR !== 0) {
        const jr = nc - (nc % NR);
        packPanelB(b, transB, N, K, jc + jr, nc - jr, pc, kc, packB, 0);
      }
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        if (doPackA) {
          for (let ir = 0, off = 0; ir < mc; ir += MR, off += kc * MR) {
            packPanelA(a, transA, M, K, ic + ir, Math.min(MR, mc - ir), pc, kc, packA, off);
          }
        } else if (mc % MR !== 0) {
          const ir = mc - (mc % MR);
          packPanelA(a, transA, M, K, ic + ir, mc - ir, pc, kc, packA, 0);
        }
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          // Where this column panel is read from: packed, or b in place (row stride N).
          let B = b;
          let pb = pc * N + jc + jr;
          let bcs = N;
          if (doPackB) {
            B = packB;
            pb = (jr / NR) * kc * NR;
            bcs = NR;
          } else if (nr < NR) {
            B = packB;
            pb = 0;
            bcs = NR;
          }
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir);
            const ci = (ic + ir) * N + jc + jr;
            if (doPackA) {
              kernel(kc, packA, (ir / MR) * kc * MR, 1, MR, B, pb, bcs, c, ci, N, mr, nr, store);
            } else if (mr < MR) {
              kernel(kc, packA, 0, 1, MR, B, pb, bcs, c, ci, N, mr, nr, store);
            } else {
              const pa = transA ? pc * M + ic + ir : (ic + ir) * K + pc;
              kernel(kc, a, pa, ars, acs, B, pb, bcs, c, ci, N, mr, nr, store);
            }
          }
        }
      }
    }
  }
}

/** Packs op(a) rows [i0, i0+mr) × k [pc, pc+kc) into dst at off, k-major (kc × MR), zero-padded. */
function packPanelA(
  a: Float32Array,
  transA: boolean,
  M: number,
  K: number,
  i0: number,
  mr: number,
  pc: number,
  kc: number,
  dst: Float32Array,
  off: number,
): void {
  if (!transA) {
    for (let r = 0; r < mr; r++) {
      let src = (i0 + r) * K + pc;
      let d = off + r;
      for (let k = 0; k < kc; k++) {
        dst[d] = a[src++];
        d += MR;
      }
    }
  } else {
    let src = pc * M + i0;
    let d = off;
    if (mr === MR) {
      for (let k = 0; k < kc; k++) {
        dst[d] = a[src];
        dst[d + 1] = a[src + 1];
        dst[d + 2] = a[src + 2];
        dst[d + 3] = a[src + 3];
        src += M;
        d += MR;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < mr; r++) dst[d + r] = a[src + r];
        src += M;
        d += MR;
      }
    }
  }
  for (let r = mr; r < MR; r++) {
    let d = off + r;
    for (let k = 0; k < kc; k++) {
      dst[d] = 0;
      d += MR;
    }
  }
}

/** Packs op(b) k [pc, pc+kc) × columns [j0, j0+nr) into dst at off, k-major (kc × NR), zero-padded. */
function packPanelB(
  b: Float32Array,
  transB: boolean,
  N: number,
  K: number,
  j0: number,
  nr: number,
  pc: number,
  kc: number,
  dst: Float32Array,
  off: number,
): void {
  if (!transB) {
    let src = pc * N + j0;
    let d = off;
    if (nr === NR) {
      for (let k = 0; k < kc; k++) {
        dst[d] = b[src];
        dst[d + 1] = b[src + 1];
        dst[d + 2] = b[src + 2];
        dst[d + 3] = b[src + 3];
        dst[d + 4] = b[src + 4];
        dst[d + 5] = b[src + 5];
        dst[d + 6] = b[src + 6];
        dst[d + 7] = b[src + 7];
        src += N;
        d += NR;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let j = 0; j < nr; j++) dst[d + j] = b[src + j];
        src += N;
        d += NR;
      }
    }
  } else {
    for (let j = 0; j < nr; j++) {
      let src = (j0 + j) * K + pc;
      let d = off + j;
      for (let k = 0; k < kc; k++) {
        dst[d] = b[src++];
        d += NR;
      }
    }
  }
  for (let j = nr; j < NR; j++) {
    let d = off + j;
    for (let k = 0; k < kc; k++) {
      dst[d] = 0;
      d += NR;
    }
  }
}

/**
 * The micro-kernel: the 4×8 block of c at ci (row stride ldc) (+)= Σ_k A(i, k)·B(k, j), kc steps,
 * where A(i, k) = A[pa + i·ars + k·acs] and B(k, j) = B[pb + k·bcs + j]. Only the top-left mr×nr of
 * the block is written (edge panels are zero-padded, so computing the rest is harmless).
 */
function kernel(
  kc: number,
  A: Float32Array,
  pa: number,
  ars: number,
  acs: number,
  B: Float32Array,
  pb: number,
  bcs: number,
  c: Float32Array,
  ci: number,
  ldc: number,
  mr: number,
  nr: number,
  store: boolean,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0, c34 = 0, c35 = 0, c36 = 0, c37 = 0;
  const o1 = ars;
  const o2 = 2 * ars;
  const o3 = 3 * ars;
  for (let k = 0; k < kc; k++) {
    const a0 = A[pa];
    const a1 = A[pa + o1];
    const a2 = A[pa + o2];
    const a3 = A[pa + o3];
    const b0 = B[pb];
    const b1 = B[pb + 1];
    const b2 = B[pb + 2];
    const b3 = B[pb + 3];
    const b4 = B[pb + 4];
    const b5 = B[pb + 5];
    const b6 = B[pb + 6];
    const b7 = B[pb + 7];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c04 += a0 * b4; c05 += a0 * b5; c06 += a0 * b6; c07 += a0 * b7;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c14 += a1 * b4; c15 += a1 * b5; c16 += a1 * b6; c17 += a1 * b7;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c24 += a2 * b4; c25 += a2 * b5; c26 += a2 * b6; c27 += a2 * b7;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    c34 += a3 * b4; c35 += a3 * b5; c36 += a3 * b6; c37 += a3 * b7;
    pa += acs;
    pb += bcs;
  }
  if (mr === 4 && nr === 8) {
    if (store) {
      c[ci] = c00; c[ci + 1] = c01; c[ci + 2] = c02; c[ci + 3] = c03;
      c[ci + 4] = c04; c[ci + 5] = c05; c[ci + 6] = c06; c[ci + 7] = c07;
      ci += ldc;
      c[ci] = c10; c[ci + 1] = c11; c[ci + 2] = c12; c[ci + 3] = c13;
      c[ci + 4] = c14; c[ci + 5] = c15; c[ci + 6] = c16; c[ci + 7] = c17;
      ci += ldc;
      c[ci] = c20; c[ci + 1] = c21; c[ci + 2] = c22; c[ci + 3] = c23;
      c[ci + 4] = c24; c[ci + 5] = c25; c[ci + 6] = c26; c[ci + 7] = c27;
      ci += ldc;
      c[ci] = c30; c[ci + 1] = c31; c[ci + 2] = c32; c[ci + 3] = c33;
      c[ci + 4] = c34; c[ci + 5] = c35; c[ci + 6] = c36; c[ci + 7] = c37;
    } else {
      c[ci] += c00; c[ci + 1] += c01; c[ci + 2] += c02; c[ci + 3] += c03;
      c[ci + 4] += c04; c[ci + 5] += c05; c[ci + 6] += c06; c[ci + 7] += c07;
      ci += ldc;
      c[ci] += c10; c[ci + 1] += c11; c[ci + 2] += c12; c[ci + 3] += c13;
      c[ci + 4] += c14; c[ci + 5] += c15; c[ci + 6] += c16; c[ci + 7] += c17;
      ci += ldc;
      c[ci] += c20; c[ci + 1] += c21; c[ci + 2] += c22; c[ci + 3] += c23;
      c[ci + 4] += c24; c[ci + 5] += c25; c[ci + 6] += c26; c[ci + 7] += c27;
      ci += ldc;
      c[ci] += c30; c[ci + 1] += c31; c[ci + 2] += c32; c[ci + 3] += c33;
      c[ci + 4] += c34; c[ci + 5] += c35; c[ci + 6] += c36; c[ci + 7] += c37;
    }
  } else {
    const t = edgeTile;
    t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03; t[4] = c04; t[5] = c05; t[6] = c06; t[7] = c07;
    t[8] = c10; t[9] = c11; t[10] = c12; t[11] = c13;
    t[12] = c14; t[13] = c15; t[14] = c16; t[15] = c17;
    t[16] = c20; t[17] = c21; t[18] = c22; t[19] = c23;
    t[20] = c24; t[21] = c25; t[22] = c26; t[23] = c27;
    t[24] = c30; t[25] = c31; t[26] = c32; t[27] = c33;
    t[28] = c34; t[29] = c35; t[30] = c36; t[31] = c37;
    writeEdge(t, NR, c, ci, ldc, mr, nr, store);
  }
}

function writeEdge(
  t: Float64Array,
  nrFull: number,
  c: Float32Array,
  ci: number,
  ldc: number,
  mr: number,
  nr: number,
  store: boolean,
): void {
  for (let i = 0; i < mr; i++) {
    const ti = i * nrFull;
    const row = ci + i * ldc;
    if (store) for (let j = 0; j < nr; j++) c[row + j] = t[ti + j];
    else for (let j = 0; j < nr; j++) c[row + j] += t[ti + j];
  }
}
