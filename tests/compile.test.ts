// model.compile(): every pipeline of a training step compiled up front, in parallel, without running
// anything; the first step then compiles nothing and trains exactly as it would have without it.
import { afterAll, describe, expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';
import { resetBackend } from '../packages/core/src/backends/registry.js';

const makeModel = () =>
  new f.nn.Sequential(
    [new f.nn.Conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }), new f.nn.MaxPool2d({ size: 2 }), new f.nn.Flatten(), new f.nn.Dense({ units: 4 })],
    { inputShape: [8, 8, 1], seed: 2 },
  );
const x = () => f.tensor(Float32Array.from({ length: 5 * 64 }, (_, i) => Math.sin(i * 0.3)), [5, 8, 8, 1]);
const y = () => f.tensor(Int32Array.from({ length: 5 }, (_, i) => i % 4), [5]);

async function weightsAfterSteps(compileFirst: boolean): Promise<{ weights: number[][]; compiled: number; progress: number[][]; firstStepPipelines: number }> {
  const model = makeModel();
  const optimizer = new f.optim.Adam({ lr: 0.01 });
  const progress: number[][] = [];
  const compiled = compileFirst ? await model.compile(optimizer, { batchSize: 5, onProgress: (done, total) => progress.push([done, total]) }) : 0;
  const before = f.stats().pipelinesCompiled;
  const [xs, ys] = [x(), y()];
  model.trainStep(xs, ys, optimizer).dispose();
  const firstStepPipelines = f.stats().pipelinesCompiled - before;
  for (let i = 0; i < 2; i++) model.trainStep(xs, ys, optimizer).dispose();
  const weights = await Promise.all(model.parameters().map(async (p) => Array.from(await p.data())));
  for (const t of [xs, ys, model, optimizer]) t.dispose();
  return { weights, compiled, progress, firstStepPipelines };
}

afterAll(async () => {
  await f.setBackend('cpu');
});

describe('model.compile', () => {
  it('on webgpu compiles every pipeline of the step up front, reports progress, and changes nothing', async () => {
    await f.setBackend('webgpu'); // a fresh device: no pipeline compiled yet
    const live = f.stats().bytesLive;
    const withCompile = await weightsAfterSteps(true);
    expect(withCompile.compiled).toBeGreaterThan(5);
    expect(withCompile.firstStepPipelines).toBe(0);
    expect(withCompile.progress.length).toBe(withCompile.compiled);
    expect(withCompile.progress.at(-1)).toEqual([withCompile.compiled, withCompile.compiled]);
    expect(f.stats().bytesLive).toBe(live); // nothing left behind

    await resetBackend('webgpu'); // a new device, whose pipelines are compiled at first use
    const without = await weightsAfterSteps(false);
    expect(without.firstStepPipelines).toBeGreaterThan(5);
    expect(withCompile.weights).toEqual(without.weights);
  });

  it("with predictions: true also compiles what trainStepWithPredictions adds (the outputs' argmax)", async () => {
    const firstStep = async (predictions: boolean) => {
      await resetBackend('webgpu'); // a fresh device: no pipeline compiled yet
      const model = makeModel();
      const optimizer = new f.optim.SGD({ lr: 0.1 });
      await model.compile(optimizer, { batchSize: 5, predictions });
      const before = f.stats().pipelinesCompiled;
      const [xs, ys] = [x(), y()];
      const step = model.trainStepWithPredictions(xs, ys, optimizer);
      await step.predictions.data();
      const compiled = f.stats().pipelinesCompiled - before;
      for (const t of [step.loss, step.predictions, xs, ys, model, optimizer]) t.dispose();
      return compiled;
    };
    expect(await firstStep(true)).toBe(0);
    expect(await firstStep(false)).toBeGreaterThan(0);
  });

  it('is a no-op on cpu, and validates its options', async () => {
    await f.setBackend('cpu');
    const model = makeModel();
    const optimizer = new f.optim.SGD({ lr: 0.1 });
    expect(await model.compile(optimizer, { batchSize: 5 })).toBe(0);
    await expect(model.compile(optimizer, { batchSize: 0 })).rejects.toThrow(/compile: batchSize must be an integer ≥ 1, got 0/);
    await expect(model.compile(optimizer, { batchSize: 5, onNonFinite: 'ignore' as 'stop' })).rejects.toThrow(/compile/);
    await expect(model.compile(optimizer, { batchSize: 5, epochs: 3 } as never)).rejects.toThrow(/compile.*epochs/);
    model.dispose();
    optimizer.dispose();
  });
});
