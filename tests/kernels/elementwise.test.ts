// elementwise.wgsl against JS: every unary op, relu backward, broadcasting binary ops up to rank 8,
// broadcastTo, fill, scale and copy.

import { describe, expect, it } from 'vitest';
import {
  binary, BINARY_OPS, broadcastShapes, broadcastTo, copy, fill, reluBackward, scale, unary, UNARY_OPS,
  type BinaryOp, type UnaryOp,
} from '../../packages/kernels/src/index.js';
import { expectClose, random, readF32, run, useGpu } from './helpers.js';

const ctx = useGpu();
const rand = random(5);

const UNARY: Record<UnaryOp, (x: number) => number> = {
  copy: (x) => x,
  relu: (x) => Math.max(x, 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  square: (x) => x * x,
  scale: (x) => 2.5 * x - 0.5,
};

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b,
  max: Math.max, min: Math.min,
};

/** numpy broadcasting in JS: the element of `shape` (right-aligned) read at output coordinates. */
function broadcastRef(data: Float32Array, shape: number[], out: number[]): Float64Array {
  const n = out.reduce((a, b) => a * b, 1);
  const res = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let offset = 0;
    let stride = 1;
    for (let ax = out.length - 1; ax >= 0; ax--) {
      const coord = rem % out[ax];
      rem = Math.floor(rem / out[ax]);
      const sAx = ax - (out.length - shape.length);
      if (sAx >= 0) {
        if (shape[sAx] !== 1) offset += coord * stride;
        stride *= shape[sAx];
      }
    }
    res[i] = data[offset];
  }
  return res;
}

describe('elementwise', () => {
  it('unary ops, including ±100 for sigmoid and tanh', async () => {
    const { gpu } = ctx;
    const n = 1000;
    for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
      const x = op === 'log' || op === 'sqrt' ? rand(n, 0.01, 10) : op === 'exp' ? rand(n, -10, 10) : rand(n, -5, 5);
      if (op === 'sigmoid' || op === 'tanh') x.set([100, -100, 0, 20, -20]);
      const gx = gpu.upload(x);
      const gy = gpu.buffer(n * 4);
      await run(gpu, (s) => unary(s, op, { x: gx, y: gy }, n, { alpha: 2.5, beta: -0.5 }));
      // exp/log/tanh/sigmoid are not correctly rounded in WGSL: a few ulp, well inside 1e-4
      // relative. atol 1e-37 only admits denormal results flushed to zero (sigmoid(−100) ≈ 4e-44).
      expectClose(await readF32(gpu, gy, n), Float64Array.from(x, UNARY[op]), op, { atol: 1e-37 });
      gpu.release(gx);
      gpu.release(gy);
    }
  });

  it('reluBackward, scale, copy, fill on odd sizes', async () => {
    const { gpu } = ctx;
    for (const n of [1, 4, 63, 64, 65, 1001, 4096]) {  // multiples of 4 take the vec4 relu backward
      const dy = rand(n);
      const x = rand(n);
      x[0] = 0;  // relu'(0) = 0
      const [gdy, gx] = [dy, x].map((a) => gpu.upload(a));
      const [gdx, gs, gc, gf] = [n, n, n, n].map(() => gpu.buffer(n * 4));
      await run(gpu, (s) => {
        reluBackward(s, { dy: gdy, x: gx, dx: gdx }, n);
        scale(s, { x: gx, y: gs }, n, -3);
        copy(s, { x: gx, y: gc }, n);
        fill(s, { y: gf }, n, 0.25);
      });
      expectClose(await readF32(gpu, gdx, n), Float64Array.from(x, (v, i) => (v > 0 ? dy[i] : 0)), 'reluBackward');
      expectClose(await readF32(gpu, gs, n), Float64Array.from(x, (v) => -3 * v), 'scale');
      expect([...(await readF32(gpu, gc, n))]).toEqual([...x]);
      expect([...(await readF32(gpu, gf, n))]).toEqual(new Array(n).fill(0.25));
      for (const b of [gdy, gx, gdx, gs, gc, gf]) gpu.release(b);
    }
  });

  const PAIRS: Array<[number[], number[]]> = [
    [[7], [7]], [[1], [5]], [[3, 1], [1]], [[2, 3, 4], [4]], [[2, 3, 4], [3, 1]], [[5, 1, 3], [1, 4, 1]],
    [[4, 1, 9, 2], [1, 5, 1, 2]], [[2, 1, 3, 1, 2, 1], [1, 4, 1, 5, 1, 3]], [[2, 1, 2, 1, 2, 1, 2, 3], [1, 2, 1, 2, 1, 2, 1, 3]],
    [[33, 17], [33, 17]], [[], [3]],
  ];
  for (const op of Object.keys(BINARY_OPS) as BinaryOp[]) {
    it(`binary ${op} with broadcasting`, async () => {
      const { gpu } = ctx;
      for (const [as, bs] of PAIRS) {
        const a = rand(as.reduce((p, q) => p * q, 1));
        const b = rand(bs.reduce((p, q) => p * q, 1)).map((v) => (op === 'div' ? Math.sign(v) * (0.5 + Math.abs(v)) : v));
        const out = broadcastShapes(as, bs);
        const n = out.reduce((p, q) => p * q, 1);
        const [ga, gb] = [a, b].map((v) => gpu.upload(v));
        const gy = gpu.buffer(n * 4);
        let shape: number[] = [];
        await run(gpu, (s) => (shape = binary(s, op, { a: ga, b: gb, y: gy }, as, bs)));
        expect(shape).toEqual(out);
        const ra = broadcastRef(a, as, out);
        const rb = broadcastRef(b, bs, out);
        expectClose(await readF32(gpu, gy, n), ra.map((v, i) => BINARY[op](v, rb[i])), `${op} [${as}] [${bs}]`);
        for (const buf of [ga, gb, gy]) gpu.release(buf);
      }
    });
  }

  it('broadcastTo, and shape errors', async () => {
    const { gpu } = ctx;
    for (const [as, out] of [[[3], [2, 3]], [[4, 1, 2], [3, 4, 5, 2]], [[1], [7]], [[2, 3], [2, 3]]]) {
      const a = rand(as.reduce((p, q) => p * q, 1));
      const n = out.reduce((p, q) => p * q, 1);
      const ga = gpu.upload(a);
      const gy = gpu.buffer(n * 4);
      await run(gpu, (s) => broadcastTo(s, { a: ga, y: gy }, as, out));
      expectClose(await readF32(gpu, gy, n), broadcastRef(a, as, out), `broadcastTo [${as}] → [${out}]`, { rtol: 0, atol: 0 });
      gpu.release(ga);
      gpu.release(gy);
    }
    expect(() => broadcastShapes([2, 3], [4, 3])).toThrow(/do not broadcast/);
    const step = gpu.step();
    expect(() => broadcastTo(step, { a: gpu.scratch(0), y: gpu.scratch(1) }, [2], [3])).toThrow(/broadcast/);
    await step.submit();
  });
});
