// What the device-loss scenarios (./scenarios.ts) must have observed, asserted the same way on the
// Node run (tests/device-loss.test.ts) and on the browser page's JSON (tests/e2e/device-loss.e2e.test.ts).
import { expect } from 'vitest';
import type { FallbackObservation, RecoveryObservation, RestoreObservation, TrainerEvent } from './scenarios.js';

const eventOf = (events: TrainerEvent[], kind: TrainerEvent['kind']) => events.find((e) => e.kind === kind);

/** Reported, a new device acquired, the snapshot of step 10 restored, and training goes on. */
export function expectRecovered(o: RecoveryObservation): void {
  expect(o.snapshotStepBeforeLoss).toBe(10);
  expect(o.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['snapshot', 'device-lost', 'recovered']));
  expect(eventOf(o.events, 'fell-back-to-cpu')).toBeUndefined();
  expect(eventOf(o.events, 'device-lost')?.message).toMatch(/the webgpu device was lost at step 12; restoring the snapshot of step 10/);
  expect(eventOf(o.events, 'recovered')?.message).toMatch(/^continuing on a new device: webgpu \(/);
  expect(o.newBackend).toBe(true);
  expect(o.backendAfter).toBe('webgpu');
  expect(o.stepAfterRecovery).toBe(11); // restored to 10, then this step
  expect(Number.isFinite(o.lossAfterRecovery)).toBe(true);
  expect(o.finalLoss).toBeLessThan(o.firstLoss);
}

/** The parameters and optimizer state are exactly those of the snapshot, and so is the step count. */
export function expectExactRestore(o: RestoreObservation): void {
  expect(o.recoveredWhileAlive).toBe(false);
  expect(o.recoveredWhenLost).toBe(true);
  expect(o.snapshotState.length).toBeGreaterThan(0); // SGD with momentum: one velocity per parameter
  expect(o.restoredParams).toEqual(o.snapshotParams);
  expect(o.restoredState).toEqual(o.snapshotState);
  expect(o.optimizerSteps).toBe(3);
  expect(o.trainerStep).toBe(3);
}

/** With no new device to be had, training goes on on cpu, and the trainer says so. */
export function expectCpuFallback(o: FallbackObservation): void {
  expect(Number.isFinite(o.loss)).toBe(true);
  expect(o.backendAfter).toBe('cpu');
  expect(eventOf(o.events, 'recovered')).toBeUndefined();
  expect(eventOf(o.events, 'fell-back-to-cpu')?.message).toMatch(/no new webgpu device could be had \(no adapter \(simulated\)\); continuing on cpu/);
}
