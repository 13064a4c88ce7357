// loss.wgsl against float64 loops: softmax, fused softmax cross-entropy (index and probability
// labels; loss only, gradient only, both; with and without dLoss), stability at ±1e4.

import { describe, expect, it } from 'vitest';
import { softmax, softmaxCrossEntropy } from '../../packages/kernels/src/index.js';
import { expectClose, random, readF32, run, useGpu } from './helpers.js';

const ctx = useGpu();
const rand = random(6);

function softmaxRef(x: Float32Array, rows: number, cols: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - m);
    for (let c = 0; c < cols; c++) y[r * cols + c] = Math.exp(x[r * cols + c] - m) / s;
  }
  return y;
}

/** Mean cross-entropy and its gradient · dLoss, for target probabilities t [rows, cols]. */
function xentRef(x: Float32Array, t: Float64Array, rows: number, cols: number, dLoss: number) {
  const p = softmaxRef(x, rows, cols);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - m);
    for (let c = 0; c < cols; c++) loss += t[r * cols + c] * (m - x[r * cols + c] + Math.log(s));
  }
  return { loss: loss / rows, grad: p.map((v, i) => ((v - t[i]) * dLoss) / rows) };
}

function oneHot(labels: Int32Array, cols: number): Float64Array {
  const t = new Float64Array(labels.length * cols);
  labels.forEach((l, r) => (t[r * cols + l] = 1));
  return t;
}

describe('loss', () => {
  it('softmax over the last axis', async () => {
    const { gpu } = ctx;
    for (const [rows, cols] of [[1, 1], [3, 10], [300, 7], [2, 1000]]) {
      const x = rand(rows * cols, -20, 20);
      const gx = gpu.upload(x);
      const gy = gpu.buffer(x.length * 4);
      await run(gpu, (s) => softmax(s, { x: gx, y: gy }, { rows, cols }));
      expectClose(await readF32(gpu, gy, x.length), softmaxRef(x, rows, cols), `softmax ${rows}×${cols}`);
      gpu.release(gx);
      gpu.release(gy);
    }
  });

  for (const kind of ['index', 'prob'] as const) {
    it(`softmaxCrossEntropy with ${kind} labels`, async () => {
      const { gpu } = ctx;
      for (const [rows, cols, dLoss] of [[1, 1, undefined], [5, 10, 0.5], [300, 7, undefined], [2, 33, -2]] as const) {
        const x = rand(rows * cols, -5, 5);
        const labels = Int32Array.from({ length: rows }, (_, r) => (r * 7 + 3) % cols);
        let t = oneHot(labels, cols);
        if (kind === 'prob') t = softmaxRef(rand(rows * cols, -2, 2), rows, cols);
        const ref = xentRef(x, t, rows, cols, dLoss ?? 1);
        const glogits = gpu.upload(x);
        const glabels = gpu.upload(kind === 'index' ? labels : Float32Array.from(t));
        const gdLoss = dLoss === undefined ? undefined : gpu.upload(Float32Array.of(dLoss));
        const [gloss, ggrad, gloss2, ggrad2] = [1, x.length, 1, x.length].map((n) => gpu.buffer(n * 4));
        await run(gpu, (s) => {
          const d = { rows, cols, labels: kind };
          softmaxCrossEntropy(s, { logits: glogits, labels: glabels, dLoss: gdLoss, loss: gloss, dLogits: ggrad }, d);
          softmaxCrossEntropy(s, { logits: glogits, labels: glabels, loss: gloss2 }, d);
          softmaxCrossEntropy(s, { logits: glogits, labels: glabels, dLoss: gdLoss, dLogits: ggrad2 }, d);
        });
        const what = `${kind} ${rows}×${cols}`;
        expectClose(await readF32(gpu, gloss, 1), [ref.loss], `loss ${what}`);
        expectClose(await readF32(gpu, gloss2, 1), [ref.loss], `loss only ${what}`);
        expectClose(await readF32(gpu, ggrad, x.length), ref.grad, `grad ${what}`);
        expectClose(await readF32(gpu, ggrad2, x.length), ref.grad, `grad only ${what}`);
        for (const b of [glogits, glabels, gloss, ggrad, gloss2, ggrad2, ...(gdLoss ? [gdLoss] : [])]) gpu.release(b);
      }
    });
  }

  it('is stable for logits of ±1e4, and an out-of-range label gives NaN', async () => {
    const { gpu } = ctx;
    const rows = 3;
    const cols = 4;
    const x = Float32Array.from([1e4, -1e4, 0, 1e4, -1e4, -1e4, -1e4, -1e4, 5e3, -1e4, 1e4, 9999]);
    const labels = Int32Array.of(1, 2, 3);
    const ref = xentRef(x, oneHot(labels, cols), rows, cols, 1);
    expect(Number.isFinite(ref.loss)).toBe(true);
    const [gx, gl] = [gpu.upload(x), gpu.upload(labels)];
    const [gloss, ggrad, gsm] = [1, x.length, x.length].map((n) => gpu.buffer(n * 4));
    await run(gpu, (s) => {
      softmaxCrossEntropy(s, { logits: gx, labels: gl, loss: gloss, dLogits: ggrad }, { rows, cols, labels: 'index' });
      softmax(s, { x: gx, y: gsm }, { rows, cols });
    });
    expectClose(await readF32(gpu, gloss, 1), [ref.loss], 'loss at ±1e4');
    expectClose(await readF32(gpu, ggrad, x.length), ref.grad, 'grad at ±1e4');
    expectClose(await readF32(gpu, gsm, x.length), softmaxRef(x, rows, cols), 'softmax at ±1e4');

    gpu.write(gl, Int32Array.of(1, 4, 0));
    await run(gpu, (s) => softmaxCrossEntropy(s, { logits: gx, labels: gl, loss: gloss }, { rows, cols, labels: 'index' }));
    expect(Number.isNaN((await readF32(gpu, gloss, 1))[0])).toBe(true);
    for (const b of [gx, gl, gloss, ggrad, gsm]) gpu.release(b);
  });
});
