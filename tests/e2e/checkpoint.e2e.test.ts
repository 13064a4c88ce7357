// Checkpoints of the train page (packages/demo/src/train/checkpointer.ts) in headless Chromium: a
// short WebGPU run with a checkpoint every 2 steps stores one in IndexedDB; the page opened again in
// the same browser profile offers to resume from that step; Resume brings back bit-identical weights
// and optimizer state (compared through window.__trainDebug.fingerprint(), a hash read back from the
// device) and the step counter, and training goes on from there; Discard deletes the checkpoint.
// When IndexedDB is missing or full, the page says so and trains anyway. Any page error, console
// error or WebGPU validation message fails the test.
//
// Time: SwiftShader runs WebGPU on the CPU, so the runs are 4 and 1 steps of batch 16, evaluated on
// 50 test digits; the storage-failure pages train 2 steps on the CPU backend. Screenshot of the
// offer: artifacts/screenshots/checkpoint-offer.png.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Chromium, DemoServer, PageProblems } from './chromium.js';
import { launchChromium, startDemoServer, watchPage } from './chromium.js';

/** The part of the page's window.__train (packages/demo/src/train.ts) read here. */
interface TrainState {
  ready: boolean;
  backend: string;
  step: number;
  testAccuracy: number | null;
  done: boolean;
  error: string | null;
  checkpoint: {
    every: number;
    savedStep: number | null;
    saves: number;
    message: string;
    failed: boolean;
    offer: { step: number; dataset: string } | null;
    resumedStep: number | null;
  };
}

/** window.__trainDebug.fingerprint(): packages/demo/src/train/fingerprint.ts. */
interface Fingerprint {
  step: number;
  weights: string;
  optimizerSteps: number | null;
  optimizerState: string | null;
}

type PageWindow = { __train?: TrainState; __trainDebug?: { fingerprint(): Promise<Fingerprint | null> } };

const QUERY = { dataset: 'mnist', batch: '16', optimizer: 'adam', lr: '0.004', seed: '1', test: '50', evalEvery: '0', vizEvery: '0', checkpointEvery: '2' };
const SCREENSHOT = fileURLToPath(new URL('../../artifacts/screenshots/checkpoint-offer.png', import.meta.url)) as `${string}.png`;
const url = (extra: Record<string, string>) => `${server!.url}/train.html?${new URLSearchParams({ ...QUERY, ...extra })}`;

let server: DemoServer | undefined;
let chromium: Chromium | undefined;
let page: Page;
let problems: PageProblems;
let trained: TrainState;
let savedFingerprint: Fingerprint;
const started = Date.now();

const readState = (p: Page = page): Promise<TrainState> =>
  p.evaluate(() => JSON.parse(JSON.stringify((window as unknown as PageWindow).__train ?? null))) as Promise<TrainState>;

const readFingerprint = (): Promise<Fingerprint | null> => page.evaluate(() => (window as unknown as PageWindow).__trainDebug!.fingerprint());

/** Waits until the page's state passes `test` (a function of window.__train, as source text). */
async function waitForState(p: Page, test: string, timeout = 60_000): Promise<TrainState> {
  try {
    await p.waitForFunction(`(() => { const s = window.__train; return !!s && (${test}); })()`, { timeout, polling: 100 });
  } catch (e) {
    const partial = await readState(p).catch(() => 'unreadable');
    throw new Error(`waited ${timeout / 1000} s for ${test}; window.__train = ${JSON.stringify(partial)}\n${problems.format()}`, { cause: e });
  }
  return readState(p);
}

/** The checkpoint record's step as IndexedDB holds it, read without the page's code (null: none). */
const storedStep = (): Promise<number | null> =>
  page.evaluate(
    () =>
      new Promise<number | null>((resolve, reject) => {
        const open = indexedDB.open('filtro');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const get = db.transaction('checkpoints', 'readonly').objectStore('checkpoints').get('latest');
          get.onerror = () => reject(get.error);
          get.onsuccess = () => {
            db.close();
            resolve((get.result as { meta: { step: number } } | undefined)?.meta.step ?? null);
          };
        };
      }),
  );

const offerText = () => page.$eval('#resume-offer', (e) => ((e as HTMLElement).hidden ? null : e.querySelector('#resume-text')?.textContent ?? ''));
const checkpointLine = (p: Page = page) => p.$eval('#checkpoint-status', (e) => ({ text: e.textContent ?? '', error: e.classList.contains('error') }));

beforeAll(async () => {
  server = await startDemoServer();
  chromium = await launchChromium();
  page = await chromium.browser.newPage();
  problems = watchPage(page);
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(url({ backend: 'webgpu', steps: '4', autostart: '1' }), { waitUntil: 'load', timeout: 30_000 });
  trained = await waitForState(page, 's.done === true || !!s.error', 120_000);
  savedFingerprint = (await readFingerprint())!;
}, 180_000);

afterAll(async () => {
  await chromium?.close();
  await server?.close();
  console.log(`checkpoint e2e total ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

it('saves a checkpoint to IndexedDB every 2 steps of a run and says so', async () => {
  expect(trained.error, problems.format()).toBeNull();
  expect(trained.backend).toBe('webgpu');
  expect(trained.step).toBe(4);
  // At steps 2 and 4; the end of the run finds step 4 already stored.
  expect(trained.checkpoint.saves).toBe(2);
  expect(trained.checkpoint.savedStep).toBe(4);
  expect(trained.checkpoint.failed).toBe(false);
  expect(await checkpointLine()).toEqual({ text: expect.stringMatching(/^checkpoint saved at step 4 \(/), error: false });
  expect(await storedStep()).toBe(4);
  expect(savedFingerprint).toMatchObject({ step: 4, optimizerSteps: 4 });
});

it('offers to resume after a reload, and Resume restores the weights, optimizer state and step', async () => {
  await page.goto(url({ backend: 'webgpu', steps: '1' }), { waitUntil: 'load', timeout: 30_000 });
  const ready = await waitForState(page, 's.ready');
  expect(ready.checkpoint.offer).toEqual({ step: 4, dataset: 'mnist' });
  expect(await offerText()).toMatch(/^Resume training from step 4 of MNIST digits \(28×28×1\) \(saved (just now|\d+ seconds ago)\)\?$/);
  // Before resuming, the page holds a fresh network: the comparison below can fail.
  const fresh = (await readFingerprint())!;
  expect(fresh.step).toBe(0);
  expect(fresh.weights).not.toBe(savedFingerprint.weights);
  await mkdir(dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });

  await page.click('#resume');
  const resumed = await waitForState(page, "s.checkpoint.resumedStep !== null && !document.querySelector('#status.busy')");
  expect(resumed.error, problems.format()).toBeNull();
  expect(resumed.step).toBe(4);
  expect(resumed.checkpoint.resumedStep).toBe(4);
  expect(await readFingerprint()).toEqual(savedFingerprint);
  // The same weights evaluate the same 50 digits the same way.
  expect(resumed.testAccuracy).toBe(trained.testAccuracy);
  expect(await offerText()).toBeNull();
  expect(await page.$eval('#start', (e) => e.textContent)).toBe('Continue');
});

it('continues training from the resumed step and checkpoints it', async () => {
  await page.click('#start');
  const after = await waitForState(page, 's.done === true || !!s.error', 60_000);
  expect(after.error, problems.format()).toBeNull();
  expect(after.step).toBe(5);
  const next = (await readFingerprint())!;
  expect(next).toMatchObject({ step: 5, optimizerSteps: 5 });
  expect(next.weights).not.toBe(savedFingerprint.weights);
  expect(after.checkpoint.savedStep).toBe(5);
  expect((await checkpointLine()).text).toMatch(/^checkpoint saved at step 5 \(/);
  expect(await storedStep()).toBe(5);
});

it('Discard deletes the checkpoint, and the next visit offers nothing', async () => {
  await page.goto(url({ backend: 'cpu' }), { waitUntil: 'load', timeout: 30_000 });
  expect((await waitForState(page, 's.ready')).checkpoint.offer).toEqual({ step: 5, dataset: 'mnist' });
  await page.click('#discard');
  const discarded = await waitForState(page, 's.checkpoint.offer === null');
  expect(discarded.checkpoint.message).toBe('checkpoint discarded');
  expect(await offerText()).toBeNull();
  expect(await storedStep()).toBeNull();
  await page.goto(url({ backend: 'cpu' }), { waitUntil: 'load', timeout: 30_000 });
  expect((await waitForState(page, 's.ready')).checkpoint.offer).toBeNull();
  expect(await offerText()).toBeNull();
});

it('logs no page errors, console errors or WebGPU validation messages', () => {
  expect(problems.list(), problems.format()).toEqual([]);
});

/** Storage broken before the page's scripts run, in the ways a browser can refuse it. */
const brokenStorage = {
  missing: () => {
    Object.defineProperty(window, 'indexedDB', { configurable: true, get: () => undefined });
  },
  full: () => {
    IDBObjectStore.prototype.put = () => {
      throw new DOMException('the quota has been exceeded', 'QuotaExceededError');
    };
  },
};

for (const [how, message] of [
  ['missing', /^checkpoints are off: this browser gives the page no IndexedDB .*Training goes on/],
  ['full', /^checkpoint not saved: the browser's storage for this site is full .*Training goes on/],
] as const) {
  it(`when IndexedDB is ${how}, says so under the status and trains on`, async () => {
    const broken = await chromium!.browser.newPage();
    const brokenProblems = watchPage(broken);
    try {
      await broken.evaluateOnNewDocument(brokenStorage[how]);
      await broken.goto(url({ backend: 'cpu', steps: '2', checkpointEvery: '1', autostart: '1' }), { waitUntil: 'load', timeout: 30_000 });
      const s = await waitForState(broken, 's.done === true || !!s.error');
      expect(s.error).toBeNull();
      expect(s.step).toBe(2);
      expect(s.checkpoint.failed).toBe(true);
      expect(s.checkpoint.savedStep).toBeNull();
      const line = await checkpointLine(broken);
      expect(line.error).toBe(true);
      expect(line.text).toMatch(message);
      expect(await broken.$eval('#checkpoint-status', (e) => (e as HTMLElement).offsetHeight > 0)).toBe(true);
      expect(brokenProblems.list(), brokenProblems.format()).toEqual([]);
    } finally {
      await broken.close();
    }
  });
}
