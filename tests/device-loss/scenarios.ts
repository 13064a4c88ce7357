// The device-loss scenarios: train a small network with f.nn.Trainer on webgpu, destroy the device
// mid-run (as a lost GPU would be) and record what the trainer did. Shared by the Node suite
// (tests/device-loss.test.ts, Dawn) and the browser page (packages/demo/reliability.html, Chromium's
// Dawn), so each returns plain, JSON-safe observations and tests/device-loss/expectations.ts asserts
// them in both places. The faults reach into the engine (not public API) the same way everywhere.
import * as f from '../../packages/core/src/index.js';
import { currentBackend, registerBackend } from '../../packages/core/src/backends/registry.js';
import { createWebgpuBackend } from '../../packages/core/src/backends/webgpu.js';
import type { WebgpuBackend } from '../../packages/core/src/backends/webgpu.js';

export type TrainerEvent = f.nn.TrainerEvent;

/** Scenario 1: a loss after the snapshot of step 10, at step 12, then 21 more steps. */
export interface RecoveryObservation {
  firstLoss: number;
  snapshotStepBeforeLoss: number;
  events: TrainerEvent[];
  /** The current backend after recovery is another instance than the lost one. */
  newBackend: boolean;
  backendAfter: string;
  /** The trainer's step after the first step following the loss. */
  stepAfterRecovery: number;
  lossAfterRecovery: number;
  finalLoss: number;
}

/** Scenario 2: values at the snapshot of step 3 against those after recovering from a loss at step 4. */
export interface RestoreObservation {
  recoveredWhileAlive: boolean;
  recoveredWhenLost: boolean;
  snapshotParams: number[][];
  restoredParams: number[][];
  snapshotState: number[][];
  restoredState: number[][];
  optimizerSteps: number;
  trainerStep: number;
}

/** Scenario 3: no new webgpu device to be had after the loss. */
export interface FallbackObservation {
  loss: number;
  backendAfter: string;
  events: TrainerEvent[];
}

const BATCH = 8;
const images = Float32Array.from({ length: BATCH * 64 }, (_, i) => Math.sin((i % 64) * 0.4 * ((Math.floor(i / 64) % 2) + 1)));
const labels = Int32Array.from({ length: BATCH }, (_, i) => i % 2);

const makeModel = () =>
  new f.nn.Sequential([new f.nn.Conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }), new f.nn.Flatten(), new f.nn.Dense({ units: 2 })], {
    inputShape: [8, 8, 1],
    seed: 4,
  });

async function lossAt(trainer: f.nn.Trainer): Promise<number> {
  const loss = await trainer.trainStep(images, [BATCH, 8, 8, 1], labels);
  const value = (await loss.data())[0];
  loss.dispose();
  return value;
}

const values = (tensors: readonly f.Tensor[]) => Promise.all(tensors.map(async (t) => Array.from(await t.data())));

/** Destroys the current webgpu device and waits until the engine has seen it go. */
export async function loseDevice(): Promise<void> {
  const { device } = (currentBackend() as WebgpuBackend).gpu;
  device.destroy();
  await device.lost; // the runtime's own handler on `lost` ran first: the backend now reports it
}

/** Until the returned function is called, asking for a webgpu device fails as with no adapter. */
export function refuseNewDevices(): () => void {
  registerBackend('webgpu', async () => {
    throw new Error('no adapter (simulated)');
  });
  return () => registerBackend('webgpu', createWebgpuBackend);
}

export async function recoveryScenario(): Promise<RecoveryObservation> {
  await f.setBackend('webgpu');
  const trainer = new f.nn.Trainer(makeModel(), new f.optim.Adam({ lr: 0.02 }), { snapshotEvery: 5 });
  const firstLoss = await lossAt(trainer);
  for (let i = 1; i < 10; i++) await lossAt(trainer);
  await trainer.settle();
  const snapshotStepBeforeLoss = trainer.snapshotStep;
  const lostBackend = currentBackend();
  for (let i = 0; i < 2; i++) await lossAt(trainer); // steps 11, 12: after the snapshot
  await loseDevice();
  const lossAfterRecovery = await lossAt(trainer);
  const stepAfterRecovery = trainer.step;
  const newBackend = currentBackend() !== lostBackend;
  const backendAfter = f.backendInfo().name;
  for (let i = 0; i < 20; i++) await lossAt(trainer);
  const finalLoss = await lossAt(trainer);
  trainer.model.dispose();
  trainer.optimizer.dispose();
  return { firstLoss, snapshotStepBeforeLoss, events: [...trainer.events], newBackend, backendAfter, stepAfterRecovery, lossAfterRecovery, finalLoss };
}

export async function restoreScenario(): Promise<RestoreObservation> {
  await f.setBackend('webgpu');
  const model = makeModel();
  const optimizer = new f.optim.SGD({ lr: 0.05, momentum: 0.9 });
  const trainer = new f.nn.Trainer(model, optimizer, { snapshotEvery: 3 });
  for (let i = 0; i < 3; i++) await lossAt(trainer);
  await trainer.settle();
  const snapshotParams = await values(model.parameters());
  const snapshotState = await values(optimizer.stateTensors().map((s) => s.tensor));
  await lossAt(trainer);
  const recoveredWhileAlive = await trainer.recoverIfLost();
  await loseDevice();
  const recoveredWhenLost = await trainer.recoverIfLost();
  const observation = {
    recoveredWhileAlive,
    recoveredWhenLost,
    snapshotParams,
    restoredParams: await values(model.parameters()),
    snapshotState,
    restoredState: await values(optimizer.stateTensors().map((s) => s.tensor)),
    optimizerSteps: optimizer.steps,
    trainerStep: trainer.step,
  };
  model.dispose();
  optimizer.dispose();
  return observation;
}

export async function fallbackScenario(): Promise<FallbackObservation> {
  await f.setBackend('webgpu');
  const trainer = new f.nn.Trainer(makeModel(), new f.optim.SGD({ lr: 0.05 }), { snapshotEvery: 2 });
  for (let i = 0; i < 4; i++) await lossAt(trainer);
  await trainer.settle();
  const allowNewDevices = refuseNewDevices();
  try {
    await loseDevice();
    const loss = await lossAt(trainer);
    return { loss, backendAfter: f.backendInfo().name, events: [...trainer.events] };
  } finally {
    allowNewDevices();
    trainer.model.dispose();
    trainer.optimizer.dispose();
  }
}
