// The device-side finite check of every training step (issue 6, numerics), on cpu and on webgpu
// (Dawn). Faults injected: a NaN pixel in an input batch (the loss becomes NaN: no ReLU or max pool
// can drop it on the way), an Inf pixel (the first layer's weight gradient becomes non-finite at
// least), and an Inf-scaled gradient of one layer in a custom step (only that gradient is
// non-finite). 'stop' must keep the last good weights and optimizer state bit for bit and name
// the step and the tensor; 'skip' must count the skipped updates and train on. The check adds no
// submit and no readback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';

const N = 4;
const labels = Int32Array.from([0, 1, 2, 1]);
/** A batch of N 6×6 images; `bad` (NaN, Inf) replaces one pixel of example 1. */
const images = (bad?: number) => {
  const x = Float32Array.from({ length: N * 36 }, (_, i) => Math.sin(i * 0.37 + (labels[Math.floor(i / 36)] + 1)));
  if (bad !== undefined) x[36 + 14] = bad;
  return x;
};

const tinyModel = () =>
  new f.nn.Sequential([new f.nn.Conv2d({ filters: 2, kernelSize: 3 }), new f.nn.AvgPool2d({ size: 2 }), new f.nn.Flatten(), new f.nn.Dense({ units: 3 })], {
    inputShape: [6, 6, 1],
    seed: 2,
  });

/** The bits of every tensor, so equality is bit for bit. */
const bitsOf = (tensors: f.Tensor[]) => Promise.all(tensors.map(async (t) => Array.from(new Uint32Array((await t.data()).buffer))));
const stateOf = (opt: f.optim.Optimizer) => opt.stateTensors().map((s) => s.tensor);

/** model.trainStep on a host batch; returns the loss value. */
async function step(model: f.nn.Sequential, opt: f.optim.Optimizer, bad?: number, options?: f.nn.TrainStepOptions): Promise<number> {
  const x = f.tensor(images(bad), [N, 6, 6, 1]);
  const y = f.tensor(labels, [N]);
  const loss = model.trainStep(x, y, opt, options);
  const value = (await loss.data())[0];
  for (const t of [x, y, loss]) t.dispose();
  return value;
}

/** The steps of trainStep written out, with gradient `corrupt` multiplied by +Inf. */
function customStep(model: f.nn.Sequential, opt: f.optim.Optimizer, corrupt: number | null, onNonFinite: f.NonFinitePolicy): void {
  const x = f.tensor(images(), [N, 6, 6, 1]);
  const y = f.tensor(labels, [N]);
  const loss = f.softmaxCrossEntropy(model.forward(x), y);
  const params = model.parameters();
  const grads = f.gradients(loss, params);
  if (corrupt !== null) grads[corrupt] = f.mul(grads[corrupt], f.scalar(Infinity));
  opt.step(params, grads, [loss], { loss, onNonFinite });
  for (const t of [x, y, loss]) t.dispose();
}

describe.each(['cpu', 'webgpu'] as const)('%s backend', (backend) => {
  beforeAll(async () => {
    await f.setBackend(backend);
  });
  afterAll(async () => {
    await f.setBackend('cpu');
  });

  it("the ops: firstNonFinite finds the first tensor holding NaN or ±Inf; stepHealth keeps the record and the gate", async () => {
    const read = async (t: f.Tensor) => Array.from(await t.data());
    const big = f.tensor(Float32Array.from({ length: 1000 }, (_, i) => (i === 999 ? -Infinity : 3.4e38)), [10, 100]);
    const finite = f.tensor([1, -2, 3.4e38], [3]);
    const nan = f.tensor([0, NaN], [2]);
    expect(await read(f.firstNonFinite([finite]))).toEqual([-1]);
    expect(await read(f.firstNonFinite([finite, big, nan]))).toEqual([1]);
    expect(await read(f.firstNonFinite([nan, big]))).toEqual([0]);
    expect(await read(f.firstNonFinite([finite, finite, big]))).toEqual([2]);

    const fresh = () => f.tensor(Int32Array.from([0, -1, -1, -1, -1]), [5]);
    const verdict = (v: number) => f.tensor(Int32Array.of(v), []);
    const fold = async (h: f.Tensor, v: number, step: number, policy: f.NonFinitePolicy) => {
      const { health, gate } = f.stepHealth(h, verdict(v), f.tensor(Int32Array.of(step), []), { policy });
      return { health: await read(health), gate: (await read(gate))[0], next: health };
    };
    expect(await fold(fresh(), -1, 1, 'stop')).toMatchObject({ health: [0, -1, -1, -1, -1], gate: -1 });
    const stopped = await fold(fresh(), 2, 7, 'stop');
    expect(stopped).toMatchObject({ health: [1, 7, 2, 7, 2], gate: 2 });
    // After a stop, a finite step is held back too, by the tensor that stopped training.
    expect(await fold(stopped.next, -1, 8, 'stop')).toMatchObject({ health: [2, 7, 2, 7, 2], gate: 2 });
    const skipped = await fold(fresh(), 3, 5, 'skip');
    expect(skipped).toMatchObject({ health: [1, -1, -1, 5, 3], gate: 3 });
    expect(await fold(skipped.next, -1, 6, 'skip')).toMatchObject({ health: [1, -1, -1, 5, 3], gate: -1 });
  });

  it("'stop' (default): a NaN pixel leaves weights and Adam state bit for bit as the last good step left them, later steps change nothing, and the check names the step", async () => {
    const model = tinyModel();
    const opt = new f.optim.Adam({ lr: 0.01 });
    for (let i = 0; i < 3; i++) expect(Number.isFinite(await step(model, opt))).toBe(true);
    const weights = await bitsOf(model.parameters());
    const state = await bitsOf(stateOf(opt));
    expect(await step(model, opt, NaN)).toBeNaN(); // step 4
    for (let i = 0; i < 2; i++) await step(model, opt); // steps 5, 6: frozen after the stop
    expect(await bitsOf(model.parameters())).toEqual(weights);
    expect(await bitsOf(stateOf(opt))).toEqual(state);
    expect(opt.steps).toBe(6);
    await expect(f.nn.checkNumerics(model, opt)).rejects.toThrow(f.FiltroError);
    await expect(f.nn.checkNumerics(model, opt)).rejects.toThrow(/^checkNumerics: step 4: the loss is not finite \(NaN or ±Inf\), so its update was not applied, nor any after it/);
    const record = await opt.numerics.read();
    expect(record).toMatchObject({ skipped: 3, stopped: { step: 4, tensor: 0 }, lastBad: { step: 4, tensor: 0 } });
  });

  it("'stop' names the layer whose gradient is not finite, and keeps SGD's velocity", async () => {
    const model = tinyModel();
    const opt = new f.optim.SGD({ lr: 0.1, momentum: 0.9 });
    for (let i = 0; i < 2; i++) customStep(model, opt, null, 'stop');
    const weights = await bitsOf(model.parameters());
    const velocity = await bitsOf(stateOf(opt));
    customStep(model, opt, 1, 'stop'); // step 3: the gradient of conv2d_1.bias is ±Inf or NaN
    expect(await bitsOf(model.parameters())).toEqual(weights);
    expect(await bitsOf(stateOf(opt))).toEqual(velocity);
    expect(model.namedParameters()[1][0]).toBe('conv2d_1.bias');
    await expect(f.nn.checkNumerics(model, opt)).rejects.toThrow(/step 3: the gradient of conv2d_1\.bias is not finite .* the parameters hold their values from before step 3/);
    const trainer = new f.nn.Trainer(model, opt);
    await expect(trainer.health()).rejects.toThrow(/^Trainer\.health: step 3: the gradient of conv2d_1\.bias/);
    await trainer.settle();
  });

  it("'skip': non-finite steps change nothing, are counted and reported once, and training goes on finite", async () => {
    const model = tinyModel();
    const opt = new f.optim.Adam({ lr: 0.02 });
    const events: f.nn.TrainerEvent[] = [];
    const trainer = new f.nn.Trainer(model, opt, { onNonFinite: 'skip', snapshotEvery: 1000, onEvent: (e) => events.push(e) });
    const trainerStep = async (bad?: number) => {
      const loss = await trainer.trainStep(images(bad), [N, 6, 6, 1], labels);
      const value = (await loss.data())[0];
      loss.dispose();
      return value;
    };
    const first = await trainerStep();
    await trainerStep();
    const beforeBad = await bitsOf(model.parameters());
    await trainerStep(Infinity); // step 3
    expect(await bitsOf(model.parameters())).toEqual(beforeBad);
    await trainerStep();
    expect(await trainerStep(NaN)).toBeNaN(); // step 5
    for (let i = 0; i < 10; i++) await trainerStep();
    const last = await trainerStep();

    const report = await trainer.health();
    expect(report).toEqual({ skipped: 2, newlySkipped: 2, lastBad: { step: 5, tensor: 'the loss' } });
    expect(events.filter((e) => e.kind === 'skipped').map((e) => e.message)).toEqual([
      '2 update(s) skipped (2 in all) because a loss or gradient was not finite; the latest at step 5: the loss',
    ]);
    expect(await trainer.health()).toMatchObject({ skipped: 2, newlySkipped: 0 });
    expect(events.filter((e) => e.kind === 'skipped')).toHaveLength(1);
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first);
    expect((await bitsOf(model.parameters())).flat().every((bits) => (bits & 0x7f800000) !== 0x7f800000)).toBe(true);
    await trainer.settle();
  });

  it('a checked LeNet step is still one submit and no readback; the check costs one dispatch per checked tensor plus two on webgpu', async () => {
    const model = f.nn.lenet({ seed: 0 });
    const opt = new f.optim.Adam({ lr: 1e-3 });
    const x = f.tensor(Float32Array.from({ length: 2 * 28 * 28 }, (_, i) => Math.cos(i * 0.01)), [2, 28, 28, 1]);
    const y = f.tensor(Int32Array.from([3, 7]), [2]);
    const checked = () => model.trainStep(x, y, opt).dispose();
    const unchecked = () => {
      const loss = f.softmaxCrossEntropy(model.forward(x), y);
      const params = model.parameters();
      opt.step(params, f.gradients(loss, params), [loss]);
      loss.dispose();
    };
    const cost = (run: () => void) => {
      const before = f.stats();
      run();
      const after = f.stats();
      return { submits: after.submits - before.submits, readbacks: after.readbacks - before.readbacks, dispatches: after.dispatches - before.dispatches };
    };
    for (let i = 0; i < 2; i++) [checked, unchecked].forEach((run) => run()); // warm-up: pipelines, state
    const withCheck = cost(checked);
    const without = cost(unchecked);
    expect(withCheck.submits).toBe(1);
    expect(withCheck.readbacks).toBe(0);
    const tensors = 1 + model.parameters().length;
    // webgpu: one start + one dispatch per tensor (the loss and each gradient) + the record's update; cpu: two ops.
    expect(withCheck.dispatches - without.dispatches).toBe(backend === 'webgpu' ? tensors + 2 : 2);
    console.log(`${backend}: LeNet step ${without.dispatches} dispatches unchecked, ${withCheck.dispatches} checked (${tensors} tensors checked)`);
    expect(await f.nn.checkNumerics(model, opt)).toEqual({ skipped: 0, newlySkipped: 0, lastBad: null });
    for (const t of [x, y]) t.dispose();
    model.dispose();
    opt.dispose();
  });
});

describe('options and arguments are validated before anything runs', () => {
  it('onNonFinite must be stop or skip, for trainStep, Trainer and Optimizer.step', async () => {
    await f.setBackend('cpu');
    const model = tinyModel();
    const opt = new f.optim.SGD({ lr: 0.1 });
    const before = await bitsOf(model.parameters());
    await expect(step(model, opt, undefined, { onNonFinite: 'ignore' as never })).rejects.toThrow(/^trainStep: onNonFinite must be 'stop' or 'skip', got "ignore"$/);
    await expect(step(model, opt, undefined, { onNonfinite: 'skip' } as never)).rejects.toThrow(/^trainStep: unknown option 'onNonfinite' \(known: onNonFinite\)$/);
    expect(() => new f.nn.Trainer(model, opt, { onNonFinite: 'halt' as never })).toThrow(/^Trainer: onNonFinite must be 'stop' or 'skip', got "halt"$/);
    const loss = f.scalar(1);
    expect(() => opt.step([], [], [], { loss, onNonFinite: 'pause' as never })).toThrow(/^Optimizer\.step: check\.onNonFinite must be 'stop' or 'skip', got "pause"$/);
    expect(opt.steps).toBe(0);
    expect(await bitsOf(model.parameters())).toEqual(before);
  });

  it('the ops reject what they cannot check', () => {
    expect(() => f.firstNonFinite([])).toThrow(/^firstNonFinite: tensors must be a non-empty array of float32 tensors, got \[\]$/);
    expect(() => f.firstNonFinite([f.tensor(Int32Array.of(1), [1])])).toThrow(/^firstNonFinite: tensor 0 must be float32, got int32 \[1\]$/);
    const health = f.tensor(Int32Array.from([0, -1, -1, -1, -1]), [5]);
    const verdict = f.tensor(Int32Array.of(-1), []);
    const step = f.tensor(Int32Array.of(1), []);
    expect(() => f.stepHealth(f.tensor(Int32Array.of(0, 0), [2]), verdict, step, { policy: 'stop' })).toThrow(/^stepHealth: health must be int32 \[5\], got int32 \[2\]$/);
    expect(() => f.stepHealth(health, f.scalar(-1), step, { policy: 'stop' })).toThrow(/^stepHealth: verdict must be an int32 scalar, got float32 \[\]$/);
    expect(() => f.stepHealth(health, verdict, f.tensor(Int32Array.of(1), [1]), { policy: 'skip' })).toThrow(/^stepHealth: step must be an int32 scalar, got int32 \[1\]$/);
    expect(() => f.stepHealth(health, verdict, f.scalar(1), { policy: 'skip' })).toThrow(/^stepHealth: step must be an int32 scalar, got float32 \[\]$/);
    expect(() => f.stepHealth(health, verdict, { step: 1, policy: 'skip' } as never, undefined as never)).toThrow(/^stepHealth: step must be a Tensor, got object$/);
    expect(() => f.stepHealth(health, verdict, step, { step: 1, policy: 'skip' } as never)).toThrow(/^stepHealth: unknown option 'step' \(known: policy\)$/);
    expect(() => f.stepHealth(health, verdict, step, { policy: 'go' as never })).toThrow(/^stepHealth: policy must be 'stop' or 'skip', got "go"$/);
  });
});
