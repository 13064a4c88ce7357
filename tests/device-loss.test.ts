// Device loss during training (device.destroy() mid-run, Dawn in Node): the trainer reports it, gets a
// new device, restores the last snapshot and trains on; with no device to be had it goes on on cpu.
// The same scenarios run in headless Chromium in tests/e2e/device-loss.e2e.test.ts.
import { afterAll, describe, it } from 'vitest';
import * as f from '../packages/core/src/index.js';
import { expectCpuFallback, expectExactRestore, expectRecovered } from './device-loss/expectations.js';
import { fallbackScenario, recoveryScenario, restoreScenario } from './device-loss/scenarios.js';

afterAll(async () => {
  await f.setBackend('cpu');
});

describe('device loss', () => {
  it('is reported, a new device is acquired, the snapshot restored, and training goes on', async () => {
    expectRecovered(await recoveryScenario());
  });

  it('restores exactly the snapshot values and optimizer step count', async () => {
    expectExactRestore(await restoreScenario());
  });

  it('continues on cpu, and says so, when no new device can be had', async () => {
    expectCpuFallback(await fallbackScenario());
  });
});
