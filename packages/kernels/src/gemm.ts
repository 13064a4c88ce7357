// Wrappers for shaders/gemm.wgsl: C[M,N] = op(A)·op(B) (+ bias[N]), then an activation.

import { needBytes, needDims, vec4Bindable } from './check.js';
import type { Step } from './encoder.js';
import { defineKernel } from './kernel.js';
import { uniforms } from './uniforms.js';

const BINDINGS = ['read', 'read', 'read', 'write', 'uniform'] as const;
export const GEMM_KERNELS = {
  tiled: defineKernel('gemm', 'gemm_tiled', BINDINGS),
  direct: defineKernel('gemm', 'gemm_direct', BINDINGS),
  reg: defineKernel('gemm', 'gemm_reg', BINDINGS),
};
/** The second pass of split-K (sums the partial products, applies bias and activation). */
export const GEMM_SPLIT_REDUCE = defineKernel('gemm', 'gemm_split_reduce', BINDINGS);
/** The 'tex' variant (gemm_tex.wgsl): an operand packed into a texture, then the product of two. */
export const GEMM_PACK = defineKernel('gemm_tex', 'gemm_pack', ['read', 'storage-texture', 'uniform']);
const TEX_BINDINGS = ['texture', 'texture', 'read', 'write', 'uniform', 'read'] as const;
export const GEMM_TEX = defineKernel('gemm_tex', 'gemm_tex', TEX_BINDINGS);
/** The 'tex' variant's path for 4 < N <= 16 (see thinPays). */
export const GEMM_TEX_THIN = defineKernel('gemm_tex', 'gemm_tex_thin', TEX_BINDINGS);

export type Activation = 'none' | 'relu';
export type GemmVariant = keyof typeof GEMM_KERNELS | 'tex';

export interface GemmBuffers {
  /** [M,K], or [K,M] with transA (rows `lda` apart). */
  a: GPUBuffer;
  /** [K,N], or [N,K] with transB (rows `ldb` apart). */
  b: GPUBuffer;
  /** [M,N], written. Must not alias a, b or bias. */
  c: GPUBuffer;
  /** [N], added to every row. */
  bias?: GPUBuffer;
}

export interface GemmDims {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  /** A's stored row length, when its rows are padded beyond the packed K (M with transA). */
  lda?: number;
  /** B's stored row length, when its rows are padded beyond the packed N (K with transB). */
  ldb?: number;
  activation?: Activation;
  /**
   * 'tiled' (workgroup memory), 'direct' (no barriers), 'reg' (no barriers, vec4 loads where
   * aligned, workgroup shaped to the output, split-K for few outputs over a long K) or 'tex'
   * (operands packed into textures, 16×16 outputs a thread, split-K); default: the runtime's
   * tuning. 'reg' falls back to 'direct' for buffers whose sizes are not multiples of 16, 'tex'
   * to 'reg' for matrices too large for the device's textures.
   */
  variant?: GemmVariant;
  /** Threads per workgroup along N (wgX) and M (wgY), and the K slice (tk) of the tiled variant. */
  tile?: { wgX?: number; wgY?: number; tk?: number };
  /** 'reg' and 'tex' only: the number of K splits (default: chosen from the shape and `tuning`). */
  splits?: number;
  /** 'tex' only: pack op(A) into a texture too (default: where it pays, see gemmTex; always when unaligned). */
  packA?: boolean;
}

const pow2ceil = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));
const round4 = (x: number) => Math.ceil(x / 4) * 4;

export function gemm(step: Step, buf: GemmBuffers, d: GemmDims): void {
  const { m, n, k } = d;
  needDims({ m, n, k }, 'gemm');
  const lda = d.lda ?? (d.transA ? m : k);
  const ldb = d.ldb ?? (d.transB ? k : n);
  if (!(lda >= (d.transA ? m : k)) || !(ldb >= (d.transB ? k : n)) || !Number.isInteger(lda) || !Number.isInteger(ldb)) {
    throw new Error(`filtro: gemm lda ${lda} / ldb ${ldb} shorter than a row of A [${d.transA ? `${k},${m}` : `${m},${k}`}] / B [${d.transB ? `${n},${k}` : `${k},${n}`}]`);
  }
  needBytes(buf.a, (d.transA ? k : m) * lda, 'gemm A');
  needBytes(buf.b, (d.transB ? n : k) * ldb, 'gemm B');
  needBytes(buf.c, m * n, 'gemm C');
  if (buf.bias) needBytes(buf.bias, n, 'gemm bias');
  if (m === 0 || n === 0) return;
  let variant = d.variant ?? step.tuning.gemmVariant;
  const macs = m * n * k;
  // Below about a million multiply-adds the launch, not the arithmetic, is the cost: 'direct' serves
  // every such GEMM with one pipeline per workgroup shape (its transposes are uniforms), where 'reg'
  // would compile one per layout at start-up. Its 4-row workgroups idle fewer threads on such small
  // outputs and spread them over more workgroups than 16×16 (2-3× faster for LeNet's dense2 on
  // SwiftShader) or 8×8 (1.2-1.4× in Chromium). Along N they take 3 threads, or fewer where N has
  // fewer column quads: at N = 10, 3 instead of 4 (none idle) ran LeNet's dense2 forward 1.4× and
  // its dW 1.2× faster in Chromium, and wider GEMMs (its dX, N = 128) run as fast on 3 as on 4
  // (0.226 vs 0.221 ms in Dawn), so a classifier's last layer compiles one pipeline, not two.
  const small = d.variant === undefined && (variant === 'reg' || variant === 'tex') && macs < (step.tuning.gemmRegMinMacs ?? 2 ** 20);
  if (small) variant = 'direct';
  const wgX = d.tile?.wgX ?? (small ? Math.min(3, Math.ceil(n / 4)) : 16);
  const wgY = d.tile?.wgY ?? (small ? 4 : 16);
  const tk = d.tile?.tk ?? 16;
  // A 'tex' pipeline takes SwiftShader about 0.3 s to compile, twice a 'reg' one, so below 2^26
  // multiply-adds only the plain case takes it: op(A) read untransposed from its own buffer, at
  // least 16 columns (a 16×16 block a thread wastes half its work on 8). Those GEMMs, forward
  // dense and im2col products and dense dX, share one pipeline and run 1.5-2× faster than 'reg'
  // in Chromium (measured on LeNet's conv2 and dense1;
  // conv2's, N = 16, now takes gemm_tex_thin); transposed-A ones (dW) gain little from it.
  const plain = !d.transA && n >= 16 && lda % 4 === 0 && vec4Bindable(buf.a) && macs >= (step.tuning.gemmTexPlainMinMacs ?? 2 ** 22);
  const texPays = d.variant === 'tex' || plain || macs >= (step.tuning.gemmTexMinMacs ?? 2 ** 26);
  if (variant === 'tex' && thinPays(step, buf, d) && gemmTexThin(step, buf, d, lda, ldb)) return;
  if (variant === 'tex' && texPays && gemmTex(step, buf, d, lda, ldb)) return;
  if (variant === 'reg' || variant === 'tex') {
    if (vec4Bindable(buf.a, buf.b)) return gemmReg(step, buf, d, lda, ldb);
    variant = 'direct';
  }
  const tiles = Math.ceil(m / (4 * wgY)) * Math.ceil(n / (4 * wgX));
  // flags: the bits of Params.flags in gemm.wgsl.
  const flags = (d.transA ? 1 : 0) | (d.transB ? 2 : 0) | (buf.bias ? 4 : 0) | (d.activation === 'relu' ? 8 : 0);
  step.dispatch(GEMM_KERNELS[variant], {
    buffers: [buf.a, buf.b, buf.bias ?? step.scratch(0), buf.c],
    uniforms: uniforms().u32(m, n, k, flags, lda, ldb, 0, 0).bytes(),
    constants: variant === 'tiled' ? { WG_X: wgX, WG_Y: wgY, TK: tk } : { WG_X: wgX, WG_Y: wgY },
    workgroups: tiles,
  });
}

/** The 'reg' variant: see gemm_reg in gemm.wgsl. */
function gemmReg(step: Step, buf: GemmBuffers, d: GemmDims, lda: number, ldb: number): void {
  const { m, n, k } = d;
  const t = step.tuning;
  const threads = t.gemmRegThreads ?? 64;
  const wgX = d.tile?.wgX ?? Math.min(pow2ceil(Math.ceil(n / 4)), 16, threads);
  const wgY = d.tile?.wgY ?? regRows(Math.ceil(m / 4), Math.max(1, Math.min(pow2ceil(Math.ceil(m / 4)), Math.floor(threads / wgX))));
  const tilesM = Math.ceil(m / (4 * wgY));
  const tilesN = Math.ceil(n / (4 * wgX));
  const tiles = tilesM * tilesN;
  const { splits, slice } = splitK(d.splits, tiles, t.gemmSplitTarget ?? 32, Math.ceil(k / 4), t.gemmSplitMinK ?? 256);
  const kSlice = splits > 1 ? 4 * slice : Math.max(k, 1);
  const flags = (buf.bias ? 4 : 0) | (d.activation === 'relu' ? 8 : 0);
  // A workgroup of `threads` serves every shape the defaults pick; an explicit larger tile gets its own size.
  const constants = {
    REG_THREADS: Math.max(threads, wgX * wgY), TRANS_A_C: !!d.transA, TRANS_B_C: !!d.transB,
    VEC_A_C: lda % 4 === 0 && (!d.transA || lda >= round4(m)),
    VEC_B_C: ldb % 4 === 0 && (!!d.transB || ldb >= round4(n)),
    A_SHIFT: d.transA ? 0 : lda % 4,
  };
  const params = (s: number) => uniforms().u32(m, n, k, flags, lda, ldb, kSlice, s, tilesM, tilesN, wgX, wgY).bytes();
  const bias = buf.bias ?? step.scratch(0);
  if (splits === 1) {
    step.dispatch(GEMM_KERNELS.reg, { buffers: [buf.a, buf.b, bias, buf.c], uniforms: params(1), constants, workgroups: tiles });
    return;
  }
  const partial = step.temporary(splits * m * n * 4, 'gemm split-K partials');
  step.dispatch(GEMM_KERNELS.reg, { buffers: [buf.a, buf.b, bias, partial], uniforms: params(splits), constants, workgroups: tiles * splits });
  step.dispatch(GEMM_SPLIT_REDUCE, {
    buffers: [partial, step.scratch(1), bias, buf.c],
    uniforms: params(splits),
    constants: { WG_X: 64, WG_Y: 1 },
    workgroups: Math.ceil(m * n / 256),
  });
}

/**
 * gemm_reg's threads along M: `widest`, halved (not below 4) while the last row tile would leave
 * more than a tenth of the `quads` (row quads of C) idle and halving leaves fewer. LeNet's conv2
 * dW (50 quads): 4 tiles of 16 leave 22% idle, 13 of 4 leave 4%; 1.15× faster in Chromium.
 */
function regRows(quads: number, widest: number): number {
  const idle = (wgY: number) => Math.ceil(quads / wgY) * wgY - quads;
  let wgY = widest;
  while (wgY > 4 && idle(wgY) > quads / 10 && idle(wgY / 2) < idle(wgY)) wgY /= 2;
  return wgY;
}

/**
 * Whether a 'tex' GEMM takes gemm_tex_thin (4 rows × N rounded up to 4 columns a thread, no
 * split-K): op(A) untransposed from a vec4-bindable buffer, 4 < N <= 16, and (unless 'tex' was
 * asked for) rows enough for gemmSplitTarget workgroups, which leaves nothing for split-K to gain.
 * An explicit `splits` or `packA` asks for gemm_tex's 16×16 blocks. At N <= 4 half its work would
 * be wasted: 'reg' ran 1.7× faster there (50176×25×4 in Chromium). At N = 16 it ran 1.3-1.5×
 * faster than gemm_tex (LeNet's conv2 forward, 12544×200×16), for one more pipeline to compile.
 */
function thinPays(step: Step, buf: GemmBuffers, d: GemmDims): boolean {
  if (d.transA || d.n <= 4 || d.n > 16 || d.splits !== undefined || d.packA !== undefined || !vec4Bindable(buf.a)) return false;
  return d.variant === 'tex' || Math.ceil(d.m / (4 * TEX_THREADS)) >= (step.tuning.gemmSplitTarget ?? 32);
}

const TEX_THREADS = 64;

/**
 * op(B) packed into packing texture 1 by gemm_pack: K rows (zero rows up to a multiple of 4) of
 * ceil(N / 4) texels, folded into bands of `fold` rows where taller than the device's textures.
 * Null, having recorded nothing, where even folded it would not fit.
 */
function packB(step: Step, buf: GemmBuffers, d: GemmDims, ldb: number): { tex: GPUTexture; fold: number } | null {
  const max = Math.min(step.tuning.gemmTexMaxSize ?? Infinity, step.maxTextureSize);
  const rows = round4(d.k);
  const fold = Math.min(rows, Math.floor(max / 4) * 4);
  const width = Math.ceil(rows / fold) * Math.ceil(d.n / 4);
  if (width > max) return null;
  const tex = step.packTexture(1, width, fold);
  pack(step, buf.b, tex, d.k, d.n, rows, !!d.transB, ldb, fold);
  return { tex, fold };
}

/**
 * X [rows, cols] (element (r, c) at r·ld + c, or c·ld + r with trans) into `dst` by gemm_pack, or
 * by a copy where X's rows already are the packed layout (untransposed, whole texels, no zero rows
 * or bands to add) and WebGPU's 256-byte row pitch allows: no dispatch (LeNet's dense1 forward,
 * B 784×128: the pack was a fifth of the GEMM's time on SwiftShader).
 */
function pack(step: Step, src: GPUBuffer, dst: GPUTexture, rows: number, cols: number, rowsOut: number, trans: boolean, ld: number, fold: number): void {
  const texels = Math.ceil(cols / 4);
  if (!trans && cols % 4 === 0 && rowsOut === rows && fold === rows && (ld * 4) % 256 === 0) {
    step.copyToTexture(src, dst, texels, rows, ld * 4);
    return;
  }
  step.dispatch(GEMM_PACK, {
    buffers: [src, dst],
    uniforms: uniforms().u32(rows, cols, trans ? 1 : ld, trans ? ld : 1, rowsOut, fold, texels, 0).bytes(),
    workgroups: Math.ceil((rowsOut * texels) / 64),
  });
}

/** gemm_tex_thin (see gemm_tex.wgsl and thinPays). False, having recorded nothing, where B does not fit a texture. */
function gemmTexThin(step: Step, buf: GemmBuffers, d: GemmDims, lda: number, ldb: number): boolean {
  const { m, n, k } = d;
  const b = packB(step, buf, d, ldb);
  if (!b) return false;
  const flags = (buf.bias ? 4 : 0) | (d.activation === 'relu' ? 8 : 0);
  const k4 = Math.ceil(k / 4);
  const n4 = Math.ceil(n / 4);
  // TexParams (gemm_tex.wgsl); the fields gemm_tex_thin does not read are given neutral values.
  const params = uniforms().u32(m, n, k4, flags, m, b.fold, n4, k4, 1, 1, 1, 1, 1, k, Math.floor(lda / 4), 1).bytes();
  step.dispatch(GEMM_TEX_THIN, {
    buffers: [step.packTexture(2, 1, 1), b.tex, buf.bias ?? step.scratch(0), buf.c, buf.a],
    uniforms: params,
    constants: { TEX_THREADS, A_SHIFT: lda % 4, NQ: n4 },
    workgroups: Math.ceil(m / (4 * TEX_THREADS)),
  });
  return true;
}

/**
 * The 'tex' variant: see gemm_tex.wgsl. op(B) is always packed; op(A) is packed too where each of
 * its elements is used often enough to pay for it (MN / (M + N) >= gemmTexMinReuse) or where its
 * rows are not vec4-aligned, else read from its buffer. Returns false, having recorded nothing,
 * where a packed operand would not fit the device's largest texture.
 */
function gemmTex(step: Step, buf: GemmBuffers, d: GemmDims, lda: number, ldb: number): boolean {
  const { m, n, k } = d;
  const t = step.tuning;
  const max = Math.min(t.gemmTexMaxSize ?? Infinity, step.maxTextureSize);
  const k4 = Math.ceil(k / 4);
  const n4 = Math.ceil(n / 4);
  const aAligned = lda % 4 === 0 && (!d.transA || lda >= round4(m)) && vec4Bindable(buf.a);
  const packA = !aAligned || (d.packA ?? (m * n) / (m + n) >= (t.gemmTexMinReuse ?? 256));
  const blocks = Math.ceil(m / 16) * Math.ceil(n / 16); // 16×16 outputs a thread
  // op(A): M rows of k4 texels (folded into bands of foldA rows).
  const foldA = packA ? Math.min(m, max) : m;
  const widthA = packA ? Math.ceil(m / foldA) * k4 : 1;
  if (widthA > max) return false;
  const texB = packB(step, buf, d, ldb);
  if (!texB) return false;
  const texA = step.packTexture(packA ? 0 : 2, widthA, packA ? foldA : 1);
  if (packA) pack(step, buf.a, texA, m, k, m, !!d.transA, lda, foldA);

  const threads = TEX_THREADS;
  const wgX = Math.min(pow2ceil(Math.ceil(n / 16)), t.gemmTexMaxWgX ?? 4);
  const wgY = Math.max(1, Math.min(pow2ceil(Math.ceil(m / 16)), Math.floor(threads / wgX)));
  const tilesM = Math.ceil(m / (16 * wgY));
  const tilesN = Math.ceil(n / (16 * wgX));
  const tiles = tilesM * tilesN;
  let { splits, slice } = splitK(d.splits, blocks, t.gemmTexSplitThreads ?? 256, k4, t.gemmSplitMinK ?? 256);
  // Splits fill the threads a narrow tile leaves over (wgS of them share a workgroup).
  let wgS = Math.max(1, Math.min(splits, Math.floor(threads / (wgX * wgY))));
  // A software adapter runs a workgroup's threads on one core: splits that all share the tile's
  // workgroups add no parallelism, only the reduction pass (LeNet's dense1: 1.15× faster unsplit).
  if (d.splits === undefined && splits <= wgS) [splits, slice, wgS] = [1, k4, 1];
  const flags = (buf.bias ? 4 : 0) | (d.activation === 'relu' ? 8 : 0);
  const params = uniforms().u32(m, n, k4, flags, foldA, texB.fold, n4, slice, splits, tilesM, tilesN, wgX, wgY, k, Math.floor(lda / 4), wgS).bytes();
  const constants = { TEX_THREADS: threads, A_BUF: !packA, A_TRANS: !packA && !!d.transA };
  const bias = buf.bias ?? step.scratch(0);
  const out = splits > 1 ? step.temporary(splits * m * n * 4, 'gemm split-K partials') : buf.c;
  const aBuffer = packA ? step.scratch(2) : buf.a;
  step.dispatch(GEMM_TEX, { buffers: [texA, texB.tex, bias, out, aBuffer], uniforms: params, constants, workgroups: tiles * Math.ceil(splits / wgS) });
  if (splits > 1) {
    step.dispatch(GEMM_SPLIT_REDUCE, {
      buffers: [out, step.scratch(1), bias, buf.c],
      uniforms: uniforms().u32(m, n, k, flags, lda, ldb, slice * 4, splits, tilesM, tilesN, wgX, wgY).bytes(),
      constants: { WG_X: 64, WG_Y: 1 },
      workgroups: Math.ceil((m * n) / 256),
    });
  }
  return true;
}

/**
 * How many ways to split K, counted in quads of 4 k (k4 of them): `forced`, else, where fewer than
 * `target` output blocks (workgroups or threads) would run over a long K, enough splits of at least
 * `minK` each for every core to have work. Returns the splits and the quads a split sums.
 */
function splitK(forced: number | undefined, blocks: number, target: number, k4: number, minK: number): { splits: number; slice: number } {
  let splits = forced ?? 1;
  const minSlice = Math.ceil(minK / 4);
  if (forced === undefined && blocks < target && k4 >= 2 * minSlice) splits = Math.min(Math.ceil(target / blocks), Math.floor(k4 / minSlice));
  splits = Math.max(1, Math.min(splits, k4 || 1));
  const slice = Math.ceil(k4 / splits) || 1;
  return { splits: Math.max(1, Math.ceil(k4 / slice)), slice };
}
