// What both the e2e tests (tests/e2e/chromium.ts) and `pnpm bench` (scripts/bench.mjs) need to run
// the demo's pages in headless Chromium: the Chromium flags (explained in tests/e2e/chromium.ts),
// the pattern of WebGPU validation messages, and the demo's Vite dev server on a free port.
// Plain JavaScript so that scripts/bench.mjs runs in Node without a build.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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
];

/**
 * WebGPU errors as Chromium reports them: uncaught GPU errors reach the console as warnings from
 * Dawn without the word "WebGPU", e.g. "Buffer usages (BufferUsage::(MapRead|Storage)) is invalid.
 * … - While calling [Device].CreateBuffer([BufferDescriptor])." (checked by experiment), or later
 * "[Invalid ComputePipeline] is invalid"; after many, "WebGPU: too many warnings, no more warnings
 * will be reported". Our runtime logs uncaptured errors with console.error ("filtro: uncaptured
 * WebGPU error: …"). Matched case-insensitively in warnings and errors, not in log/info/debug.
 */
export const WEBGPU_MESSAGE = /webgpu|GPUValidationError|invalid|While (calling|encoding|validating|finishing)/i;

const demoRoot = fileURLToPath(new URL('../packages/demo/', import.meta.url));

/** A TCP port on 127.0.0.1 that was free a moment ago (Vite reads `port: 0` as "the default, 5173"). */
function freePort() {
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

/** Vite, resolved from packages/demo (a dependency of the demo, not of the repository root). */
async function loadVite() {
  const require = createRequire(join(demoRoot, 'package.json'));
  const vitePkg = require.resolve('vite/package.json');
  return import(pathToFileURL(join(vitePkg, '../dist/node/index.js')).href);
}

/**
 * `start(port)` on a free port, retried on another one if a different process took it between
 * freePort() and the listen (up to 5 tries).
 */
async function onFreePort(start) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await start(port);
    } catch (e) {
      if ((e.code === 'EADDRINUSE' || /already in use/.test(e.message)) && attempt < 5) continue;
      throw e;
    }
  }
}

/**
 * Starts the demo's Vite dev server (packages/demo/vite.config.ts) on 127.0.0.1 and a free port, with
 * no file watching or HMR socket, and the given extra response headers.
 * @param {{ headers?: Record<string, string> }} [options]
 * @returns {Promise<{ url: string, server: { listen(): Promise<unknown>, close(): Promise<void> }, close(): Promise<void> }>}
 */
export async function startDemoServer(options = {}) {
  const vite = await loadVite();
  return onFreePort(async (port) => {
    const server = await vite.createServer({
      configFile: join(demoRoot, 'vite.config.ts'),
      root: demoRoot,
      logLevel: 'warn',
      clearScreen: false,
      server: { host: '127.0.0.1', port, strictPort: true, hmr: false, watch: null, headers: options.headers },
    });
    try {
      await server.listen();
    } catch (e) {
      await server.close();
      throw e;
    }
    return { url: `http://127.0.0.1:${port}`, server, close: () => server.close() };
  });
}

/**
 * Serves the demo's production build (packages/demo/dist, made by `pnpm build`) with `vite preview`
 * on 127.0.0.1 and a free port: the pages as a user gets them, every library bundled alike.
 * @param {{ headers?: Record<string, string> }} [options]
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function startBuiltDemoServer(options = {}) {
  if (!existsSync(join(demoRoot, 'dist', 'bench.html'))) {
    throw new Error('packages/demo/dist is missing: run `pnpm build` first (`pnpm bench` does)');
  }
  const vite = await loadVite();
  return onFreePort(async (port) => {
    const server = await vite.preview({
      configFile: join(demoRoot, 'vite.config.ts'),
      root: demoRoot,
      logLevel: 'warn',
      preview: { host: '127.0.0.1', port, strictPort: true, headers: options.headers },
    });
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise((resolveClose) => server.httpServer.close(() => resolveClose())),
    };
  });
}
