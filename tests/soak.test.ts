// Memory soak: 2,000 training steps on each backend. After warm-up, bytes, tensors and (on the GPU)
// device buffers stay flat: training leaks nothing.
import { afterAll, describe, expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';

afterAll(async () => {
  await f.setBackend('cpu');
});

describe.each(['cpu', 'webgpu'] as const)('2,000 steps on %s', (backend) => {
  it('keep bytesLive, tensorsLive and buffersCreated flat after warm-up', async () => {
    await f.setBackend(backend);
    const model = new f.nn.Sequential(
      [new f.nn.Conv2d({ filters: 2, kernelSize: 3, activation: 'relu' }), new f.nn.MaxPool2d({ size: 2 }), new f.nn.Flatten(), new f.nn.Dense({ units: 2 })],
      { inputShape: [6, 6, 1], seed: 2 },
    );
    const optimizer = new f.optim.Adam({ lr: 0.01 });
    const x = f.tensor(Float32Array.from({ length: 4 * 36 }, (_, i) => Math.cos(i)), [4, 6, 6, 1]);
    const y = f.tensor(Int32Array.from([0, 1, 1, 0]), [4]);
    let baseline: f.Stats | null = null;
    let firstLoss = 0;
    for (let step = 0; step < 2000; step++) {
      const loss = model.trainStep(x, y, optimizer);
      if (step === 0) firstLoss = (await loss.data())[0];
      loss.dispose();
      if (step === 20) baseline = f.stats();
      if (step > 20 && step % 500 === 0) {
        const now = f.stats();
        expect(now.bytesLive).toBe(baseline!.bytesLive);
        expect(now.tensorsLive).toBe(baseline!.tensorsLive);
        expect(now.buffersCreated).toBe(baseline!.buffersCreated);
      }
    }
    const end = f.stats();
    expect(end.bytesLive).toBe(baseline!.bytesLive);
    expect(end.tensorsLive).toBe(baseline!.tensorsLive);
    expect(end.buffersCreated).toBe(baseline!.buffersCreated);
    const last = model.trainStep(x, y, optimizer);
    expect((await last.data())[0]).toBeLessThan(firstLoss);
    last.dispose();
    // What the model and optimizer hold is exactly what dispose() gives back.
    for (const t of [x, y]) t.dispose();
    model.dispose();
    optimizer.dispose();
  });
});
