// Shared by tests/kernels/*: one GPU runtime per test file, every test inside a validation and
// out-of-memory error scope that must pop empty, seeded random data, and closeness checks.

import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { createGpu, type CreateGpuOptions, type Gpu, type Step } from '../../packages/kernels/src/index.js';

/** Creates the runtime once for the file; `ctx.gpu` is valid inside tests. */
export function useGpu(options: CreateGpuOptions = {}): { gpu: Gpu } {
  const ctx = {} as { gpu: Gpu };
  beforeAll(async () => {
    ctx.gpu = await createGpu(options);
  });
  afterAll(() => ctx.gpu?.destroy());
  beforeEach(() => {
    if (ctx.gpu.lost) return;
    ctx.gpu.device.pushErrorScope('validation');
    ctx.gpu.device.pushErrorScope('out-of-memory');
  });
  afterEach(async () => {
    if (ctx.gpu.lost) return;
    const oom = await ctx.gpu.device.popErrorScope();
    const validation = await ctx.gpu.device.popErrorScope();
    expect(oom?.message ?? null, 'GPU out-of-memory error').toBeNull();
    expect(validation?.message ?? null, 'GPU validation error').toBeNull();
    expect(ctx.gpu.counters.uncapturedErrors, 'uncaptured WebGPU errors').toBe(0);
  });
  return ctx;
}

/** Records with `fn` into one step, submits, and waits for validation. */
export async function run(gpu: Gpu, fn: (step: Step) => void): Promise<void> {
  const step = gpu.step('test');
  fn(step);
  await step.submit();
}

export async function readF32(gpu: Gpu, buffer: GPUBuffer, n: number): Promise<Float32Array> {
  return new Float32Array(await gpu.read(buffer, n * 4));
}

export async function readI32(gpu: Gpu, buffer: GPUBuffer, n: number): Promise<Int32Array> {
  return new Int32Array(await gpu.read(buffer, n * 4));
}

/** Deterministic uniform numbers in [lo, hi) (mulberry32). */
export function random(seed: number): (n: number, lo?: number, hi?: number) => Float32Array {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (n, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
}

/**
 * Passes when |a − e| ≤ rtol·|e| + atol for every element, with atol = rtol · max|expected| by
 * default: a relative tolerance against the output's scale, so entries near zero (after
 * cancellation) do not demand more than float32 holds.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  opts: { rtol?: number; atol?: number } = {},
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const rtol = opts.rtol ?? 1e-4;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const atol = opts.atol ?? rtol * Math.max(scale, 1e-6);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= rtol * Math.abs(e) + atol)) {
      throw new Error(`${what}: element ${i} is ${a}, expected ${e} (rtol ${rtol}, atol ${atol.toExponential(2)})`);
    }
  }
}

/** A device wrapper that refuses large buffers as a device out of memory would. */
export interface OutOfMemoryDevice {
  /** Pass this to createGpu({ device }). */
  device: GPUDevice;
  /** Buffers above this many bytes are refused (default Infinity: none). */
  refuseAbove: number;
  /** Sizes refused so far. */
  refused: number[];
  /** pushErrorScope('out-of-memory') calls so far. */
  oomScopes: number;
}

/**
 * Wraps a real (Dawn) device. A createBuffer above `refuseAbove` bytes returns an unusable buffer
 * (created, then destroyed, so it keeps its size but any submit using it fails validation, as an
 * invalid buffer would) and makes the innermost 'out-of-memory' error scope resolve to
 * `{ message }`, like a GPUOutOfMemoryError. Everything else goes to the real device.
 */
export function simulateOutOfMemory(real: GPUDevice, refuseAbove = Infinity): OutOfMemoryDevice {
  const scopes: { filter: GPUErrorFilter; error?: { message: string } }[] = [];
  const sim: OutOfMemoryDevice = { device: undefined as unknown as GPUDevice, refuseAbove, refused: [], oomScopes: 0 };
  const overrides: Partial<GPUDevice> = {
    pushErrorScope(filter: GPUErrorFilter) {
      scopes.push({ filter });
      if (filter === 'out-of-memory') sim.oomScopes++;
      real.pushErrorScope(filter);
    },
    popErrorScope() {
      const scope = scopes.pop();
      return real.popErrorScope().then((error) => error ?? ((scope?.error ?? null) as GPUError | null));
    },
    createBuffer(descriptor: GPUBufferDescriptor) {
      const buffer = real.createBuffer(descriptor);
      if (descriptor.size > sim.refuseAbove) {
        sim.refused.push(descriptor.size);
        const scope = [...scopes].reverse().find((s) => s.filter === 'out-of-memory');
        if (!scope) throw new Error('test: a large buffer was created outside any out-of-memory error scope');
        scope.error ??= { message: `Out of memory allocating ${descriptor.size} bytes (simulated)` };
        buffer.destroy();
      }
      return buffer;
    },
  };
  sim.device = new Proxy(real, {
    get(target, prop) {
      if (prop in overrides) return overrides[prop as keyof GPUDevice];
      const value = (target as unknown as Record<PropertyKey, unknown>)[prop];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return sim;
}
