// Wrappers for shaders/gemm.wgsl: C[M,N] = op(A)·op(B) (+ bias[N]), then an activation.

import { needBytes, needDims } from './check.js';
import type { Step } from './encoder.js';
import { defineKernel } from './kernel.js';
import { uniforms } from './uniforms.js';

const BINDINGS = ['read', 'read', 'read', 'write', 'uniform'] as const;
export const GEMM_KERNELS = {
  tiled: defineKernel('gemm', 'gemm_tiled', BINDINGS),
  direct: defineKernel('gemm', 'gemm_direct', BINDINGS),
};

export type Activation = 'none' | 'relu';
export type GemmVariant = keyof typeof GEMM_KERNELS;

export interface GemmBuffers {
  /** [M,K], or [K,M] with transA. */
  a: GPUBuffer;
  /** [K,N], or [N,K] with transB. */
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
  activation?: Activation;
  /** 'tiled' (workgroup memory) or 'direct' (no barriers); default: the runtime's tuning. */
  variant?: GemmVariant;
  /** Threads per workgroup along N (wgX) and M (wgY), and the K slice (tk) of the tiled variant. */
  tile?: { wgX?: number; wgY?: number; tk?: number };
}

export function gemm(step: Step, buf: GemmBuffers, d: GemmDims): void {
  const { m, n, k } = d;
  needDims({ m, n, k }, 'gemm');
  needBytes(buf.a, m * k, 'gemm A');
  needBytes(buf.b, k * n, 'gemm B');
  needBytes(buf.c, m * n, 'gemm C');
  if (buf.bias) needBytes(buf.bias, n, 'gemm bias');
  if (m === 0 || n === 0) return;
  const wgX = d.tile?.wgX ?? 16;
  const wgY = d.tile?.wgY ?? 16;
  const tk = d.tile?.tk ?? 16;
  const variant = d.variant ?? step.tuning.gemmVariant;
  const tiles = Math.ceil(m / (4 * wgY)) * Math.ceil(n / (4 * wgX));
  // flags: the bits of Params.flags in gemm.wgsl.
  const flags = (d.transA ? 1 : 0) | (d.transB ? 2 : 0) | (buf.bias ? 4 : 0) | (d.activation === 'relu' ? 8 : 0);
  step.dispatch(GEMM_KERNELS[variant], {
    buffers: [buf.a, buf.b, buf.bias ?? step.scratch(0), buf.c],
    uniforms: uniforms().u32(m, n, k, flags).bytes(),
    constants: variant === 'tiled' ? { WG_X: wgX, WG_Y: wgY, TK: tk } : { WG_X: wgX, WG_Y: wgY },
    workgroups: tiles,
  });
}
