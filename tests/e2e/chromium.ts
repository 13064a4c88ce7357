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
import { createRequire } from 'node:module';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import type { Browser, ConsoleMessage, Page } from 'puppeteer-core';

export const CHROME_PATH = process.env.CHROME_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;

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
 * WebGPU errors as Chromium reports them: uncaught GPU errors reach the console as warnings from
 * Dawn without the word "WebGPU", e.g. "Buffer usages (BufferUsage::(MapRead|Storage)) is invalid.
 * … - While calling [Device].CreateBuffer([BufferDescriptor])." (checked by experiment), or later
 * "[Invalid ComputePipeline] is invalid"; after many, "WebGPU: too many warnings, no more warnings
 * will be reported". Our runtime logs uncaptured errors with console.error ("filtro: uncaptured
 * WebGPU error: …"). Matched case-insensitively in warnings and errors, not in log/info/debug.
 */
const WEBGPU_MESSAGE = /webgpu|GPUValidationError|invalid|While (calling|encoding|validating|finishing)/i;

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

const demoRoot = fileURLToPath(new URL('../../packages/demo/', import.meta.url));

/** A TCP port on 127.0.0.1 that was free a moment ago (Vite reads `port: 0` as "the default, 5173"). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * Starts the demo's Vite dev server (packages/demo/vite.config.ts) on 127.0.0.1 and a free port.
 * Vite is a dependency of packages/demo, not of the repository root, so it is resolved from there.
 */
export async function startDemoServer(): Promise<DemoServer> {
  const require = createRequire(join(demoRoot, 'package.json'));
  const vitePkg = require.resolve('vite/package.json');
  const vite = (await import(pathToFileURL(join(vitePkg, '../dist/node/index.js')).href)) as {
    createServer(config: Record<string, unknown>): Promise<ViteDevServer>;
  };
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = await vite.createServer({
      configFile: join(demoRoot, 'vite.config.ts'),
      root: demoRoot,
      logLevel: 'warn',
      clearScreen: false,
      // No file watching or HMR socket: the server lives for one test file.
      server: { host: '127.0.0.1', port, strictPort: true, hmr: false, watch: null },
    });
    try {
      await server.listen();
    } catch (e) {
      await server.close();
      // Another process took the port between freePort() and listen(): try another one.
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' || /already in use/.test((e as Error).message)) {
        if (attempt < 5) continue;
      }
      throw e;
    }
    return { url: `http://127.0.0.1:${port}`, server, close: () => server.close() };
  }
}
