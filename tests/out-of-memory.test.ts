// A device out of memory seen from core: the webgpu backend on a wrapped Dawn device that refuses
// buffers above 16 MiB (tests/kernels/helpers.ts). Reading a result whose plan needed such a buffer
// rejects with the sizes involved, once; work that fits runs afterwards.
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';
import { registerBackend } from '../packages/core/src/backends/registry.js';
import { createWebgpuBackend, WebgpuBackend } from '../packages/core/src/backends/webgpu.js';
import { acquireDevice, createGpu, type Gpu } from '../packages/kernels/src/index.js';
import { simulateOutOfMemory } from './kernels/helpers.js';

const MiB = 2 ** 20;
let release = () => {};
let gpu: Gpu;

beforeAll(async () => {
  const acquired = await acquireDevice();
  const sim = simulateOutOfMemory(acquired.device, 16 * MiB);
  gpu = await createGpu({ device: sim.device });
  const backend = new WebgpuBackend(gpu);
  registerBackend('webgpu', async () => backend);
  await f.setBackend('webgpu');
  release = () => {
    backend.destroy();
    acquired.device.destroy();
  };
});
afterAll(async () => {
  await f.setBackend('cpu');
  registerBackend('webgpu', createWebgpuBackend);
  release();
});

const a = () => f.ones([4096, 1]);

it('tensor.data() rejects naming the sizes involved', async () => {
  const [x, y] = [a(), f.ones([1, 2048])];
  const big = f.matmul(x, y); // [4096, 2048] float32: 32 MiB, refused
  await expect(big.data()).rejects.toThrow(
    /^filtro: out of GPU memory creating a 32\.0 MiB buffer \(filtro pool 33554432\) with [\d.]+ (bytes|KiB|MiB) live and [\d.]+ (bytes|KiB|MiB) pooled \(maxBufferSize [\d.]+ [KMGT]iB\); free tensors \(dispose\) or use a smaller batch$/,
  );
  expect(gpu.counters.outOfMemoryErrors).toBeGreaterThanOrEqual(1); // the output, maybe the readback too
  for (const t of [x, y, big]) t.dispose();
});

// A failed plan is reported to one read; it must not poison the reads of later plans.
it('the engine keeps working afterwards for work that fits', async () => {
  const small = f.matmul(f.ones([64, 1]), f.ones([1, 32]));
  expect(Array.from(await small.data())).toEqual(new Array(64 * 32).fill(1));
  const x = a();
  expect(Array.from(await f.add(x, x).data())).toEqual(new Array(4096).fill(2));
  for (const t of [x, small]) t.dispose();
});
