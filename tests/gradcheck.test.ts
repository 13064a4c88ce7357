// Finite-difference checks of every op's backward on the cpu backend (see tests/helpers/gradcheck.ts
// for the method and the tolerance).
import { describe, expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';
import { Rng, awayFromZero, distinct, gradcheck, toTensor, uniform } from './helpers/gradcheck.js';
import type { GradcheckOptions, GradcheckResult, Input } from './helpers/gradcheck.js';

function expectPass(result: GradcheckResult): void {
  expect(result.problems).toEqual([]);
  expect(result.mismatches).toEqual([]);
  expect(result.checked).toBeGreaterThan(0);
}

async function check(fn: (...xs: f.Tensor[]) => f.Tensor, inputs: Input[], options?: GradcheckOptions): Promise<GradcheckResult> {
  const result = await gradcheck(fn, inputs, options);
  expectPass(result);
  return result;
}

type Pad = number | [number, number] | 'same' | 'valid';

interface ConvCase {
  x: number[];
  w: number[];
  stride: number | [number, number];
  padding: Pad;
  bias: boolean;
  relu?: boolean;
  out: number[];
}

const convCases: ConvCase[] = [
  { x: [1, 5, 5, 1], w: [3, 3, 1, 1], stride: 1, padding: 0, bias: false, out: [1, 3, 3, 1] },
  { x: [2, 7, 6, 3], w: [3, 5, 3, 2], stride: [2, 1], padding: [1, 2], bias: true, out: [2, 4, 6, 2] },
  { x: [3, 9, 8, 2], w: [1, 1, 2, 4], stride: 3, padding: 0, bias: true, out: [3, 3, 3, 4] },
  { x: [2, 6, 7, 4], w: [3, 3, 4, 5], stride: [1, 3], padding: 'same', bias: true, out: [2, 6, 3, 5] },
  { x: [1, 8, 8, 5], w: [2, 2, 5, 3], stride: 2, padding: 'same', bias: false, out: [1, 4, 4, 3] },
  { x: [1, 7, 8, 2], w: [2, 4, 2, 2], stride: [3, 2], padding: 'same', bias: true, out: [1, 3, 4, 2] },
  { x: [2, 5, 5, 1], w: [4, 4, 1, 2], stride: 3, padding: 2, bias: true, out: [2, 2, 2, 2] },
  { x: [3, 4, 4, 2], w: [3, 3, 2, 1], stride: 2, padding: 'valid', bias: false, out: [3, 1, 1, 1] },
  { x: [1, 6, 6, 1], w: [3, 3, 1, 1], stride: 2, padding: 0, bias: false, out: [1, 2, 2, 1] }, // 2.5 floored
  { x: [2, 7, 7, 2], w: [3, 3, 2, 3], stride: 1, padding: 1, bias: true, relu: true, out: [2, 7, 7, 3] },
  { x: [1, 6, 5, 3], w: [5, 3, 3, 2], stride: [2, 2], padding: [2, 1], bias: true, relu: true, out: [1, 3, 3, 2] },
  { x: [3, 5, 4, 1], w: [1, 1, 1, 4], stride: [1, 2], padding: 'same', bias: false, relu: true, out: [3, 5, 2, 4] },
];

const label = (c: ConvCase) =>
  `x [${c.x}] w [${c.w}] stride ${JSON.stringify(c.stride)} padding ${JSON.stringify(c.padding)}${c.bias ? ' +bias' : ''}${c.relu ? ' relu' : ''}`;

/** Smallest |pre-activation| of conv2d(x, w) + b, computed by the engine without the activation. */
async function smallestPreActivation(inputs: Input[], c: ConvCase): Promise<number> {
  const [x, w, b] = inputs.map(toTensor);
  const z = f.conv2d(x, w, { stride: c.stride, padding: c.padding, bias: b });
  const values = await z.data();
  [x, w, b, z].forEach((t) => t?.dispose());
  return Array.from(values).reduce((m, v) => Math.min(m, Math.abs(v)), Infinity);
}

describe('gradcheck conv2d', () => {
  for (const c of convCases) {
    it(label(c), async () => {
      const eps = c.relu ? 2e-3 : 1e-2;
      // With relu, redraw until no pre-activation lies within reach of a perturbation: changing one
      // input value by eps moves a pre-activation by at most eps·max|w| ≤ eps, and one weight by at
      // most eps·max|x| ≤ eps (all values are in [-1, 1]), so a margin of 2·eps keeps every output
      // on the same side of the kink.
      let inputs: Input[] = [];
      for (let seed = 1; ; seed++) {
        const rng = new Rng(seed * 7919 + c.x[1]);
        inputs = [uniform(rng, c.x), uniform(rng, c.w)];
        if (c.bias) inputs.push(uniform(rng, [c.w[3]]));
        if (!c.relu || (await smallestPreActivation(inputs, c)) > 2 * eps) break;
        expect(seed).toBeLessThan(200);
      }
      const fn = (x: f.Tensor, w: f.Tensor, b?: f.Tensor) =>
        f.conv2d(x, w, { stride: c.stride, padding: c.padding, bias: b, activation: c.relu ? 'relu' : undefined });
      const y = fn(...(inputs.map(toTensor) as [f.Tensor, f.Tensor, f.Tensor?]));
      expect(y.shape).toEqual(c.out);
      await check(fn as (...xs: f.Tensor[]) => f.Tensor, inputs, { eps, seed: c.x[1] * 31 + c.w[0] });
    });
  }
});

interface PoolCase {
  x: number[];
  size: number | [number, number];
  stride?: number | [number, number];
  padding?: Pad;
  out: number[];
}

const poolCases: PoolCase[] = [
  { x: [1, 4, 4, 1], size: 2, stride: 2, out: [1, 2, 2, 1] },
  { x: [2, 7, 6, 3], size: 3, stride: 2, padding: 1, out: [2, 4, 3, 3] },
  { x: [1, 6, 7, 2], size: [2, 3], stride: [1, 3], out: [1, 5, 2, 2] },
  { x: [2, 5, 5, 2], size: 3, stride: 1, padding: 'same', out: [2, 5, 5, 2] },
  { x: [1, 8, 7, 1], size: 2, stride: 3, padding: 'same', out: [1, 3, 3, 1] },
  { x: [1, 7, 7, 2], size: 3, stride: 3, padding: 2, out: [1, 3, 3, 2] },
  { x: [3, 5, 6, 1], size: [3, 2], stride: [2, 1], padding: [1, 1], out: [3, 3, 7, 1] },
  { x: [1, 5, 5, 1], size: 2, out: [1, 2, 2, 1] }, // stride defaults to the window; last row/column never covered
];

const poolLabel = (c: PoolCase) =>
  `x [${c.x}] size ${JSON.stringify(c.size)} stride ${JSON.stringify(c.stride)} padding ${JSON.stringify(c.padding)}`;

describe('gradcheck maxPool2d', () => {
  for (const c of poolCases) {
    it(poolLabel(c), async () => {
      // All values differ by ≥ 0.05 > 2·eps, so no perturbation changes a window's maximum.
      const x = distinct(new Rng(c.x[1] * 13 + c.x[2]), c.x, 0.05);
      const fn = (t: f.Tensor) => f.maxPool2d(t, { size: c.size, stride: c.stride, padding: c.padding });
      expect(fn(toTensor(x)).shape).toEqual(c.out);
      await check(fn, [x], { eps: 1e-2, samples: 40 });
    });
  }
});

describe('gradcheck avgPool2d', () => {
  for (const c of poolCases) {
    it(poolLabel(c), async () => {
      const x = uniform(new Rng(c.x[1] * 17 + c.x[2]), c.x);
      const fn = (t: f.Tensor) => f.avgPool2d(t, { size: c.size, stride: c.stride, padding: c.padding });
      expect(fn(toTensor(x)).shape).toEqual(c.out);
      await check(fn, [x], { eps: 1e-2, samples: 40 });
    });
  }

  it('excludes padding cells from the average (forward), 3×3 same padding over ones', async () => {
    const y = f.avgPool2d(f.ones([1, 3, 3, 1]), { size: 3, stride: 1, padding: 'same' });
    // If padding counted as zeros, a corner would average 4 ones over 9 cells = 0.444.
    expect(Array.from(await y.data())).toEqual(new Array(9).fill(1));
    const z = f.avgPool2d(f.tensor([1, 2, 3, 4], [1, 2, 2, 1]), { size: 2, stride: 1, padding: 'same' });
    // 'same' with window 2 pads one cell after: windows cover {1,2,3,4}, {2,4}, {3,4}, {4}.
    expect(Array.from(await z.data())).toEqual([2.5, 3, 3.5, 4]);
  });
});

describe('gradcheck matmul', () => {
  const sizes: [number, number, number][] = [[1, 3, 1], [5, 7, 4], [3, 1, 2], [4, 6, 6]];
  for (const [m, k, n] of sizes)
    for (const transposeA of [false, true])
      for (const transposeB of [false, true]) {
        it(`${m}×${k} · ${k}×${n} transposeA ${transposeA} transposeB ${transposeB}`, async () => {
          const rng = new Rng(m * 100 + k * 10 + n + (transposeA ? 1000 : 0) + (transposeB ? 2000 : 0));
          const a = uniform(rng, transposeA ? [k, m] : [m, k]);
          const b = uniform(rng, transposeB ? [n, k] : [k, n]);
          const fn = (x: f.Tensor, y: f.Tensor) => f.matmul(x, y, { transposeA, transposeB });
          expect(fn(toTensor(a), toTensor(b)).shape).toEqual([m, n]);
          await check(fn, [a, b]);
        });
      }
});

describe('gradcheck binary ops with broadcasting', () => {
  const shapes: [number[], number[]][] = [
    [[2, 3, 4], [4]],
    [[4], [2, 3, 4]],
    [[3, 1], [1, 4]],
    [[2, 3], []],
    [[], [2, 3]],
    [[2, 3], [2, 3]],
    [[2, 1, 4], [3, 1]],
  ];
  const ops = { add: f.add, sub: f.sub, mul: f.mul, div: f.div };
  for (const [name, op] of Object.entries(ops))
    for (const [sa, sb] of shapes) {
      it(`${name} [${sa}] with [${sb}]`, async () => {
        const rng = new Rng(sa.length * 10 + sb.length + name.length * 100);
        const a = uniform(rng, sa);
        // Divisors stay in ±[0.5, 1.5]: far from the pole, so the difference quotient is accurate.
        const b = name === 'div' ? awayFromZero(rng, sb, 0.5, 1.5) : uniform(rng, sb);
        await check(op, [a, b], { samples: 30 });
      });
    }

  it('mul and add with a plain number operand', async () => {
    const x = uniform(new Rng(5), [3, 4]);
    await check((t) => f.add(f.mul(t, 3), 2), [x]);
    await check((t) => f.div(1.5, f.add(f.mul(t, t), 1)), [x]);
  });
});

describe('gradcheck unary ops', () => {
  const shape = [3, 4, 2];
  it('relu (inputs at least 0.1 from the kink, eps 1e-2)', async () => {
    const x = awayFromZero(new Rng(1), shape, 0.1, 1);
    const result = await check(f.relu, [x], { samples: 24 });
    expect(result.largestNumeric[0]).toBeGreaterThan(0.01);
  });
  it('sigmoid', async () => check(f.sigmoid, [uniform(new Rng(2), shape, -3, 3)], { samples: 24 }));
  it('tanh', async () => check(f.tanh, [uniform(new Rng(3), shape, -2, 2)], { samples: 24 }));
  it('exp', async () => check(f.exp, [uniform(new Rng(4), shape, -2, 2)], { samples: 24 }));
  it('log (positive inputs)', async () => check(f.log, [uniform(new Rng(5), shape, 0.5, 3)], { samples: 24 }));
  it('sqrt (positive inputs)', async () => check(f.sqrt, [uniform(new Rng(6), shape, 0.5, 3)], { samples: 24 }));
  it('neg', async () => check(f.neg, [uniform(new Rng(7), shape)], { samples: 24 }));
  it('scale (factor and offset)', async () => {
    await check((t) => f.scale(t, 2.5, 0.3), [uniform(new Rng(8), shape)], { samples: 24 });
    await check((t) => f.scale(t, -0.75), [uniform(new Rng(9), shape)], { samples: 24 });
  });
});

describe('gradcheck shape ops and reductions', () => {
  const x = uniform(new Rng(11), [2, 3, 4]);
  it('reshape [2,3,4] → [4,6] and [-1,2]', async () => {
    await check((t) => f.reshape(t, [4, 6]), [x]);
    await check((t) => f.reshape(t, [-1, 2]), [x]);
  });
  it('flatten [2,3,4,5] → [2,60]', async () => {
    const y = uniform(new Rng(12), [2, 3, 4, 5]);
    expect(f.flatten(toTensor(y)).shape).toEqual([2, 60]);
    await check(f.flatten, [y], { samples: 30 });
  });
  it('sum over all axes, some axes, negative axis, keepDims', async () => {
    await check((t) => f.sum(t), [x]);
    await check((t) => f.sum(t, [1]), [x]);
    await check((t) => f.sum(t, [0, 2]), [x]);
    await check((t) => f.sum(t, -1), [x]);
    await check((t) => f.sum(t, [0, 2], true), [x]);
    await check((t) => f.sum(t, undefined, true), [x]);
    expect(f.sum(toTensor(x), [0, 2], true).shape).toEqual([1, 3, 1]);
  });
  it('mean over all axes and some axes, keepDims', async () => {
    await check((t) => f.mean(t), [x]);
    await check((t) => f.mean(t, [1], true), [x]);
    await check((t) => f.mean(t, [0, 2]), [x]);
  });
  it('broadcastTo', async () => {
    await check((t) => f.broadcastTo(t, [2, 3, 4]), [uniform(new Rng(13), [3, 1])]);
    await check((t) => f.broadcastTo(t, [3, 4]), [uniform(new Rng(14), [4])]);
    await check((t) => f.broadcastTo(t, [2, 3]), [uniform(new Rng(15), [])]);
  });
  it('softmax over the last axis', async () => {
    await check(f.softmax, [uniform(new Rng(16), [3, 5], -2, 2)]);
    await check(f.softmax, [uniform(new Rng(17), [2, 3, 4], -2, 2)]);
  });
});

describe('gradcheck softmaxCrossEntropy (gradient w.r.t. logits)', () => {
  it('int32 class labels', async () => {
    const labels = f.tensor(Int32Array.from([0, 4, 2, 2]), [4]);
    const logits = uniform(new Rng(21), [4, 5], -2, 2);
    await check((x) => f.softmaxCrossEntropy(x, labels), [logits]);
  });
  it('float32 probability labels (soft, rows sum to 1)', async () => {
    const rng = new Rng(22);
    const raw = uniform(rng, [3, 4], 0.1, 1).data;
    for (let n = 0; n < 3; n++) {
      const row = raw.subarray(n * 4, n * 4 + 4);
      const total = row.reduce((s, v) => s + v, 0);
      row.forEach((v, i) => (row[i] = v / total));
    }
    const labels = f.tensor(raw, [3, 4]);
    await check((x) => f.softmaxCrossEntropy(x, labels), [uniform(rng, [3, 4], -2, 2)]);
  });
  it('float32 one-hot labels give the same loss and gradient as int32 labels', async () => {
    const logits = uniform(new Rng(23), [3, 4], -2, 2);
    const oneHot = f.tensor([0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0], [3, 4]);
    const ints = f.tensor(Int32Array.from([1, 3, 0]), [3]);
    await check((x) => f.softmaxCrossEntropy(x, oneHot), [logits]);
    const a = f.valueAndGrads((x: f.Tensor) => f.softmaxCrossEntropy(x, oneHot))(toTensor(logits));
    const b = f.valueAndGrads((x: f.Tensor) => f.softmaxCrossEntropy(x, ints))(toTensor(logits));
    expect(Array.from(await a.value.data())).toEqual(Array.from(await b.value.data()));
    expect(Array.from(await a.grads[0].data())).toEqual(Array.from(await b.grads[0].data()));
  });
});

describe('gradcheck a whole small CNN end to end', () => {
  it('conv → relu → maxPool → flatten → dense (matmul + add) → softmaxCrossEntropy, w.r.t. the conv filter', async () => {
    const eps = 1e-3;
    const labels = f.tensor(Int32Array.from([2, 0]), [2]);
    // Redraw until the check cannot cross a kink: every pre-activation is more than 2·eps from 0
    // (a filter tap moves it by at most eps·max|x| ≤ eps), and in each pooling window the positive
    // values differ by more than 4·eps (each can move by eps, so the winner cannot change).
    let inputs: Input[] = [];
    let seed = 1;
    for (; ; seed++) {
      expect(seed).toBeLessThan(500);
      const rng = new Rng(seed);
      inputs = [uniform(rng, [2, 6, 6, 2]), uniform(rng, [3, 3, 2, 3]), uniform(rng, [3], -0.2, 0.2), uniform(rng, [27, 3]), uniform(rng, [3], -0.2, 0.2)];
      const [x, w, b] = inputs.slice(0, 3).map(toTensor);
      const z = await f.conv2d(x, w, { bias: b, padding: 1 }).data(); // [2,6,6,3]
      if (z.some((v) => Math.abs(v) <= 2 * eps)) continue;
      let ok = true;
      for (let n = 0; n < 2 && ok; n++)
        for (let oh = 0; oh < 3 && ok; oh++)
          for (let ow = 0; ow < 3 && ok; ow++)
            for (let k = 0; k < 3 && ok; k++) {
              const window: number[] = [];
              for (let dh = 0; dh < 2; dh++)
                for (let dw = 0; dw < 2; dw++) window.push(z[((n * 6 + oh * 2 + dh) * 6 + ow * 2 + dw) * 3 + k]);
              const pos = window.filter((v) => v > 0).sort((p, q) => q - p);
              if (pos.length > 1 && pos[0] - pos[1] <= 4 * eps) ok = false;
            }
      if (ok) break;
    }
    const fn = (x: f.Tensor, w: f.Tensor, b: f.Tensor, dw: f.Tensor, db: f.Tensor) => {
      const h = f.maxPool2d(f.relu(f.conv2d(x, w, { bias: b, padding: 1 })), { size: 2, stride: 2 });
      const logits = f.add(f.matmul(f.flatten(h), dw), db);
      return f.softmaxCrossEntropy(logits, labels);
    };
    expect(fn(...(inputs.map(toTensor) as [f.Tensor, f.Tensor, f.Tensor, f.Tensor, f.Tensor])).shape).toEqual([]);
    const result = await check(fn as (...xs: f.Tensor[]) => f.Tensor, inputs, { eps, check: [1], samples: 54 });
    expect(result.checked).toBe(54);
  });
});
