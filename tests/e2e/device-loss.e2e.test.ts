// Device loss in headless Chromium on WebGPU (SwiftShader here), two ways:
// 1. the engine: packages/demo/reliability.html runs the scenarios of tests/device-loss/scenarios.ts
//    (f.nn.Trainer, device.destroy() mid-run, no new device to be had) and publishes what they
//    observed on window.__reliability; asserted here with the Node suite's expectations;
// 2. the train page: its device is destroyed mid-run from outside (the test keeps every GPUDevice
//    the page asks for), once with a new device to be had and once without; the page must say so in
//    its banner, move to the new device and then to the CPU, and finish the run.
// Any page error, console error or WebGPU validation message fails the test.
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCpuFallback, expectExactRestore, expectRecovered } from '../device-loss/expectations.js';
import type { FallbackObservation, RecoveryObservation, RestoreObservation } from '../device-loss/scenarios.js';
import type { Chromium, DemoServer, PageProblems } from './chromium.js';
import { launchChromium, startDemoServer, watchPage } from './chromium.js';

/** The part of the page's window.__reliability (packages/demo/src/reliability.ts) read here. */
interface Reliability {
  done: boolean;
  adapter: { name: string; description: string } | null;
  recovery: RecoveryObservation | null;
  restore: RestoreObservation | null;
  fallback: FallbackObservation | null;
  errors: { scenario: string; message: string }[];
  timings: Record<string, number>;
}

/** The part of the train page's window.__train (packages/demo/src/train.ts) read here. */
interface TrainState {
  backend: string;
  step: number;
  loss: number | null;
  testAccuracy: number | null;
  done: boolean;
  error: string | null;
}

/** Measured here: the three scenarios take a few seconds on SwiftShader; the budget leaves room. */
const PAGE_TIMEOUT_MS = 60_000;
/** Steps of the train page's run (batch 8); it snapshots every 10 (DeviceRecovery.snapshotEvery). */
const TRAIN_STEPS = 36;

let server: DemoServer | undefined;
let chromium: Chromium | undefined;

beforeAll(async () => {
  server = await startDemoServer();
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});

/** Reads a window global of the page as JSON. */
const readGlobal = <T>(page: Page, name: string): Promise<T> =>
  page.evaluate((key: string) => JSON.parse(JSON.stringify((window as unknown as Record<string, unknown>)[key] ?? null)), name) as Promise<T>;

describe('the engine in Chromium (reliability.html)', () => {
  let summary: Reliability;
  let problems: PageProblems;

  beforeAll(async () => {
    const page = await chromium!.browser.newPage();
    problems = watchPage(page);
    await page.goto(`${server!.url}/reliability.html`, { waitUntil: 'load', timeout: 30_000 });
    try {
      await page.waitForFunction(() => (window as unknown as { __reliability?: Reliability }).__reliability?.done === true, { timeout: PAGE_TIMEOUT_MS, polling: 200 });
    } catch (e) {
      const partial = await readGlobal(page, '__reliability').catch(() => 'unreadable');
      throw new Error(`reliability page not done after ${PAGE_TIMEOUT_MS / 1000} s; window.__reliability = ${JSON.stringify(partial)}\n${problems.format()}`, { cause: e });
    }
    summary = await readGlobal<Reliability>(page, '__reliability');
    const ms = (k: string) => `${((summary.timings[k] ?? 0) / 1000).toFixed(1)} s`;
    console.log(`reliability page on ${summary.adapter?.description}: recovery ${ms('recovery')}, restore ${ms('restore')}, fallback ${ms('fallback')}, total ${ms('total')}`);
    await page.close();
  }, PAGE_TIMEOUT_MS + 40_000);

  it('runs every scenario on webgpu without throwing', () => {
    expect(summary.adapter?.name).toBe('webgpu');
    expect(summary.errors, summary.errors.map((e) => `${e.scenario}: ${e.message}`).join('\n')).toEqual([]);
  });

  it('reports the loss, acquires a new device, restores the snapshot and trains on', () => {
    expectRecovered(summary.recovery!);
  });

  it('restores exactly the snapshot values and optimizer step count', () => {
    expectExactRestore(summary.restore!);
  });

  it('continues on cpu, and says so, when no new device can be had', () => {
    expectCpuFallback(summary.fallback!);
  });

  it('logs no page errors, console errors or WebGPU validation messages', () => {
    expect(problems.list(), problems.format()).toEqual([]);
  });
});

/**
 * Runs before the train page's scripts: keeps every GPUDevice the page gets, and offers
 * window.__gpuFaults.lose() (destroys the newest) and .refuse() (from then on requestAdapter()
 * finds no adapter, as on a machine whose GPU is gone).
 */
function injectGpuFaults(): void {
  const devices: GPUDevice[] = [];
  let refusing = false;
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, ...args: Parameters<GPUAdapter['requestDevice']>) {
    const device = await requestDevice.apply(this, args);
    devices.push(device);
    return device;
  };
  const requestAdapter = GPU.prototype.requestAdapter;
  GPU.prototype.requestAdapter = function (this: GPU, ...args: Parameters<GPU['requestAdapter']>) {
    return refusing ? Promise.resolve(null) : requestAdapter.apply(this, args);
  };
  (window as unknown as { __gpuFaults: unknown }).__gpuFaults = {
    devices: () => devices.length,
    lose: () => devices[devices.length - 1].destroy(),
    refuse: () => {
      refusing = true;
    },
  };
}

type FaultWindow = { __gpuFaults: { devices(): number; lose(): void; refuse(): void }; __train?: TrainState };

describe('the train page in Chromium (train.html)', () => {
  let page: Page;
  let problems: PageProblems;
  const banner = () => page.$eval('#banner', (e) => ((e as HTMLElement).hidden ? '' : e.textContent ?? ''));
  const waitFor = (what: string, predicate: (arg: number) => boolean, timeout = 60_000, arg = 0) =>
    page
      .waitForFunction(predicate, { timeout, polling: 100 }, arg)
      .catch(async (e: unknown) => {
        const state = await readGlobal(page, '__train').catch(() => 'unreadable');
        throw new Error(`train page: no ${what} after ${timeout / 1000} s; window.__train = ${JSON.stringify(state)}\n${problems.format()}`, { cause: e });
      });

  beforeAll(async () => {
    page = await chromium!.browser.newPage();
    problems = watchPage(page);
    await page.evaluateOnNewDocument(injectGpuFaults);
    const query = new URLSearchParams({ dataset: 'mnist', backend: 'webgpu', steps: String(TRAIN_STEPS), batch: '8', lr: '0.004', seed: '1', test: '100', evalEvery: '0', vizEvery: '0', autostart: '1' });
    await page.goto(`${server!.url}/train.html?${query}`, { waitUntil: 'load', timeout: 30_000 });
  });

  afterAll(async () => {
    await page?.close();
  });

  /** Destroys the page's device at step ≥ `after` (refusing new ones first if asked); the step it was destroyed after. */
  async function loseDeviceAfter(after: number, refuse: boolean): Promise<number> {
    await waitFor(`step ${after}`, (n: number) => {
      const s = (window as unknown as FaultWindow).__train;
      return (s?.step ?? 0) >= n || !!s?.error;
    }, 60_000, after);
    return page.evaluate((noNewDevice: boolean) => {
      const w = window as unknown as FaultWindow;
      if (noNewDevice) w.__gpuFaults.refuse();
      w.__gpuFaults.lose();
      return w.__train!.step;
    }, refuse);
  }

  /** The banner's "lost at step L … went back to step B": L is where the loop noticed (the step in flight may finish first), B a snapshot (every 10 steps). */
  function expectWentBack(text: string, destroyedAfter: number, snapshots: number[]): void {
    const m = /^The GPU device was lost at step (\d+)\. Training went back to step (\d+), the last copy of the weights and optimizer state, and goes on /.exec(text);
    expect(m, text).not.toBeNull();
    const [lost, back] = [Number(m![1]), Number(m![2])];
    expect(lost).toBeGreaterThanOrEqual(destroyedAfter);
    expect(lost).toBeLessThanOrEqual(destroyedAfter + 2);
    expect(snapshots).toContain(back);
  }

  it('says the device was lost and goes on from its last snapshot on a new device', async () => {
    // Past the snapshot of step 10 (taken in the background: if still in flight, the one of step 0).
    const destroyedAfter = await loseDeviceAfter(12, false);
    await waitFor('recovery', () => /new device/.test(document.getElementById('banner')?.textContent ?? '') || !!(window as unknown as FaultWindow).__train?.error);
    expect((await readGlobal<TrainState>(page, '__train')).error, problems.format()).toBeNull();
    const text = await banner();
    console.log(`train page, device destroyed after step ${destroyedAfter}: ${text}`);
    expectWentBack(text, destroyedAfter, [0, 10]);
    expect(text).toContain('goes on on a new device, webgpu (');
    expect(await page.evaluate(() => (window as unknown as FaultWindow).__gpuFaults.devices())).toBe(2);
    expect(await page.$eval('#adapter', (e) => e.textContent ?? '')).toMatch(/^webgpu/);
  }, 90_000);

  it('goes on on the CPU, and says so, when no new device can be had, and finishes the run', async () => {
    // Past the snapshot of step 20, taken on the new device.
    const destroyedAfter = await loseDeviceAfter(22, true);
    await waitFor('end of the run', () => {
      const s = (window as unknown as FaultWindow).__train;
      return s?.done === true || !!s?.error;
    }, 90_000);
    const s = await readGlobal<TrainState>(page, '__train');
    expect(s.error, problems.format()).toBeNull();
    expect(s.step).toBe(TRAIN_STEPS);
    expect(s.backend).toBe('cpu');
    expect(Number.isFinite(s.loss)).toBe(true);
    expect(s.testAccuracy).not.toBeNull(); // the end-of-run evaluation ran, on the CPU
    const text = await banner();
    console.log(`train page, device destroyed after step ${destroyedAfter}, no adapter left: ${text}`);
    expectWentBack(text, destroyedAfter, [10, 20]);
    expect(text).toContain('goes on on the CPU, as no new webgpu device could be had (filtro: navigator.gpu returned no adapter.');
    expect(await page.$eval('#adapter', (e) => e.textContent ?? '')).toMatch(/^cpu/);
    expect(await page.evaluate(() => (window as unknown as FaultWindow).__gpuFaults.devices())).toBe(2);
  }, 120_000);

  it('logs no page errors, console errors or WebGPU validation messages', () => {
    expect(problems.list(), problems.format()).toEqual([]);
  });
});
