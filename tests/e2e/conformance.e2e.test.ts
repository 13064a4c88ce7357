// The conformance table in headless Chromium on WebGPU: the demo's conformance.html runs every case
// of tests/conformance/cases.ts on the cpu reference and on webgpu (SwiftShader here) and publishes
// window.__conformance; this test asserts it. Same cases as the Node suite (conformance.test.ts),
// other WebGPU implementation (Chromium's Dawn + Tint, not npm "webgpu").
// A missing Chromium or WebGPU adapter is a failure, not a skip. Set CHROME_PATH for another browser.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { conformanceCases } from '../conformance/cases.js';
import type { Chromium, DemoServer, PageProblems } from './chromium.js';
import { launchChromium, startDemoServer, watchPage } from './chromium.js';

interface Summary {
  done: boolean;
  adapter: { name: string; description: string; adapter?: Record<string, unknown> } | null;
  total: number;
  passed: number;
  completed: number;
  failures: { name: string; message: string }[];
  timings: { cpuMs: number; webgpuMs: number; totalMs: number };
  userAgent: string;
}

type PageWindow = { __conformance?: Summary };

const SCREENSHOT = fileURLToPath(new URL('../../artifacts/screenshots/conformance.png', import.meta.url)) as `${string}.png`;
/** SwiftShader compiles every pipeline on the CPU; the whole page takes a few seconds, budget 75 s. */
const PAGE_TIMEOUT_MS = 75_000;

let server: DemoServer | undefined;
let chromium: Chromium | undefined;
let summary: Summary;
let problems: PageProblems;

beforeAll(async () => {
  server = await startDemoServer();
  chromium = await launchChromium();
  const page = await chromium.browser.newPage();
  problems = watchPage(page);
  await page.setViewport({ width: 1200, height: 900 });
  await page.goto(`${server.url}/conformance.html`, { waitUntil: 'load', timeout: 30_000 });
  try {
    await page.waitForFunction(() => (window as unknown as PageWindow).__conformance?.done === true, { timeout: PAGE_TIMEOUT_MS, polling: 250 });
  } catch (e) {
    const partial = await page.evaluate(() => JSON.stringify((window as unknown as PageWindow).__conformance ?? null)).catch(() => 'unreadable');
    throw new Error(`conformance page not done after ${PAGE_TIMEOUT_MS / 1000} s; window.__conformance = ${partial}\n${problems.format()}`, { cause: e });
  }
  summary = (await page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as PageWindow).__conformance)))) as Summary;
  await mkdir(dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  const a = summary.adapter;
  console.log(
    `conformance in Chromium on ${a?.description ?? 'no adapter'}: ${summary.passed}/${summary.total} in ` +
      `${(summary.timings.totalMs / 1000).toFixed(1)} s (cpu ${(summary.timings.cpuMs / 1000).toFixed(1)} s, ` +
      `webgpu ${(summary.timings.webgpuMs / 1000).toFixed(1)} s); adapter ${JSON.stringify(a?.adapter ?? null)}; ${summary.userAgent}`,
  );
}, 100_000);

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});

it('runs on the webgpu backend', () => {
  const failures = summary.failures.map((x) => `${x.name}: ${x.message}`).join('\n');
  expect(summary.adapter?.name, `backend info ${JSON.stringify(summary.adapter)}\n${failures}`).toBe('webgpu');
});

it('passes every case of tests/conformance/cases.ts', () => {
  expect(summary.total).toBe(conformanceCases().length);
  const failures = summary.failures.map((x) => `${x.name}: ${x.message}`).join('\n');
  expect(summary.failures, `failures:\n${failures}`).toEqual([]);
  expect(summary.passed, `failures:\n${failures}`).toBe(summary.total);
});

it('logs no page errors, console errors or WebGPU validation messages', () => {
  expect(problems.list(), problems.format()).toEqual([]);
});
