// optim.wgsl against float64 loops over several steps: SGD, SGD with momentum, Adam (bias
// correction by step t, passed in the hyper buffer), with and without weight decay, and gated by a
// verdict; and finite.wgsl (the step number passed in a buffer).

import { describe, expect, it } from 'vitest';
import { adamStep, checkFinite, firstNonFinite, sgdStep, stepHealth } from '../../packages/kernels/src/index.js';
import { expectClose, random, readF32, readI32, run, useGpu } from './helpers.js';

const ctx = useGpu();
const rand = random(7);

describe('optim', () => {
  it('SGD, plain and with momentum, over 3 steps', async () => {
    const { gpu } = ctx;
    for (const [n, momentum, weightDecay] of [[1, 0, 0], [1000, 0, 0.01], [77, 0.9, 0], [130, 0.5, 0.1]]) {
      const p = Float64Array.from(rand(n));
      const v = new Float64Array(n);
      const gp = gpu.upload(Float32Array.from(p));
      const gv = gpu.upload(new Float32Array(n));
      const lr = 0.1;
      const hyper = gpu.upload(Float32Array.of(lr));
      for (let step = 0; step < 3; step++) {
        const g = rand(n);
        for (let i = 0; i < n; i++) {
          const grad = g[i] + weightDecay * p[i];
          v[i] = momentum * v[i] + grad;
          p[i] -= lr * (momentum ? v[i] : grad);
        }
        const gg = gpu.upload(g);
        await run(gpu, (s) => sgdStep(s, { param: gp, grad: gg, hyper, velocity: momentum ? gv : undefined }, { n, momentum, weightDecay }));
        gpu.release(gg);
      }
      expectClose(await readF32(gpu, gp, n), p, `sgd n=${n} momentum=${momentum}`);
      if (momentum) expectClose(await readF32(gpu, gv, n), v, 'velocity');
      for (const b of [gp, gv, hyper]) gpu.release(b);
    }
  });

  it('Adam over 4 steps', async () => {
    const { gpu } = ctx;
    for (const [n, weightDecay] of [[1, 0], [515, 0], [64, 0.01]]) {
      const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-8];
      const p = Float64Array.from(rand(n));
      const m = new Float64Array(n);
      const v = new Float64Array(n);
      const gp = gpu.upload(Float32Array.from(p));
      const [gm, gv] = [gpu.upload(new Float32Array(n)), gpu.upload(new Float32Array(n))];
      for (let t = 1; t <= 4; t++) {
        const g = rand(n);
        for (let i = 0; i < n; i++) {
          const grad = g[i] + weightDecay * p[i];
          m[i] = b1 * m[i] + (1 - b1) * grad;
          v[i] = b2 * v[i] + (1 - b2) * grad * grad;
          p[i] -= (lr * (m[i] / (1 - b1 ** t))) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps);
        }
        const gg = gpu.upload(g);
        const hyper = gpu.upload(Float32Array.of(lr, 1 - b1 ** t, 1 - b2 ** t));
        await run(gpu, (s) => adamStep(s, { param: gp, grad: gg, m: gm, v: gv, hyper }, { n, beta1: b1, beta2: b2, eps, weightDecay }));
        gpu.release(gg);
        gpu.release(hyper);
      }
      expectClose(await readF32(gpu, gp, n), p, `adam n=${n} param`);
      expectClose(await readF32(gpu, gm, n), m, 'adam m');
      expectClose(await readF32(gpu, gv, n), v, 'adam v');
      for (const b of [gp, gm, gv]) gpu.release(b);
    }
  });
});

describe('gated updates', () => {
  it('apply where the gate is −1 and leave parameter and state bit for bit otherwise', async () => {
    const { gpu } = ctx;
    const n = 100;
    const bits = async (b: GPUBuffer) => Array.from(new Uint32Array(await gpu.read(b, n * 4)));
    for (const [verdict, applies] of [[-1, true], [0, false], [3, false]] as const) {
      const gate = gpu.upload(Int32Array.of(verdict));
      const grad = gpu.upload(rand(n));
      const [sgdHyper, adamHyper] = [Float32Array.of(0.1), Float32Array.of(0.1, 0.1, 0.001)].map((x) => gpu.upload(x));
      const [p, v, m, a] = [rand(n), rand(n), rand(n, 0, 1), rand(n, 0, 1)].map((x) => gpu.upload(x));
      const before = await Promise.all([p, v, m, a].map(bits));
      await run(gpu, (s) => {
        sgdStep(s, { param: p, grad, hyper: sgdHyper, velocity: v, gate }, { n, momentum: 0.9 });
        adamStep(s, { param: m, grad, m: v, v: a, hyper: adamHyper, gate }, { n });
      });
      const after = await Promise.all([p, v, m, a].map(bits));
      after.forEach((b, i) => (applies ? expect(b, `verdict ${verdict} buffer ${i}`).not.toEqual(before[i]) : expect(b, `verdict ${verdict} buffer ${i}`).toEqual(before[i])));
      for (const b of [gate, grad, sgdHyper, adamHyper, p, v, m, a]) gpu.release(b);
    }
  });
});

describe('finite', () => {
  it('firstNonFinite gives the smallest index of a buffer holding NaN or ±Inf, else −1; stepHealth folds it in', async () => {
    const { gpu } = ctx;
    const out = gpu.buffer(4);
    const [finite, nan, inf] = [rand(300), Float32Array.of(0, NaN), Float32Array.from(rand(700), (v, i) => (i === 650 ? -Infinity : v))].map((x) => gpu.upload(x));
    const sizes = new Map([[finite, 300], [nan, 2], [inf, 700]]);
    for (const [list, expected] of [[[finite], -1], [[finite, inf, nan], 1], [[inf, finite, nan], 0], [[finite, finite, nan], 2]] as const) {
      await run(gpu, (s) => firstNonFinite(s, { xs: list.map((x) => ({ x, n: sizes.get(x)! })), out }));
      expect(Array.from(await readI32(gpu, out, 1)), `${list.map((x) => sizes.get(x)).join(', ')}`).toEqual([expected]);
    }
    const health = gpu.upload(Int32Array.from([0, -1, -1, -1, -1]));
    const gate = gpu.buffer(4);
    const stepNumber = gpu.upload(Int32Array.of(9));
    await run(gpu, (s) => stepHealth(s, { health, verdict: out, gate, step: stepNumber }, { stop: true }));
    expect(Array.from(await readI32(gpu, health, 5))).toEqual([1, 9, 2, 9, 2]);
    expect(Array.from(await readI32(gpu, gate, 1))).toEqual([2]);
    // The step number is read from its buffer when the step runs: rewrite it, then fold another bad verdict under skip.
    gpu.write(stepNumber, Int32Array.of(12));
    await run(gpu, (s) => firstNonFinite(s, { xs: [{ x: finite, n: 300 }, { x: nan, n: 2 }], out }));
    await run(gpu, (s) => stepHealth(s, { health, verdict: out, gate, step: stepNumber }, { stop: false }));
    expect(Array.from(await readI32(gpu, health, 5))).toEqual([2, 9, 2, 12, 1]);
    expect(Array.from(await readI32(gpu, gate, 1))).toEqual([1]);
    for (const b of [out, finite, nan, inf, health, gate, stepNumber]) gpu.release(b);
  });


  it('flags NaN and ±Inf, and ORs several buffers into one flag', async () => {
    const { gpu } = ctx;
    const flag = gpu.buffer(4);
    const readFlag = async () => new Uint32Array(await gpu.read(flag, 4))[0];
    for (const [bad, expected] of [[undefined, 0], [NaN, 1], [Infinity, 1], [-Infinity, 1], [3.4e38, 0]] as const) {
      for (const n of [1, 1000]) {
        const x = rand(n);
        if (bad !== undefined) x[n - 1] = bad;
        const gx = gpu.upload(x);
        await run(gpu, (s) => checkFinite(s, { x: gx, flag }, n));
        expect(await readFlag(), `value ${bad} n=${n}`).toBe(expected);
        gpu.release(gx);
      }
    }
    const good = gpu.upload(rand(10));
    const badBuf = gpu.upload(Float32Array.of(1, NaN));
    await run(gpu, (s) => {
      checkFinite(s, { x: badBuf, flag }, 2);
      checkFinite(s, { x: good, flag }, 10, { clear: false });
    });
    expect(await readFlag()).toBe(1);
    for (const b of [flag, good, badBuf]) gpu.release(b);
  });
});
