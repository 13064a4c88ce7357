// model.trainStep on webgpu records its step once and replays it: a replay must be exactly the step
// that building the graph would have run (same losses, weights and optimizer state, bit for bit),
// must create nothing on the GPU, and must give way to a new recording whenever the batch shape,
// the optimizer or the parameters' storage change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';
import type { Tensor } from '../packages/core/src/index.js';
import { restore } from '../packages/core/src/tensor.js';

const N = 5;
const makeModel = () =>
  new f.nn.Sequential(
    [
      new f.nn.Conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }),
      new f.nn.MaxPool2d({ size: 2 }),
      new f.nn.Flatten(),
      new f.nn.Dense({ units: 4 }),
    ],
    { inputShape: [6, 6, 2], seed: 4 },
  );
const batch = (step: number, n = N): [Tensor, Tensor] => [
  f.tensor(Float32Array.from({ length: n * 72 }, (_, i) => Math.sin(i * 0.37 + step)), [n, 6, 6, 2]),
  f.tensor(Int32Array.from({ length: n }, (_, i) => (i + step) % 4), [n]),
];

/** The steps trainStep takes, written out: graph, autograd and one optimizer plan each time. */
function plainStep(model: f.nn.Sequential, x: Tensor, y: Tensor, opt: f.optim.Optimizer, onNonFinite: 'stop' | 'skip' = 'stop'): Tensor {
  const loss = f.softmaxCrossEntropy(model.forward(x), y);
  const params = model.parameters();
  opt.step(params, f.gradients(loss, params), [loss], { loss, onNonFinite });
  return loss;
}

type Stepper = (model: f.nn.Sequential, x: Tensor, y: Tensor, opt: f.optim.Optimizer) => Tensor;
const trainStep: Stepper = (model, x, y, opt) => model.trainStep(x, y, opt);

async function snapshot(model: f.nn.Sequential, opt: f.optim.Optimizer): Promise<number[][]> {
  const tensors = [...model.parameters(), ...opt.stateTensors().map((s) => s.tensor)];
  return Promise.all(tensors.map(async (t) => Array.from(await t.data())));
}

/**
 * Trains one step per entry of `sizes` (its batch size), calling `before` ahead of each step (a
 * learning-rate schedule, another optimizer, restored weights; it returns the optimizer to use),
 * and returns every loss, the final weights and optimizer state, and how many steps were replays.
 */
async function train(
  stepper: Stepper,
  makeOpt: () => f.optim.Optimizer,
  sizes: number[],
  before: (step: number, model: f.nn.Sequential, opt: f.optim.Optimizer) => f.optim.Optimizer | Promise<f.optim.Optimizer> = (_, __, opt) => opt,
): Promise<{ losses: number[]; state: number[][]; replays: number }> {
  const model = makeModel();
  let opt = makeOpt();
  const losses: number[] = [];
  const replayed = f.stats().stepsReplayed;
  for (const [step, n] of sizes.entries()) {
    opt = await before(step, model, opt);
    const [x, y] = batch(step, n);
    const loss = stepper(model, x, y, opt);
    losses.push((await loss.data())[0]);
    for (const t of [loss, x, y]) t.dispose();
  }
  const state = await snapshot(model, opt);
  model.dispose();
  opt.dispose();
  return { losses, state, replays: f.stats().stepsReplayed - replayed };
}

beforeAll(async () => {
  await f.setBackend('webgpu');
});
afterAll(async () => {
  await f.setBackend('cpu');
});

describe('recorded and replayed training steps (webgpu)', () => {
  const sizes = [N, N, N, N, N, N, 3, N, 3, 3, N, N];
  it.each([
    ['Adam', () => new f.optim.Adam({ lr: 0.01 })],
    ['SGD with momentum', () => new f.optim.SGD({ lr: 0.05, momentum: 0.9 })],
    ['SGD', () => new f.optim.SGD({ lr: 0.05 })],
  ] as const)('%s: replays give the very losses, weights and state of building each step', async (_name, makeOpt) => {
    // A schedule at step 4: the replay takes the new rate without a new recording.
    const schedule = (step: number, _model: f.nn.Sequential, opt: f.optim.Optimizer) => {
      if (step === 4) (opt as f.optim.SGD | f.optim.Adam).lr *= 0.5;
      return opt;
    };
    const replayed = await train(trainStep, makeOpt, sizes, schedule);
    const built = await train(plainStep, makeOpt, sizes, schedule);
    expect(replayed.losses).toEqual(built.losses);
    expect(replayed.state).toEqual(built.state);
    expect(new Set(replayed.losses).size).toBe(sizes.length); // every step did something
    // The first step cannot be replayed (the optimizer state and the finite check's record are made
    // by it); steps 1 and 6 (the first batch of 3) are recorded; every other step is a replay.
    expect(replayed.replays).toBe(sizes.length - 3);
    expect(built.replays).toBe(0);
  });

  it('a replay submits once and creates no buffer, bind group or pipeline', async () => {
    const model = makeModel();
    const opt = new f.optim.Adam({ lr: 0.01 });
    const [x, y] = batch(0);
    const built = f.stats();
    plainStep(model, x, y, opt).dispose();
    const plainDispatches = f.stats().dispatches - built.dispatches;
    for (let i = 0; i < 3; i++) model.trainStep(x, y, opt).dispose();
    const before = f.stats();
    const losses: Tensor[] = [];
    for (let i = 0; i < 5; i++) losses.push(model.trainStep(x, y, opt));
    const after = f.stats();
    expect(after.submits - before.submits).toBe(5);
    expect(after.dispatches - before.dispatches).toBe(5 * plainDispatches);
    expect(after.buffersCreated - before.buffersCreated).toBe(0);
    expect(after.bindGroupsCreated - before.bindGroupsCreated).toBe(0);
    expect(after.pipelinesCompiled - before.pipelinesCompiled).toBe(0);
    expect(after.readbacks - before.readbacks).toBe(0);
    expect(after.stepsReplayed - before.stepsReplayed).toBe(5);
    // Each returned loss is its own step's, even though one recording computed them all.
    const values = await Promise.all(losses.map(async (l) => (await l.data())[0]));
    expect(new Set(values).size).toBe(5);
    expect(values[4]).toBeLessThan(values[0]);
    for (const t of [...losses, x, y, model, opt]) t.dispose();
  });

  it('records anew for another optimizer or restored weights, and still matches building each step', async () => {
    const changes = async (step: number, model: f.nn.Sequential, opt: f.optim.Optimizer) => {
      if (step === 3) {
        opt.dispose();
        return new f.optim.SGD({ lr: 0.02, momentum: 0.5 });
      }
      // Weights replaced from the host, as restoring a snapshot does: new storage for each.
      if (step === 6) for (const p of model.parameters()) restore(p, (await p.data()).map((v) => v * 0.9));
      return opt;
    };
    const run = (stepper: Stepper) => train(stepper, () => new f.optim.Adam({ lr: 0.01 }), [N, N, N, N, N, N, N, N], changes);
    const replayed = await run(trainStep);
    const built = await run(plainStep);
    expect(replayed.losses).toEqual(built.losses);
    expect(replayed.state).toEqual(built.state);
    // Recorded at steps 1, 4 (a new optimizer's state exists from its first step on) and 6.
    expect(replayed.replays).toBe(3);
  });

  it('a non-finite batch in a replayed step stops the updates and is reported, as when built', async () => {
    const model = makeModel();
    const opt = new f.optim.Adam({ lr: 0.01 });
    for (let step = 0; step < 4; step++) {
      const [x, y] = batch(step);
      model.trainStep(x, y, opt).dispose();
      x.dispose();
      y.dispose();
    }
    const good = await snapshot(model, opt);
    const [x, y] = batch(9);
    const values = await x.data();
    values[7] = NaN;
    const bad = f.tensor(values, x.shape);
    model.trainStep(bad, y, opt).dispose();
    model.trainStep(x, y, opt).dispose(); // 'stop': no later update applies either
    await expect(f.nn.checkNumerics(model, opt)).rejects.toThrow(/step 5/);
    expect(await snapshot(model, opt)).toEqual(good);
    for (const t of [x, y, bad, model, opt]) t.dispose();
  });

  it('a disposed or lazy batch takes the usual path: its error, or a plain step', async () => {
    const model = makeModel();
    const opt = new f.optim.SGD({ lr: 0.05 });
    const [x, y] = batch(0);
    for (let i = 0; i < 3; i++) model.trainStep(x, y, opt).dispose();
    const lazy = f.mul(x, f.scalar(1));
    const loss = model.trainStep(lazy, y, opt);
    expect(Number.isFinite((await loss.data())[0])).toBe(true);
    x.dispose();
    expect(() => model.trainStep(x, y, opt)).toThrow(/disposed/);
    for (const t of [loss, lazy, y, model, opt]) t.dispose();
  });

  it('trainStepWithPredictions replays too, and gives the predictions and losses of building each step', async () => {
    const steps = 6;
    const run = async (withPredictions: boolean) => {
      const live = f.stats().bytesLive;
      const model = makeModel();
      const opt = new f.optim.Adam({ lr: 0.01 });
      const out: { loss: number; predictions: number[] }[] = [];
      const before = f.stats();
      for (let step = 0; step < steps; step++) {
        const [x, y] = batch(step);
        let loss: Tensor;
        let predictions: Tensor;
        if (withPredictions) {
          ({ loss, predictions } = model.trainStepWithPredictions(x, y, opt));
        } else {
          // Written out: the predictions of the outputs before the update, in the same plan.
          const logits = model.forward(x);
          loss = f.softmaxCrossEntropy(logits, y);
          predictions = f.argmax(logits);
          const params = model.parameters();
          opt.step(params, f.gradients(loss, params), [loss, predictions], { loss, onNonFinite: 'stop' });
          logits.dispose();
        }
        expect(predictions.dtype).toBe('int32');
        expect(predictions.shape).toEqual([N]);
        out.push({ loss: (await loss.data())[0], predictions: Array.from(await predictions.data()) });
        for (const t of [loss, predictions, x, y]) t.dispose();
      }
      const after = f.stats();
      const state = await snapshot(model, opt);
      model.dispose();
      opt.dispose();
      return { out, state, replays: after.stepsReplayed - before.stepsReplayed, leaked: f.stats().bytesLive - live };
    };
    const replayed = await run(true);
    const built = await run(false);
    expect(replayed.out).toEqual(built.out);
    expect(replayed.state).toEqual(built.state);
    expect(replayed.replays).toBe(steps - 2); // steps 0 and 1 record
    expect(built.replays).toBe(0);
    expect(replayed.leaked).toBe(0); // the recording's predictions too
    // Predictions that never change would not show a wrong one: over these steps some do.
    expect(new Set(replayed.out.map((o) => o.predictions.join())).size).toBeGreaterThan(1);
  });

  it('trainStep and trainStepWithPredictions keep recordings of their own, replayed in turn', async () => {
    const model = makeModel();
    const opt = new f.optim.SGD({ lr: 0.05 });
    const [x, y] = batch(0);
    for (let i = 0; i < 2; i++) {
      model.trainStep(x, y, opt).dispose();
      const { loss, predictions } = model.trainStepWithPredictions(x, y, opt);
      loss.dispose();
      predictions.dispose();
    }
    const before = f.stats().stepsReplayed;
    model.trainStep(x, y, opt).dispose();
    const { loss, predictions } = model.trainStepWithPredictions(x, y, opt);
    expect(f.stats().stepsReplayed - before).toBe(2);
    expect((await predictions.data()).every((p) => p >= 0 && p < 4)).toBe(true);
    expect(() => model.trainStepWithPredictions(x, y, opt, { onNonFinite: 'ignore' as 'stop' })).toThrow(/trainStepWithPredictions/);
    for (const t of [loss, predictions, x, y, model, opt]) t.dispose();
  });

  it('model.dispose() frees what its recordings held', async () => {
    const live = f.stats().bytesLive;
    const model = makeModel();
    const opt = new f.optim.Adam({ lr: 0.01 });
    const [x, y] = batch(0);
    for (let i = 0; i < 4; i++) model.trainStep(x, y, opt).dispose();
    for (const t of [x, y, model, opt]) t.dispose();
    expect(f.stats().bytesLive).toBe(live);
  });
});
