// Headless Chromium with WebGPU for the end-to-end tests, and the demo's Vite dev server to load
// pages from. Used by tests/e2e/*.e2e.test.ts:
//
//   const server = await startDemoServer();
//   const chromium = await launchChromium();
//   const page = await chromium.browser.newPage();
//   const problems = watchPage(page);          // console errors, page errors, WebGPU validation
//   await page.goto(`${server.url}/conformance.html`);
//   …  expect(problems.list(), problems.format()).toEqual([]);
//   await chromium?.close(); await server?.close();  // in afterAll, always
//
// WebGPU in headless Chromium without a GPU: Chromium's own SwiftShader (a Vulkan driver on the
// CPU) serves as the adapter. What each flag is for:
//   --enable-unsafe-webgpu             WebGPU on Linux is still behind this switch; without it
//                                      requestAdapter() returns null (checked: the page then reports
//                                      "WebGPU unavailable: … returned no adapter").
//   --enable-features=Vulkan           Dawn's Vulkan backend (the only one on Linux).
//   --use-vulkan=swiftshader           … on SwiftShader instead of a hardware ICD.
//   --use-webgpu-adapter=swiftshader   navigator.gpu.requestAdapter() returns the SwiftShader adapter.
//   --use-angle=swiftshader            the compositor (screenshots) on SwiftShader too, no GPU needed.
//   --no-sandbox                       containers and root have no user namespaces for the sandbox.
//   --disable-background-networking --disable-component-update --disable-sync --no-first-run
//                                      nothing goes to the network (the test machine has none).
// Found by experiment on Chromium 156 (Debian bookworm, no GPU): with `headless: true` (puppeteer's
// new headless mode, which is full Chromium, unlike chrome-headless-shell) these flags give an
// adapter with vendor "google", architecture "swiftshader"; no extra flag was needed. The flags ask
// for SwiftShader even where a GPU exists (not tried on one): the same adapter everywhere, as this
// checks correctness, not speed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
// Shared with scripts/bench.mjs (plain JavaScript, typed by scripts/headless.d.mts).
import { CHROME_PATH, CHROMIUM_ARGS, startDemoServer, WEBGPU_MESSAGE } from '../../scripts/headless.mjs';
import type { Browser, ConsoleMessage, Page } from 'puppeteer-core';

export { CHROME_PATH, CHROMIUM_ARGS, startDemoServer };

export interface Chromium {
  browser: Browser;
  /** Closes the browser and removes its fresh profile directory. Safe to call twice. */
  close(): Promise<void>;
}

/** Launches headless Chromium with WebGPU on SwiftShader and a fresh, temporary profile. */
export async function launchChromium(): Promise<Chromium> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'filtro-chromium-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROME_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`],
      // SwiftShader compiles shaders on the CPU: the first dispatches are slow.
      protocolTimeout: 120_000,
    });
  } catch (e) {
    await rm(userDataDir, { recursive: true, force: true });
    throw new Error(
      `cannot launch Chromium at ${CHROME_PATH} (set CHROME_PATH to another Chrome/Chromium; ` +
        `Debian/Ubuntu: apt-get install chromium): ${(e as Error).message}`,
    );
  }
  let closed = false;
  return {
    browser,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await browser.close();
      } catch {
        browser.process()?.kill('SIGKILL');
      }
      await rm(userDataDir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

export interface PageProblem {
  kind: 'console-error' | 'page-error' | 'webgpu' | 'request-failed';
  text: string;
}

export interface PageProblems {
  list(): PageProblem[];
  /** One problem a line, for assertion messages. */
  format(): string;
}

/**
 * Collects everything on a page that should fail a test: console errors, uncaught exceptions
 * (`pageerror`), WebGPU validation messages (see WEBGPU_MESSAGE) and failed requests.
 */
export function watchPage(page: Page): PageProblems {
  const problems: PageProblem[] = [];
  page.on('console', (msg: ConsoleMessage) => {
    const text = msg.text();
    const where = msg.location()?.url ? ` (${msg.location().url}:${msg.location().lineNumber ?? '?'})` : '';
    if (WEBGPU_MESSAGE.test(text) && (msg.type() === 'warn' || msg.type() === 'error' || msg.type() === 'assert')) {
      problems.push({ kind: 'webgpu', text: `${msg.type()}: ${text}${where}` });
    } else if (msg.type() === 'error') {
      problems.push({ kind: 'console-error', text: `${text}${where}` });
    }
  });
  page.on('pageerror', (error: unknown) => {
    problems.push({ kind: 'page-error', text: error instanceof Error ? error.stack ?? error.message : String(error) });
  });
  page.on('requestfailed', (request) => {
    problems.push({ kind: 'request-failed', text: `${request.url()}: ${request.failure()?.errorText ?? 'failed'}` });
  });
  return {
    list: () => [...problems],
    format: () => problems.map((p) => `[${p.kind}] ${p.text}`).join('\n'),
  };
}

/** The part of Vite's ViteDevServer used here ('vite' is not resolvable from tests/ for types). */
export interface ViteDevServer {
  listen(): Promise<unknown>;
  close(): Promise<void>;
}

export interface DemoServer {
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  server: ViteDevServer;
  close(): Promise<void>;
}
