// Property-based: random shapes and options thrown at the CNN ops. Each call either matches the
// cpu reference (on webgpu) and is finite for finite input, or throws a FiltroError at the call.
// Never a crash of another kind, a NaN from finite input, or an engine that fails afterwards.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';
import { setCpuFastPath } from '../packages/core/src/backends/cpu.js';
import { compareResults } from './conformance/cases.js';

// Mostly valid sizes, sometimes 0 (an invalid dimension).
const dim = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 9 }), weight: 9 }, { arbitrary: fc.constant(0), weight: 1 });
const pairOrInt = (min: number, max: number) => fc.oneof(fc.integer({ min, max }), fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })));
const padding = fc.oneof(pairOrInt(-1, 3), fc.constantFrom('same' as const, 'valid' as const));

type Call = { name: string; inputs: { shape: number[] }[]; run: (xs: f.Tensor[]) => f.Tensor };

const conv = fc
  .record({ n: dim, h: dim, w: dim, c: dim, fh: dim, fw: dim, cin: dim, k: dim, stride: pairOrInt(0, 3), padding, bias: fc.boolean(), relu: fc.boolean() })
  .map((o): Call => ({
    name: `conv2d ${JSON.stringify(o)}`,
    inputs: [{ shape: [o.n, o.h, o.w, o.c] }, { shape: [o.fh, o.fw, o.cin, o.k] }, ...(o.bias ? [{ shape: [o.k] }] : [])],
    run: ([x, w, b]) => f.conv2d(x, w, { stride: o.stride, padding: o.padding, bias: b, activation: o.relu ? 'relu' : 'none' }),
  }));

const pool = fc
  .record({ max: fc.boolean(), n: dim, h: dim, w: dim, c: dim, size: pairOrInt(0, 4), stride: fc.option(pairOrInt(0, 3), { nil: undefined }), padding })
  .map((o): Call => ({
    name: `pool ${JSON.stringify(o)}`,
    inputs: [{ shape: [o.n, o.h, o.w, o.c] }],
    run: ([x]) => (o.max ? f.maxPool2d : f.avgPool2d)(x, { size: o.size, stride: o.stride, padding: o.padding }),
  }));

const matmul = fc
  .record({ m: dim, k1: dim, k2: dim, n: dim, ta: fc.boolean(), tb: fc.boolean() })
  .map((o): Call => ({
    name: `matmul ${JSON.stringify(o)}`,
    inputs: [{ shape: o.ta ? [o.k1, o.m] : [o.m, o.k1] }, { shape: o.tb ? [o.n, o.k2] : [o.k2, o.n] }],
    run: ([a, b]) => f.matmul(a, b, { transposeA: o.ta, transposeB: o.tb }),
  }));

const binary = fc
  .record({ op: fc.constantFrom('add', 'sub', 'mul', 'div') as fc.Arbitrary<'add' | 'sub' | 'mul' | 'div'>, a: fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }), b: fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }) })
  .map((o): Call => ({ name: `${o.op} ${JSON.stringify(o)}`, inputs: [{ shape: o.a }, { shape: o.b }], run: ([a, b]) => f[o.op](a, b) }));

const reduce = fc
  .record({ shape: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }), axes: fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 3 }), keep: fc.boolean() })
  .map((o): Call => ({ name: `sum ${JSON.stringify(o)}`, inputs: [{ shape: o.shape }], run: ([x]) => f.sum(x, o.axes, o.keep) }));

const anyCall = fc.oneof(conv, pool, matmul, binary, reduce);

/** Runs a call on the current backend: a result, or the FiltroError it threw at the call. */
async function attempt(call: Call): Promise<{ error: string } | { values: Float32Array | Int32Array }> {
  let inputs: f.Tensor[];
  try {
    inputs = call.inputs.map(({ shape }, i) => f.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, j) => Math.sin(j * 1.7 + i) + (call.name.startsWith('div') && i === 1 ? 2 : 0)), shape));
  } catch (e) {
    if (e instanceof f.FiltroError) return { error: e.message };
    throw e;
  }
  let y: f.Tensor;
  try {
    y = call.run(inputs);
  } catch (e) {
    inputs.forEach((t) => t.dispose());
    if (e instanceof f.FiltroError) return { error: e.message };
    throw e;
  }
  const values = await y.data();
  y.dispose();
  inputs.forEach((t) => t.dispose());
  return { values };
}

describe.each(['cpu', 'webgpu'] as const)('random calls on %s', (backend) => {
  beforeAll(async () => {
    await f.setBackend(backend);
  });
  afterAll(async () => {
    await f.setBackend('cpu');
  });

  it('either match the reference with finite values or throw a FiltroError naming the op, and the engine keeps working', async () => {
    let computed = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(anyCall, async (call) => {
        const got = await attempt(call);
        await f.setBackend('cpu');
        setCpuFastPath(false);
        const want = await attempt(call);
        setCpuFastPath(true);
        await f.setBackend(backend);
        if ('error' in want) {
          expect('error' in got ? got.error : 'no error').toBe(want.error);
          expect(want.error).toMatch(/^(conv2d|maxPool2d|avgPool2d|matmul|add|sub|mul|div|sum|tensor): /);
          rejected++;
          return;
        }
        expect('values' in got).toBe(true);
        const values = (got as { values: Float32Array }).values;
        expect(values.every(Number.isFinite)).toBe(true);
        expect(compareResults({ outputs: [want.values] }, { outputs: [values] })).toBeNull();
        computed++;
        // The engine still works after whatever happened.
        expect(Array.from(await f.add(f.tensor([1, 2]), 1).data())).toEqual([2, 3]);
      }),
      { numRuns: backend === 'cpu' ? 300 : 80, seed: 20261127 },
    );
    // Both outcomes must be exercised for the property to mean something.
    expect(computed).toBeGreaterThan(backend === 'cpu' ? 60 : 15);
    expect(rejected).toBeGreaterThan(backend === 'cpu' ? 60 : 15);
    console.log(`${backend}: ${computed} calls computed, ${rejected} rejected`);
  });
});
