// CPU GEMM on WebAssembly SIMD: c[M,N] (+)= op(a)·op(b), 4 rows × 8 columns of c a register block
// (8 f32x4 accumulators), the k loop reading one 8-wide row of a packed B panel and splatting one
// value from each of 4 rows of A. Float32 accumulation, as on the GPU (the JS kernel of gemm.ts
// accumulates in float64 because JS arithmetic is float64 anyway).
//
// The operands are copied into the module's memory first: op(a) row-major [Mp, K] as stored, or
// when transposed in 4-row panels [Mp / 4][K][4] (the kernel takes A's strides), op(b) as 8-column panels [Np / 8][K][8] (B's
// transpose resolved while copying), both zero-padded to whole blocks; c comes back from [Mp, Np]. Copies are O(MK + KN + MN) against O(MNK) arithmetic.
// The memory is the module's scratch: it grows as needed and is dropped by releaseSimdGemm().

import { encodeModule, I32, op, V128, type Code } from './wasm-encoder.js';

const MR = 4;
const NV = 2; // f32x4 vectors per row of the register block
const NR = 4 * NV;
/** Beyond this many bytes of operands the JS kernel is used (keeps i32 addresses far from overflow). */
const MAX_BYTES = 1 << 30;

// Parameters of the exported `gemm` (byte offsets for the matrices, counts for the sizes).
// A's element (i + r, k), for i a multiple of MR and r < MR, is at byte a + i·ars + r·arr + k·acs.
const P = { a: 0, b: 1, c: 2, mp: 3, np: 4, k: 5, mc: 6, ars: 7, arr: 8, acs: 9 } as const;
const PARAMS = 10;

function kernelBody(): { locals: Array<[number, number]>; body: Code } {
  let next = PARAMS;
  const i32 = () => next++;
  const ib = i32(), iend = i32(), p = i32(), i = i32(), kk = i32(), pb = i32(), pc = i32();
  const kBytes = i32(), npBytes = i32();
  const pa = Array.from({ length: MR }, i32);
  const i32Count = next - PARAMS;
  const v = () => next++;
  const acc = Array.from({ length: MR }, () => Array.from({ length: NV }, v));
  const bv = Array.from({ length: NV }, v);
  const s = v();
  const v128Count = next - PARAMS - i32Count;
  const { get, set } = op;
  const add = (x: number, y: Code): Code => [...get(x), ...y, ...op.i32Add, ...set(x)];

  const inner: Code = [
    ...bv.flatMap((b, j) => [...get(pb), ...op.v128Load(16 * j), ...set(b)]),
    ...pa.flatMap((rowPtr, r) => [
      ...get(rowPtr), ...op.v128Load32Splat(), ...set(s),
      ...bv.flatMap((b, j) => [
        ...get(acc[r][j]), ...get(s), ...get(b), ...op.f32x4Mul, ...op.f32x4Add, ...set(acc[r][j]),
      ]),
    ]),
    ...pa.flatMap((rowPtr) => add(rowPtr, get(P.acs))),
    ...add(pb, op.i32(4 * NR)),
    ...get(kk), ...op.i32(1), ...op.i32Sub, ...op.tee(kk), ...op.brIf(0),
  ];
  const block: Code = [
    // pa[0] = a + i·ars, pa[r] = pa[r − 1] + arr; pb = b + p·K·4 (panel p / 8 of K·8 values)
    ...get(P.a), ...get(i), ...get(P.ars), ...op.i32Mul, ...op.i32Add, ...set(pa[0]),
    ...pa.slice(1).flatMap((rowPtr, r) => [...get(pa[r]), ...get(P.arr), ...op.i32Add, ...set(rowPtr)]),
    ...get(P.b), ...get(p), ...get(kBytes), ...op.i32Mul, ...op.i32Add, ...set(pb),
    ...acc.flat().flatMap((x) => [...op.v128Zero, ...set(x)]),
    ...get(P.k), ...set(kk),
    ...op.loop, ...inner, ...op.end,
    // pc = c + (i·np + p)·4
    ...get(P.c), ...get(i), ...get(P.np), ...op.i32Mul, ...get(p), ...op.i32Add, ...op.i32(4), ...op.i32Mul,
    ...op.i32Add, ...set(pc),
    ...acc.flatMap((row, r) => [
      ...row.flatMap((x, j) => [...get(pc), ...get(x), ...op.v128Store(16 * j)]),
      ...(r < MR - 1 ? add(pc, get(npBytes)) : []),
    ]),
  ];
  const body: Code = [
    ...get(P.k), ...op.i32(4), ...op.i32Mul, ...set(kBytes),
    ...get(P.np), ...op.i32(4), ...op.i32Mul, ...set(npBytes),
    ...op.i32(0), ...set(ib),
    ...op.loop, // row blocks of mc rows: ib
    ...get(ib), ...get(P.mc), ...op.i32Add, ...set(iend),
    ...get(iend), ...get(P.mp), ...get(iend), ...get(P.mp), ...op.i32LtU, ...op.select, ...set(iend),
    ...op.i32(0), ...set(p),
    ...op.loop, // column panels: p
    ...get(ib), ...set(i),
    ...op.loop, // register blocks down the row block: i
    ...block,
    ...add(i, op.i32(MR)), ...get(i), ...get(iend), ...op.i32LtU, ...op.brIf(0),
    ...op.end,
    ...add(p, op.i32(NR)), ...get(p), ...get(P.np), ...op.i32LtU, ...op.brIf(0),
    ...op.end,
    ...add(ib, get(P.mc)), ...get(ib), ...get(P.mp), ...op.i32LtU, ...op.brIf(0),
    ...op.end,
  ];
  return { locals: [[i32Count, I32], [v128Count, V128]], body };
}

/** The module's bytes (exports `memory` and `gemm`). */
export function simdGemmModule(): Uint8Array<ArrayBuffer> {
  const { locals, body } = kernelBody();
  return encodeModule([{ name: 'gemm', params: new Array<number>(PARAMS).fill(I32), locals, body }]);
}

interface SimdGemm {
  memory: WebAssembly.Memory;
  run(a: number, b: number, c: number, mp: number, np: number, k: number, mc: number, ars: number, arr: number, acs: number): void;
}

let instance: SimdGemm | null | undefined;

function load(): SimdGemm | null {
  if (typeof WebAssembly !== 'object') return null;
  const bytes = simdGemmModule();
  if (!WebAssembly.validate(bytes)) return null; // no SIMD in this engine
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  return { memory: exports.memory as WebAssembly.Memory, run: exports.gemm as SimdGemm['run'] };
}

/** Whether this engine runs WebAssembly SIMD (the module is built and checked once). */
export function simdGemmAvailable(): boolean {
  if (instance === undefined) instance = load();
  return instance !== null;
}

/** Drops the module and its memory (a new one is made on the next call). */
export function releaseSimdGemm(): void {
  instance = undefined;
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/**
 * c[M,N] (+)= op(a)·op(b) as gemm() in gemm.ts (same layouts and arguments; M, N, K ≥ 1).
 * Returns false, doing nothing, where WebAssembly SIMD is missing or the operands are too large.
 */
export function gemmSimd(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  accumulate: boolean,
): boolean {
  if (!simdGemmAvailable()) return false;
  const mp = roundUp(M, MR);
  const np = roundUp(N, NR);
  const aOff = 0;
  const bOff = aOff + mp * K;
  const cOff = bOff + np * K;
  const bytes = 4 * (cOff + mp * np);
  if (bytes > MAX_BYTES) return false;
  const { memory, run } = instance!;
  const missing = Math.ceil((bytes - memory.buffer.byteLength) / 65536);
  if (missing > 0) memory.grow(missing);
  const mem = new Float32Array(memory.buffer);
  const [ars, arr, acs] = packA(a, M, K, transA, mem, aOff, mp);
  packB(b, N, K, transB, mem, bOff, np);
  // Rows of A per block: about 256 KiB of them, so that they stay in L2 across the column panels.
  const mc = Math.max(MR, Math.floor(65536 / K / MR) * MR);
  run(4 * aOff, 4 * bOff, 4 * cOff, mp, np, K, mc, ars, arr, acs);
  if (!accumulate && np === N) {
    c.set(mem.subarray(cOff, cOff + M * N));
  } else {
    for (let i = 0; i < M; i++) {
      const src = cOff + i * np;
      if (accumulate) for (let j = 0, d = i * N; j < N; j++, d++) c[d] += mem[src + j];
      else c.set(mem.subarray(src, src + N), i * N);
    }
  }
  return true;
}

/**
 * op(a) into mem at off, padded to mp rows with zeros: row-major [mp, K] as a is stored, or with
 * transA (a stored [K, M]) as mp / 4 panels [K][4], so that a block of 4 rows reads 16 contiguous
 * bytes a step. Returns A's byte strides [ars, arr, acs] for the kernel.
 */
function packA(a: Float32Array, M: number, K: number, transA: boolean, mem: Float32Array, off: number, mp: number): [number, number, number] {
  if (!transA) {
    mem.set(a.subarray(0, M * K), off);
    mem.fill(0, off + M * K, off + mp * K);
    return [4 * K, 4 * K, 4];
  }
  // a as stored: rows i..i+3 of op(a) at step k are 16 contiguous bytes. Past the last of the M
  // values of a step, a block reads into the next step (or the zeros after a): those rows of c
  // are padding and are never copied out.
  mem.set(a.subarray(0, K * M), off);
  mem.fill(0, off + K * M, off + K * mp);
  return [4, 4, 4 * M];
}

/** op(b) into mem at off as np / 8 panels of [K][8], columns N..np zero. */
function packB(b: Float32Array, N: number, K: number, transB: boolean, mem: Float32Array, off: number, np: number): void {
  for (let j0 = 0; j0 < np; j0 += NR) {
    const base = off + j0 * K;
    const cols = Math.min(NR, N - j0);
    if (!transB && cols === NR) {
      for (let k = 0, src = j0, d = base; k < K; k++, src += N, d += NR) {
        for (let j = 0; j < NR; j++) mem[d + j] = b[src + j];
      }
      continue;
    }
    for (let j = 0; j < NR; j++) {
      let d = base + j;
      if (j >= cols) {
        for (let k = 0; k < K; k++, d += NR) mem[d] = 0;
      } else if (transB) {
        // b is stored [N, K]: column j0 + j of op(b) is row j0 + j of b.
        for (let k = 0, src = (j0 + j) * K; k < K; k++, d += NR) mem[d] = b[src + k];
      } else {
        for (let k = 0, src = j0 + j; k < K; k++, src += N, d += NR) mem[d] = b[src];
      }
    }
  }
}
