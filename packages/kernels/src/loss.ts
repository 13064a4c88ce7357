// Wrappers for shaders/loss.wgsl: softmax over the last axis; softmax cross-entropy (mean loss
// and/or its gradient, fused, max-subtracted so logits of ±1e4 are fine).

import { needBytes, needDims } from './check.js';
import type { Step } from './encoder.js';
import { groupsFor } from './grid.js';
import { defineKernel } from './kernel.js';
import { uniforms } from './uniforms.js';

const XENT = ['read', 'read', 'read', 'write', 'write', 'uniform'] as const;
export const LOSS_KERNELS = {
  softmax: defineKernel('loss', 'softmax_last', ['read', 'write', 'uniform']),
  xentIndex: defineKernel('loss', 'softmax_xent_index', XENT),
  xentProb: defineKernel('loss', 'softmax_xent_prob', XENT),
};

/** y[rows, cols] = softmax of each row of x. */
export function softmax(step: Step, buf: { x: GPUBuffer; y: GPUBuffer }, d: { rows: number; cols: number }): void {
  needDims(d, 'softmax');
  needBytes(buf.x, d.rows * d.cols, 'softmax x');
  needBytes(buf.y, d.rows * d.cols, 'softmax y');
  step.dispatch(LOSS_KERNELS.softmax, {
    buffers: [buf.x, buf.y],
    uniforms: uniforms().u32(d.rows, d.cols).bytes(),
    workgroups: groupsFor(d.rows, 256),
  });
}

export interface SoftmaxCrossEntropyBuffers {
  /** [N, C] */
  logits: GPUBuffer;
  /** i32 class indices [N] ('index'), or f32 target probabilities [N, C] ('prob'). */
  labels: GPUBuffer;
  /** Mean loss, 1 element, written when given. */
  loss?: GPUBuffer;
  /** (softmax − target) · dLoss / N, [N, C], written when given. */
  dLogits?: GPUBuffer;
  /** The upstream gradient of the loss, 1 element; 1 when absent. */
  dLoss?: GPUBuffer;
}

export function softmaxCrossEntropy(
  step: Step,
  buf: SoftmaxCrossEntropyBuffers,
  d: { rows: number; cols: number; labels: 'index' | 'prob' },
): void {
  needDims({ rows: d.rows, cols: d.cols }, 'softmaxCrossEntropy', 1);
  if (!buf.loss && !buf.dLogits) throw new Error('filtro: softmaxCrossEntropy: ask for loss, dLogits or both');
  needBytes(buf.logits, d.rows * d.cols, 'softmaxCrossEntropy logits');
  needBytes(buf.labels, d.labels === 'index' ? d.rows : d.rows * d.cols, 'softmaxCrossEntropy labels');
  if (buf.loss) needBytes(buf.loss, 1, 'softmaxCrossEntropy loss');
  if (buf.dLogits) needBytes(buf.dLogits, d.rows * d.cols, 'softmaxCrossEntropy dLogits');
  if (buf.dLoss) needBytes(buf.dLoss, 1, 'softmaxCrossEntropy dLoss');
  step.dispatch(d.labels === 'index' ? LOSS_KERNELS.xentIndex : LOSS_KERNELS.xentProb, {
    buffers: [buf.logits, buf.labels, buf.dLoss ?? step.scratch(0), buf.loss ?? step.scratch(1), buf.dLogits ?? step.scratch(2)],
    // Params.flags: XENT_LOSS | XENT_GRAD | XENT_DLOSS in loss.wgsl.
    uniforms: uniforms().u32(d.rows, d.cols, (buf.loss ? 1 : 0) | (buf.dLogits ? 2 : 0) | (buf.dLoss ? 4 : 0)).bytes(),
    workgroups: 1,
  });
}
