// Device loss during training (device.destroy() mid-run, Dawn in Node): the trainer reports it, gets a
// new device, restores the last snapshot and trains on; with no device to be had it goes on on cpu.
import { afterAll, describe, expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';
import { currentBackend, registerBackend } from '../packages/core/src/backends/registry.js';
import type { WebgpuBackend } from '../packages/core/src/backends/webgpu.js';
import { createWebgpuBackend } from '../packages/core/src/backends/webgpu.js';

const images = Float32Array.from({ length: 8 * 64 }, (_, i) => Math.sin((i % 64) * 0.4 * ((Math.floor(i / 64) % 2) + 1)));
const labels = Int32Array.from({ length: 8 }, (_, i) => i % 2);

const makeModel = () =>
  new f.nn.Sequential([new f.nn.Conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }), new f.nn.Flatten(), new f.nn.Dense({ units: 2 })], {
    inputShape: [8, 8, 1],
    seed: 4,
  });

async function lossAt(trainer: f.nn.Trainer): Promise<number> {
  const loss = await trainer.trainStep(images, [8, 8, 8, 1], labels);
  const value = (await loss.data())[0];
  loss.dispose();
  return value;
}

afterAll(async () => {
  registerBackend('webgpu', createWebgpuBackend);
  await f.setBackend('cpu');
});

describe('device loss', () => {
  it('is reported, a new device is acquired, the snapshot restored, and training goes on', async () => {
    await f.setBackend('webgpu');
    const model = makeModel();
    const trainer = new f.nn.Trainer(model, new f.optim.Adam({ lr: 0.02 }), { snapshotEvery: 5 });
    const first = await lossAt(trainer);
    for (let i = 1; i < 10; i++) await lossAt(trainer);
    await trainer.settle();
    expect(trainer.snapshotStep).toBe(10);
    const lostAdapter = currentBackend();
    for (let i = 0; i < 2; i++) await lossAt(trainer); // steps 11, 12: after the snapshot

    (currentBackend() as WebgpuBackend).gpu.device.destroy();
    await new Promise((r) => setTimeout(r, 50)); // let device.lost resolve
    const next = await lossAt(trainer);

    expect(trainer.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['snapshot', 'device-lost', 'recovered']));
    const lost = trainer.events.find((e) => e.kind === 'device-lost')!;
    expect(lost.message).toMatch(/the webgpu device was lost at step 12; restoring the snapshot of step 10/);
    expect(currentBackend()).not.toBe(lostAdapter);
    expect(f.backendInfo().name).toBe('webgpu');
    expect(trainer.step).toBe(11); // restored to 10, then this step
    expect(Number.isFinite(next)).toBe(true);
    for (let i = 0; i < 20; i++) await lossAt(trainer);
    expect(await lossAt(trainer)).toBeLessThan(first);
  });

  it('restores exactly the snapshot values and optimizer step count', async () => {
    await f.setBackend('webgpu');
    const model = makeModel();
    const optimizer = new f.optim.SGD({ lr: 0.05, momentum: 0.9 });
    const trainer = new f.nn.Trainer(model, optimizer, { snapshotEvery: 3 });
    for (let i = 0; i < 3; i++) await lossAt(trainer);
    await trainer.settle();
    const snapshot = await Promise.all(model.parameters().map(async (p) => Array.from(await p.data())));
    const velocity = await Promise.all(optimizer.stateTensors().map(async (s) => Array.from(await s.tensor.data())));
    await lossAt(trainer);
    expect(await trainer.recoverIfLost()).toBe(false);
    (currentBackend() as WebgpuBackend).gpu.device.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(await trainer.recoverIfLost()).toBe(true);
    expect(await Promise.all(model.parameters().map(async (p) => Array.from(await p.data())))).toEqual(snapshot);
    expect(await Promise.all(optimizer.stateTensors().map(async (s) => Array.from(await s.tensor.data())))).toEqual(velocity);
    expect(optimizer.steps).toBe(3);
    expect(trainer.step).toBe(3);
  });

  it('continues on cpu, and says so, when no new device can be had', async () => {
    await f.setBackend('webgpu');
    const model = makeModel();
    const trainer = new f.nn.Trainer(model, new f.optim.SGD({ lr: 0.05 }), { snapshotEvery: 2 });
    for (let i = 0; i < 4; i++) await lossAt(trainer);
    await trainer.settle();
    registerBackend('webgpu', async () => {
      throw new Error('no adapter (simulated)');
    });
    (currentBackend() as WebgpuBackend).gpu.device.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const loss = await lossAt(trainer);
    expect(Number.isFinite(loss)).toBe(true);
    expect(f.backendInfo().name).toBe('cpu');
    const fallback = trainer.events.find((e) => e.kind === 'fell-back-to-cpu')!;
    expect(fallback.message).toMatch(/no new webgpu device could be had \(no adapter \(simulated\)\); continuing on cpu/);
  });
});
