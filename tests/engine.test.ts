// Laziness, readbacks, memory accounting, autograd plumbing, tensor creation, and training hygiene
// on the cpu backend. Memory checks read f.stats().bytesLive in synchronous stretches of code, so
// no garbage-collection finalizer (which frees tensors dropped without dispose()) can run between
// the two readings.
import { describe, expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';
import { Rng } from '../packages/core/src/rng.js';

const randomTensor = (rng: Rng, shape: number[], lo = -1, hi = 1) =>
  f.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(lo, hi)), shape);

describe('laziness', () => {
  it('building a graph runs nothing; data() runs each op once', async () => {
    const rng = new Rng(1);
    const x = randomTensor(rng, [1, 6, 6, 2]);
    const w = randomTensor(rng, [3, 3, 2, 4]);
    const before = f.stats();
    const y = f.maxPool2d(f.relu(f.conv2d(x, w, { padding: 1 })), { size: 2 });
    const z = f.sum(f.mul(y, y));
    const built = f.stats();
    expect(built.dispatches).toBe(before.dispatches);
    expect(built.submits).toBe(before.submits);
    expect(built.readbacks).toBe(before.readbacks);
    expect(built.bytesLive).toBe(before.bytesLive);
    expect(z.isRealized).toBe(false);
    expect(y.shape).toEqual([1, 3, 3, 4]);

    const value = await z.data();
    const after = f.stats();
    // conv2d, relu, maxPool2d, mul, sum: five ops, one plan.
    expect(after.dispatches - before.dispatches).toBe(5);
    expect(after.submits - before.submits).toBe(1);
    expect(after.readbacks - before.readbacks).toBe(1);
    expect(z.isRealized).toBe(true);
    expect(value[0]).toBeGreaterThan(0);
  });

  it('a reshape is a view: no dispatch', async () => {
    const a = f.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const before = f.stats().dispatches;
    const v = f.reshape(a, [3, 2]);
    expect(Array.from(await v.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(f.stats().dispatches).toBe(before);
  });

  it('reading a tensor twice reads back once and returns independent copies', async () => {
    const y = f.exp(f.tensor([0, 1, 2], [3]));
    const r0 = f.stats().readbacks;
    const d0 = f.stats().dispatches;
    const first = await y.data();
    const second = await y.data();
    expect(f.stats().readbacks - r0).toBe(1);
    expect(f.stats().dispatches - d0).toBe(1);
    expect(Array.from(second)).toEqual(Array.from(first));
    first[0] = 42;
    expect((await y.data())[0]).toBe(1);
    expect(f.stats().readbacks - r0).toBe(1);
    // array() reads through the same cache.
    expect(await y.array()).toEqual(Array.from(second));
    expect(f.stats().readbacks - r0).toBe(1);
  });

  it('f.realize computes without reading back', async () => {
    const y = f.scale(f.tensor([1, 2], [2]), 3, 1);
    const r0 = f.stats().readbacks;
    f.realize([y]);
    expect(y.isRealized).toBe(true);
    expect(f.stats().readbacks).toBe(r0);
    expect(Array.from(await y.data())).toEqual([4, 7]);
  });
});

describe('memory', () => {
  it('after realizing an elementwise chain only the inputs and the result hold storage', () => {
    const start = f.stats().bytesLive;
    const a = f.tensor(new Float32Array(100).fill(0.5), [100]);
    const b = f.tensor(new Float32Array(100).fill(2), [100]);
    expect(f.stats().bytesLive - start).toBe(2 * 100 * 4);
    const y = f.sqrt(f.exp(f.relu(f.mul(f.add(a, b), f.sub(a, b)))));
    expect(f.stats().bytesLive - start).toBe(2 * 100 * 4);
    f.realize([y]);
    expect(f.stats().bytesLive - start).toBe(3 * 100 * 4);
    [a, b, y].forEach((t) => t.dispose());
    expect(f.stats().bytesLive).toBe(start);
  });

  it('after realizing a conv → relu → pool → flatten → dense chain only the inputs and the result hold storage', () => {
    const rng = new Rng(2);
    const start = f.stats().bytesLive;
    const inputs = [randomTensor(rng, [2, 6, 6, 3]), randomTensor(rng, [3, 3, 3, 4]), randomTensor(rng, [4]), randomTensor(rng, [36, 5]), randomTensor(rng, [5])];
    const [x, w, b, dw, db] = inputs;
    const inputBytes = (2 * 36 * 3 + 9 * 3 * 4 + 4 + 36 * 5 + 5) * 4;
    expect(f.stats().bytesLive - start).toBe(inputBytes);
    const h = f.maxPool2d(f.conv2d(x, w, { bias: b, activation: 'relu', padding: 'same' }), { size: 2 }); // [2,3,3,4] plus an int32 argmax
    const y = f.softmax(f.add(f.matmul(f.flatten(h), dw), db)); // [2,5]
    f.realize([y]);
    expect(f.stats().bytesLive - start).toBe(inputBytes + 2 * 5 * 4);
    [...inputs, y].forEach((t) => t.dispose());
    expect(f.stats().bytesLive).toBe(start);
  });

  it('a chain that ends in a reshape keeps one copy of the result', () => {
    const start = f.stats().bytesLive;
    const a = f.tensor(new Float32Array(12).fill(1), [3, 4]);
    const y = f.reshape(f.scale(f.neg(a), 2), [2, 6]);
    f.realize([y]);
    expect(f.stats().bytesLive - start).toBe(2 * 12 * 4);
    a.dispose();
    y.dispose();
    expect(f.stats().bytesLive).toBe(start);
  });

  it('realizing two targets of one graph keeps exactly those two', () => {
    const start = f.stats().bytesLive;
    const a = f.tensor(new Float32Array(10).fill(1), [10]);
    const mid = f.exp(a);
    const y1 = f.neg(mid);
    const y2 = f.sum(f.tanh(mid));
    f.realize([y1, y2]);
    expect(f.stats().bytesLive - start).toBe((10 + 10 + 1) * 4);
    expect(mid.isRealized).toBe(false);
    [a, y1, y2].forEach((t) => t.dispose());
    expect(f.stats().bytesLive).toBe(start);
  });

  it('dispose() lowers bytesLive by 4 bytes per element and is idempotent', () => {
    const start = f.stats().bytesLive;
    const t = f.zeros([5, 7]);
    const labels = f.tensor(new Int32Array(9), [9]);
    expect(f.stats().bytesLive - start).toBe((35 + 9) * 4);
    t.dispose();
    expect(f.stats().bytesLive - start).toBe(9 * 4);
    expect(t.isDisposed).toBe(true);
    t.dispose();
    expect(f.stats().bytesLive - start).toBe(9 * 4);
    labels.dispose();
    labels.dispose();
    expect(f.stats().bytesLive).toBe(start);
  });

  it('disposing a lazy tensor that was never realized changes nothing', () => {
    const a = f.ones([4]);
    const start = f.stats().bytesLive;
    const y = f.exp(a);
    y.dispose();
    y.dispose();
    expect(f.stats().bytesLive).toBe(start);
    a.dispose();
  });

  it('a reshape view shares storage: it is freed when the last holder lets go', async () => {
    const start = f.stats().bytesLive;
    const a = f.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const v = f.reshape(a, [3, 2]);
    f.realize([v]);
    expect(f.stats().bytesLive - start).toBe(24);
    a.dispose();
    expect(f.stats().bytesLive - start).toBe(24);
    expect(await v.array()).toEqual([[1, 2], [3, 4], [5, 6]]);
    v.dispose();
    expect(f.stats().bytesLive).toBe(start);
  });
});

describe('valueAndGrads', () => {
  it('returns the value and the grads in input order with their shapes; zeros for an unused input', async () => {
    const a = f.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = f.tensor([0.5, -1, 2], [3]);
    const unused = f.tensor([7, 8, 9, 10], [4]);
    // L = Σ (a + b) ⊙ a, so dL/da = 2a + b and dL/db = Σ_rows a.
    const { value, grads } = f.valueAndGrads((x: f.Tensor, y: f.Tensor, _u: f.Tensor) => f.sum(f.mul(f.add(x, y), x)))(a, b, unused);
    expect(grads.length).toBe(3);
    expect(grads.map((g) => g.shape)).toEqual([[2, 3], [3], [4]]);
    expect(value.shape).toEqual([]);
    expect((await value.data())[0]).toBeCloseTo(1.5 + 2 + 15 + 18 + 20 + 48, 4);
    expect(Array.from(await grads[0].data())).toEqual([2.5, 3, 8, 8.5, 9, 14]);
    expect(Array.from(await grads[1].data())).toEqual([5, 7, 9]);
    expect(Array.from(await grads[2].data())).toEqual([0, 0, 0, 0]);
  });

  it('accumulates the gradient of a tensor used twice: d(Σ x·x)/dx = 2x', async () => {
    const x = f.tensor([-1.5, 0.25, 3], [3]);
    const { value, grads } = f.valueAndGrads((t: f.Tensor) => f.sum(f.mul(t, t)))(x);
    expect((await value.data())[0]).toBeCloseTo(2.25 + 0.0625 + 9, 5);
    expect(Array.from(await grads[0].data())).toEqual([-3, 0.5, 6]);
  });

  it('accumulates along separate paths: d(Σ exp(x) + 3x + x)/dx = exp(x) + 4', async () => {
    const x = f.tensor([0, 1], [2]);
    const { grads } = f.valueAndGrads((t: f.Tensor) => f.sum(f.add(f.add(f.exp(t), f.scale(t, 3)), t)))(x);
    const g = await grads[0].data();
    expect(g[0]).toBeCloseTo(5, 5);
    expect(g[1]).toBeCloseTo(Math.E + 4, 5);
  });

  it('differentiates with respect to a lazy (unrealized) tensor', async () => {
    const a = f.tensor([0.5, 1, 2], [3]);
    const x = f.scale(a, 2); // lazy
    const { grads } = f.valueAndGrads((t: f.Tensor) => f.sum(f.mul(t, f.log(t))))(x);
    // d/dt Σ t·log t = log t + 1, at t = 2a
    const g = await grads[0].data();
    [1, 2, 4].forEach((t, i) => expect(g[i]).toBeCloseTo(Math.log(t) + 1, 5));
  });

  it('max-pool gradients are right when the pooled values were read before the backward', async () => {
    const x = f.tensor([1, 9, 2, 3, 4, 5, 8, 6, 7, 0, 11, 10, 12, 15, 13, 14], [1, 4, 4, 1]);
    const pooled = f.maxPool2d(x, { size: 2 });
    expect(Array.from(await pooled.data())).toEqual([9, 8, 15, 14]);
    const { grads } = f.valueAndGrads((t: f.Tensor) => f.sum(f.mul(f.maxPool2d(t, { size: 2 }), f.tensor([1, 2, 3, 4], [1, 2, 2, 1]))))(x);
    // Winners: 9 at index 1, 8 at index 6, 15 at index 13, 14 at index 15.
    expect(Array.from(await grads[0].data())).toEqual([0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 3, 0, 4]);
  });

  it('requires a scalar loss', () => {
    const x = f.tensor([1, 2], [2]);
    expect(() => f.valueAndGrads((t: f.Tensor) => f.exp(t))(x)).toThrow(f.FiltroError);
  });
});

describe('tensor creation', () => {
  it('Int32Array data makes an int32 tensor read back as an Int32Array', async () => {
    const t = f.tensor(Int32Array.from([3, -1, 2147483647, 0]), [2, 2]);
    expect(t.dtype).toBe('int32');
    expect(t.shape).toEqual([2, 2]);
    const d = await t.data();
    expect(d).toBeInstanceOf(Int32Array);
    expect(Array.from(d)).toEqual([3, -1, 2147483647, 0]);
    const fromNumbers = f.tensor([4, 5], [2], 'int32');
    expect(fromNumbers.dtype).toBe('int32');
    expect(await fromNumbers.data()).toBeInstanceOf(Int32Array);
  });

  it('Int32Array data without a shape is rank 1', () => {
    const t = f.tensor(Int32Array.from([1, 2, 3]));
    expect(t.shape).toEqual([3]);
    expect(t.dtype).toBe('int32');
  });

  it('the tensor copies its data: changing the source afterwards changes nothing', async () => {
    const src = Float32Array.from([1, 2, 3]);
    const t = f.tensor(src, [3]);
    src[0] = 99;
    expect(Array.from(await t.data())).toEqual([1, 2, 3]);
  });

  it('nested arrays give the shape; array() nests the same way', async () => {
    const nested = [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]];
    const t = f.tensor(nested);
    expect(t.shape).toEqual([2, 3, 2]);
    expect(t.dtype).toBe('float32');
    expect(Array.from(await t.data())).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(await t.array()).toEqual(nested);
    expect(await f.tensor([[1, 2, 3]]).array()).toEqual([[1, 2, 3]]);
    expect(await f.tensor([1.5, 2.5]).array()).toEqual([1.5, 2.5]);
  });

  it('a number is a scalar; array() of a scalar is a number', async () => {
    const s = f.tensor(2.5);
    expect(s.shape).toEqual([]);
    expect(await s.array()).toBe(2.5);
    expect(await f.scalar(-3).array()).toBe(-3);
  });

  it('array() of an op result nests by its shape', async () => {
    const y = f.reshape(f.scale(f.tensor([1, 2, 3, 4, 5, 6], [6]), 2), [3, 2]);
    expect(await y.array()).toEqual([[2, 4], [6, 8], [10, 12]]);
  });
});

/** A tiny CNN on a tiny random problem: 8 images 6×6×1, 3 classes. */
function tinyProblem(seed: number) {
  const rng = new Rng(1000 + seed);
  const n = 8;
  const xs = new Float32Array(n * 36);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    ys[i] = i % 3;
    // Each class lights up a different third of the image, plus noise.
    for (let p = 0; p < 36; p++) xs[i * 36 + p] = 0.3 * rng.normal() + (Math.floor(p / 12) === ys[i] ? 1 : 0);
  }
  return { x: f.tensor(xs, [n, 6, 6, 1]), labels: f.tensor(ys, [n]) };
}

function tinyModel(seed: number) {
  const { Sequential, Conv2d, MaxPool2d, Flatten, Dense } = f.nn;
  return new Sequential(
    [new Conv2d({ filters: 2, kernelSize: 3, activation: 'relu', padding: 'same' }), new MaxPool2d({ size: 2 }), new Flatten(), new Dense({ units: 3 })],
    { inputShape: [6, 6, 1], seed },
  );
}

type MakeOptimizer = () => f.optim.Optimizer;
const optimizers: [string, MakeOptimizer][] = [
  ['SGD', () => new f.optim.SGD({ lr: 0.1 })],
  ['SGD momentum 0.9', () => new f.optim.SGD({ lr: 0.05, momentum: 0.9 })],
  ['Adam', () => new f.optim.Adam({ lr: 0.02 })],
];

describe('training hygiene', () => {
  for (const [name, make] of optimizers) {
    it(`${name}: bytesLive stays flat over 50 trainStep calls after the first few`, () => {
      const { x, labels } = tinyProblem(0);
      const model = tinyModel(0);
      const opt = make();
      // Synchronous from here on (no await), so no finalizer can free anything behind our back.
      for (let i = 0; i < 3; i++) model.trainStep(x, labels, opt).dispose();
      const settled = f.stats().bytesLive;
      const trace: number[] = [];
      for (let i = 0; i < 50; i++) {
        model.trainStep(x, labels, opt).dispose();
        trace.push(f.stats().bytesLive - settled);
      }
      expect(trace.filter((d) => d !== 0)).toEqual([]);
    });
  }

  it('bytesLive over training: parameters, optimizer state and the inputs only', () => {
    const { x, labels } = tinyProblem(0);
    const model = tinyModel(0);
    const paramBytes = model.parameters().reduce((s, p) => s + p.size * 4, 0);
    const start = f.stats().bytesLive;
    const opt = new f.optim.Adam({ lr: 0.01 });
    for (let i = 0; i < 5; i++) model.trainStep(x, labels, opt).dispose();
    // Adam keeps two state tensors (m and v) the size of each parameter, and the optimizer its
    // int32 [5] record of non-finite steps (the per-step finite check); nothing else stays.
    expect(f.stats().bytesLive - start).toBe(2 * paramBytes + 5 * 4);
  });

  it('the same seed gives bit-identical weights across two runs; a different seed does not', async () => {
    const run = async (seed: number, make: MakeOptimizer) => {
      const { x, labels } = tinyProblem(0);
      const model = tinyModel(seed);
      const opt = make();
      for (let i = 0; i < 10; i++) model.trainStep(x, labels, opt).dispose();
      return Promise.all(model.parameters().map(async (p) => Array.from(await p.data())));
    };
    for (const [, make] of optimizers) {
      const a = await run(7, make);
      const b = await run(7, make);
      const c = await run(8, make);
      expect(a).toEqual(b); // toEqual on numbers is exact (Object.is per element)
      expect(a[0]).not.toEqual(c[0]);
      expect(a[2]).not.toEqual(c[2]);
    }
    const w7 = tinyModel(7).parameters().map((p) => p);
    const w8 = tinyModel(8).parameters().map((p) => p);
    expect(Array.from(await w7[0].data())).not.toEqual(Array.from(await w8[0].data()));
  });

  for (const [name, make] of optimizers) {
    it(`${name} reduces the loss of a tiny problem`, async () => {
      const { x, labels } = tinyProblem(1);
      const model = tinyModel(3);
      const opt = make();
      const first = model.trainStep(x, labels, opt);
      const initial = (await first.data())[0];
      let last = first;
      for (let i = 0; i < 40; i++) last = model.trainStep(x, labels, opt);
      // Evaluate the trained model on the same batch.
      const final = (await f.softmaxCrossEntropy(model.forward(x), labels).data())[0];
      expect(Number.isFinite(initial)).toBe(true);
      expect(final).toBeLessThan(0.5 * initial);
      expect((await last.data())[0]).toBeLessThan(initial);
      expect(opt.steps).toBe(41);
    });
  }
});
