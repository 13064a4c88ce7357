// Softmax cross-entropy of logits [N, C] against labels, averaged over the batch. Labels are either
// int32 class indices [N] or float32 probabilities [N, C] (one-hot or soft). Fused and stable:
// loss_n = logsumexp(x_n) − Σ_c p_nc x_nc, with logsumexp taken after subtracting the row maximum.
// Gradient (labels are constants): dlogits = dloss · (softmax(x)·Σ_c p_c − p) / N, which is the
// familiar (softmax(x) − p)/N when each row of labels sums to 1.
import { checkRank, describe, fail } from '../errors.js';
import { apply1 } from '../graph.js';
import type { Tensor } from '../tensor.js';
import type { HostArray, TensorSpec } from '../types.js';
import { defineOp } from './define-op.js';

function checkLabels(fn: string, logits: TensorSpec, labels: TensorSpec): void {
  checkRank(fn, 'logits', logits, 2, '[N, C]');
  if (logits.dtype !== 'float32') fail(fn, `logits must be float32, got ${describe(logits)}`);
  const [n, c] = logits.shape;
  const ok = labels.dtype === 'int32'
    ? labels.shape.length === 1 && labels.shape[0] === n
    : labels.shape.length === 2 && labels.shape[0] === n && labels.shape[1] === c;
  if (!ok) fail(fn, `labels must be int32 [${n}] class indices or float32 [${n},${c}] probabilities to match logits ${describe(logits)}, got ${describe(labels)}`);
}

/** Target probability of class c in row n, checking class indices as it goes. */
function target(labels: HostArray, isIndex: boolean, n: number, c: number, classes: number): number {
  if (!isIndex) return labels[n * classes + c];
  const label = labels[n];
  if (label < 0 || label >= classes) fail('softmaxCrossEntropy', `label ${label} of example ${n} is outside [0, ${classes})`);
  return label === c ? 1 : 0;
}

/** One row's softmax probabilities (written to `probs`) and its log-sum-exp. */
function rowSoftmax(x: HostArray, n: number, classes: number, probs: Float64Array): { logSumExp: number } {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, x[n * classes + c]);
  let total = 0;
  for (let c = 0; c < classes; c++) total += probs[c] = Math.exp(x[n * classes + c] - max);
  for (let c = 0; c < classes; c++) probs[c] /= total;
  return { logSumExp: max + Math.log(total) };
}

export const softmaxCrossEntropyOp = defineOp<Record<string, never>>({
  name: 'softmaxCrossEntropy',
  outputs([logits, labels]) {
    checkLabels('softmaxCrossEntropy', logits, labels);
    return [{ shape: [], dtype: 'float32' }];
  },
  reference([x, labels], [xs, ls]) {
    const [batch, classes] = xs.shape;
    const probs = new Float64Array(classes);
    let loss = 0;
    for (let n = 0; n < batch; n++) {
      const { logSumExp } = rowSoftmax(x, n, classes, probs);
      for (let c = 0; c < classes; c++) {
        const p = target(labels, ls.dtype === 'int32', n, c, classes);
        if (p !== 0) loss += p * (logSumExp - x[n * classes + c]);
      }
    }
    return [Float32Array.of(loss / batch)];
  },
  backward([dloss], { inputs: [logits, labels] }) {
    return [apply1(softmaxCrossEntropyGradOp, [dloss!, logits, labels], {}), null];
  },
});

export const softmaxCrossEntropyGradOp = defineOp<Record<string, never>>({
  name: 'softmaxCrossEntropyGrad',
  outputs([dloss, logits, labels]) {
    checkLabels('softmaxCrossEntropyGrad', logits, labels);
    if (dloss.shape.length !== 0) fail('softmaxCrossEntropyGrad', `loss gradient must be a scalar, got ${describe(dloss)}`);
    return [logits];
  },
  reference([dloss, x, labels], [, xs, ls]) {
    const [batch, classes] = xs.shape;
    const probs = new Float64Array(classes);
    const dx = new Float32Array(x.length);
    const factor = dloss[0] / batch;
    for (let n = 0; n < batch; n++) {
      rowSoftmax(x, n, classes, probs);
      let mass = 0;
      for (let c = 0; c < classes; c++) mass += target(labels, ls.dtype === 'int32', n, c, classes);
      for (let c = 0; c < classes; c++) dx[n * classes + c] = factor * (probs[c] * mass - target(labels, ls.dtype === 'int32', n, c, classes));
    }
    return [dx];
  },
});

/** Mean softmax cross-entropy of `logits` [N, C] against int32 [N] or float32 [N, C] labels. */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  return apply1(softmaxCrossEntropyOp, [logits, labels], {});
}
