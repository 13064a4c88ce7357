// The scheduler on webgpu (Dawn in Node): one submit per training step, no buffers created in steady
// state, flat memory, buffer reuse after dispose, one readback per tensor, errors before GPU work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';
import { currentBackend } from '../packages/core/src/backends/registry.js';
import type { WebgpuBackend } from '../packages/core/src/backends/webgpu.js';

beforeAll(async () => {
  await f.setBackend('webgpu');
});
afterAll(async () => {
  await f.setBackend('cpu');
});

function smallModel() {
  return new f.nn.Sequential(
    [
      new f.nn.Conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }),
      new f.nn.MaxPool2d({ size: 2 }),
      new f.nn.Flatten(),
      new f.nn.Dense({ units: 16, activation: 'relu' }),
      new f.nn.Dense({ units: 3 }),
    ],
    { inputShape: [10, 10, 1], seed: 5 },
  );
}

/** 8 images whose class (0–2) sets the frequency of a wave, so the task is learnable. */
const batch = (step: number) => {
  const labels = Int32Array.from({ length: 8 }, (_, i) => (i + step) % 3);
  const x = Float32Array.from({ length: 8 * 100 }, (_, i) => Math.sin((i % 100) * 0.3 * (labels[Math.floor(i / 100)] + 1) + step));
  return { x: f.tensor(x, [8, 10, 10, 1]), y: f.tensor(labels, [8]) };
};

describe('webgpu scheduler', () => {
  it('runs on the webgpu backend', () => {
    expect(f.backendInfo().name).toBe('webgpu');
    expect(f.backendInfo().adapter).toBeDefined();
  });

  it('a training step is exactly one submit, no buffers, bind groups or pipelines created and no readback in steady state', async () => {
    const model = smallModel();
    const optimizer = new f.optim.Adam({ lr: 0.01 });
    const step = () => {
      const { x, y } = batch(0);
      const loss = model.trainStep(x, y, optimizer);
      x.dispose();
      y.dispose();
      return loss;
    };
    // Warm-up: pipelines, pool, optimizer state, and the pool's free lists settling into the same
    // buffers every step (updates work in place, so parameters keep theirs), after which every
    // bind group repeats.
    for (let i = 0; i < 8; i++) step().dispose();
    for (let i = 0; i < 3; i++) {
      const before = f.stats();
      const loss = step();
      const after = f.stats();
      expect(after.submits - before.submits).toBe(1);
      expect(after.buffersCreated - before.buffersCreated).toBe(0);
      expect(after.pipelinesCompiled - before.pipelinesCompiled).toBe(0);
      expect(after.bindGroupsCreated - before.bindGroupsCreated).toBe(0);
      expect(after.readbacks - before.readbacks).toBe(0);
      expect(after.dispatches - before.dispatches).toBeGreaterThan(10);
      expect(Number.isFinite((await loss.data())[0])).toBe(true);
      loss.dispose();
    }
    model.dispose();
    optimizer.dispose();
  });

  it('bytesLive and buffersCreated stay flat over 200 training steps, and the loss falls', async () => {
    const model = smallModel();
    const optimizer = new f.optim.SGD({ lr: 0.05, momentum: 0.9 });
    const losses: number[] = [];
    let flat: { bytes: number; buffers: number } | null = null;
    for (let i = 0; i < 200; i++) {
      const { x, y } = batch(i % 4);
      const loss = model.trainStep(x, y, optimizer);
      x.dispose();
      y.dispose();
      if (i % 50 === 0 || i === 199) losses.push((await loss.data())[0]);
      loss.dispose();
      if (i === 10) flat = { bytes: f.stats().bytesLive, buffers: f.stats().buffersCreated };
    }
    expect(f.stats().bytesLive).toBe(flat!.bytes);
    expect(f.stats().buffersCreated).toBe(flat!.buffers);
    expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.5);
    const held = f.stats().bytesLive;
    model.dispose();
    optimizer.dispose();
    const params = 2 * (3 * 3 * 1 * 4 + 4 + 64 * 16 + 16 + 16 * 3 + 3) * 4; // weights + momentum
    const record = 5 * 4; // the int32 [5] record of non-finite steps
    const { x, y } = batch(0);
    const recorded = (x.size + y.size + 1 + 1 + 1) * 4; // the recorded step's batch, labels, loss, lr and step number
    x.dispose();
    y.dispose();
    expect(held - f.stats().bytesLive).toBe(params + record + recorded);
  });

  it('is deterministic: the same seed gives bit-identical weights after 20 steps (no float sum depends on timing)', async () => {
    const run = async () => {
      const model = smallModel();
      const optimizer = new f.optim.Adam({ lr: 0.01 });
      for (let i = 0; i < 20; i++) {
        const { x, y } = batch(i % 3);
        model.trainStep(x, y, optimizer).dispose();
        x.dispose();
        y.dispose();
      }
      const weights = await Promise.all(model.parameters().map(async (p) => Array.from(await p.data())));
      model.dispose();
      optimizer.dispose();
      return weights;
    };
    const [a, b] = [await run(), await run()];
    expect(a).toEqual(b);
    expect(a.flat().some((v) => v !== 0)).toBe(true);
  });

  it("a disposed tensor's buffer is reused by the next tensor of that size", () => {
    const a = f.tensor(new Float32Array(1000), [1000]);
    a.dispose();
    const before = f.stats().buffersCreated;
    const b = f.tensor(new Float32Array(1000), [1000]);
    expect(f.stats().buffersCreated).toBe(before);
    b.dispose();
  });

  it('reading a tensor twice reads back once; intermediates are freed', async () => {
    const x = f.tensor([1, -2, 3, -4], [2, 2]);
    const live = f.stats().bytesLive;
    const y = f.relu(f.mul(f.add(x, 1), 2));
    const r0 = f.stats().readbacks;
    expect(Array.from(await y.data())).toEqual([4, 0, 8, 0]);
    expect(Array.from(await y.data())).toEqual([4, 0, 8, 0]);
    expect(f.stats().readbacks - r0).toBe(1);
    expect(f.stats().bytesLive - live).toBe(16);
    y.dispose();
    x.dispose();
  });

  it('updates work in place, yet a read asked for before the next step sees the value it was asked for', async () => {
    const train = (model: f.nn.Sequential, optimizer: f.optim.Optimizer, step: number) => {
      const { x, y } = batch(step);
      model.trainStep(x, y, optimizer).dispose();
      x.dispose();
      y.dispose();
    };
    const [a, b] = [smallModel(), smallModel()];
    const [optA, optB] = [new f.optim.Adam({ lr: 0.01 }), new f.optim.Adam({ lr: 0.01 })];
    for (let i = 0; i < 3; i++) {
      train(a, optA, i);
      train(b, optB, i);
    }
    const buffer = (t: f.Tensor) => (t.allocation!.storage as { buffer: GPUBuffer }).buffer;
    const weight = a.parameters()[0];
    const kept = buffer(weight);
    const pending = weight.data(); // not awaited: the next step overwrites this very buffer
    train(a, optA, 3);
    expect(buffer(weight)).toBe(kept);
    const expected = await b.parameters()[0].data(); // b stopped after 3 steps
    expect(Array.from(await pending)).toEqual(Array.from(expected));
    expect(Array.from(await weight.data())).not.toEqual(Array.from(expected));
    for (const t of [a, b, optA, optB]) t.dispose();
  });

  it("a conv's forward and its filter gradient in one plan share one im2col", async () => {
    const x = f.tensor(Float32Array.from({ length: 2 * 9 * 9 * 3 }, (_, i) => Math.sin(i)), [2, 9, 9, 3]);
    const w = f.tensor(Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)), [3, 3, 3, 4]);
    const dispatchesOf = (targets: () => f.Tensor[]) => {
      const before = f.stats().dispatches;
      const made = targets();
      f.realize(made);
      const n = f.stats().dispatches - before;
      return { n, made };
    };
    const lossOf = (ww: f.Tensor) => f.sum(f.conv2d(x, ww, { stride: 1, padding: 1 }));
    const forward = dispatchesOf(() => [f.conv2d(x, w, { stride: 1, padding: 1 })]);
    const { grads } = f.valueAndGrads(lossOf)(w);
    const gradientOnly = dispatchesOf(() => [grads[0]]);
    const both = f.valueAndGrads(lossOf)(w);
    const together = dispatchesOf(() => [both.value, both.grads[0]]);
    const sum = dispatchesOf(() => [f.sum(forward.made[0])]).n;
    expect(together.n).toBe(forward.n + sum + gradientOnly.n - 1);
    expect(Array.from(await together.made[1].data())).toEqual(Array.from(await gradientOnly.made[0].data()));
    for (const t of [x, w, ...forward.made, ...gradientOnly.made, ...together.made]) t.dispose();
  });

  it('bad input gives the same error as on cpu, thrown before any GPU work', async () => {
    const bad = () => f.conv2d(f.zeros([1, 4, 4, 1]), f.zeros([7, 7, 1, 1]));
    const before = f.stats();
    let gpuError = '';
    try {
      bad();
    } catch (e) {
      gpuError = (e as Error).message;
    }
    const after = f.stats();
    expect(after.submits).toBe(before.submits);
    expect(after.dispatches).toBe(before.dispatches);
    await f.setBackend('cpu');
    let cpuError = '';
    try {
      bad();
    } catch (e) {
      cpuError = (e as Error).message;
    }
    await f.setBackend('webgpu');
    expect(gpuError).toMatch(/^conv2d: output height/);
    expect(gpuError).toBe(cpuError);
  });

  it('tensors of another backend are refused with a clear error', async () => {
    await f.setBackend('cpu');
    const onCpu = f.tensor([1, 2], [2]);
    await f.setBackend('webgpu');
    expect(() => f.relu(onCpu)).toThrow(/relu: input 0 lives on the cpu backend but the current backend is webgpu/);
  });
});

describe('device limits', () => {
  beforeAll(async () => {
    await f.setBackend('webgpu');
  });

  it('a conv whose im2col buffer exceeds the adapter limit is rejected before any GPU work, naming the limit', async () => {
    const { limits } = (currentBackend() as WebgpuBackend).gpu;
    const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    // An 11×11 filter over 16 channels makes im2col columns 121× the input: the input stays small.
    const width = Math.ceil(limit / (4 * 121 * 16)) + 1;
    const x = f.tensor(new Float32Array(width * 16), [1, 1, width, 16]);
    const w = f.tensor(new Float32Array(11 * 11 * 16), [11, 11, 16, 1]);
    const y = f.conv2d(x, w, { padding: 'same' });
    const before = f.stats();
    await expect(y.data()).rejects.toThrow(new RegExp(`^conv2d: im2col columns \\[${width}, 1936\\] needs [\\d.]+ MiB, above this adapter's limit of [\\d.]+ MiB per buffer`));
    const after = f.stats();
    expect(after.submits).toBe(before.submits);
    expect(after.dispatches).toBe(before.dispatches);
    expect(after.bytesLive).toBe(before.bytesLive);
    expect(Array.from(await f.relu(f.tensor([-1, 2])).data())).toEqual([0, 2]);
    x.dispose();
    w.dispose();
  });
});
