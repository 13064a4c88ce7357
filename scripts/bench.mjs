#!/usr/bin/env node
// pnpm bench [--quick]: runs the demo's benchmark page (packages/demo/bench.html) in headless
// Chromium with WebGPU (SwiftShader where there is no GPU), prints its table, the filtro ÷ peer
// ratios of the issue-5 targets (met / not met) and writes bench-results.json at the repository root.
//
//   node scripts/bench.mjs [--quick] [--dev] [--out FILE] [--timeout SECONDS] [--query 'only=filtro-webgpu,jax-webgpu&rows=gemm']
//                          [--screenshot FILE] [--json]
//
// Exits non-zero when the page does not finish, stops on a fatal error, logs an uncaught error or a
// WebGPU validation message, or when a filtro cell fails. A failing peer is not a failure: its cells
// say why. The page is served from the demo's production build (`pnpm bench` builds it first;
// --dev uses the Vite dev server instead). Servers and Chromium flags come from scripts/headless.mjs,
// shared with the e2e tests.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { CHROME_PATH, CHROMIUM_ARGS, startBuiltDemoServer, startDemoServer, WEBGPU_MESSAGE } from './headless.mjs';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
if (flag('--help') || flag('-h')) {
  console.log(
    'usage: node scripts/bench.mjs [--quick] [--dev] [--out FILE] [--timeout SECONDS] [--query QUERY] [--screenshot FILE] [--json]\n' +
      '  --quick       reduced set (bench.html?quick=1), under two minutes on 2 cores with SwiftShader\n' +
      '  --dev         serve the page from the Vite dev server instead of the production build\n' +
      '  --out         where to write the results (default bench-results.json at the repository root)\n' +
      '  --query       extra query string for bench.html, e.g. only=filtro-webgpu,jax-webgpu&rows=gemm\n' +
      '  --screenshot  also save a full-page PNG\n' +
      '  --json        print the results JSON on the last line',
  );
  process.exit(0);
}
const quick = flag('--quick');
const outFile = resolve(option('--out', join(repoRoot, 'bench-results.json')));
const timeoutMs = Number(option('--timeout', quick ? 300 : 3600)) * 1000;
const extraQuery = option('--query', '');
const screenshot = option('--screenshot', '');

const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/**
 * The demo's production build (or, with --dev, the Vite dev server) with cross-origin isolation
 * (COOP/COEP): SharedArrayBuffer, so the wasm peers (jax-js, tfjs) can use their threads, as they
 * would on a site set up for them. The build is what a visitor loads, every library bundled alike;
 * the dev server serves filtro as ~80 separate source modules but the peers pre-bundled, which
 * puts about 0.2 s on filtro's cold start alone.
 */
const dev = flag('--dev');
const startBenchServer = () => (dev ? startDemoServer : startBuiltDemoServer)({ headers: ISOLATION_HEADERS });

const fmt = (v) => {
  if (v === undefined || v === null || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a >= 1000) return String(Math.round(v));
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
};

const SHORT = {
  'filtro-webgpu': 'filtro gpu',
  'filtro-cpu': 'filtro cpu',
  'tfjs-webgpu': 'tfjs webgpu',
  'tfjs-webgl': 'tfjs webgl',
  'tfjs-wasm': 'tfjs wasm',
  'tfjs-cpu': 'tfjs cpu',
  'jax-webgpu': 'jax webgpu',
  'jax-wasm': 'jax wasm',
  convnetjs: 'convnetjs',
};

const cellText = (c) => {
  if (!c) return '';
  if (c.status === 'ok') return fmt(c.value);
  if (c.status === 'error') return 'error';
  if (c.status === 'n/a') return 'n/a';
  if (c.status === 'skipped') return '-';
  return '?';
};

function textTable(header, lines) {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(line)].join('\n');
}

function shortLabel(row) {
  return row.label
    .replace(/^LeNet training step, batch (\d+).*/, 'LeNet train step, batch $1')
    .replace(/^host overhead per LeNet step.*/, 'host ms per LeNet step')
    .replace(/^cold start.*/, 'cold start → first step')
    .replace(/conv2d forward\+backward \(dX, dW\)/, 'conv fwd+bwd')
    .replace(/conv2d forward/, 'conv fwd')
    .replace(/max pool forward\+backward/, 'maxpool fwd+bwd')
    .replace(/max pool forward/, 'maxpool fwd')
    .replace(/ 'same'$/, '');
}

function printResults(r, problems) {
  const header = ['what', 'unit', ...r.backends.map((b) => SHORT[b] ?? b)];
  const lines = r.rows.map((row) => [shortLabel(row), row.unit, ...r.backends.map((b) => cellText(row.cells[b]))]);
  console.log(`\nfiltro bench (${r.quick ? 'quick' : 'full'}), ${(r.elapsedMs / 1000).toFixed(1)} s in the page; median of timed runs ('-' left out, n/a not offered)`);
  console.log(textTable(header, lines));
  const errors = r.rows.flatMap((row) =>
    r.backends.filter((b) => row.cells[b]?.status === 'error').map((b) => `  ${row.id} / ${b}: ${row.cells[b].message}`),
  );
  if (errors.length) console.log(`\nerrors:\n${[...new Set(errors)].join('\n')}`);
  const na = r.rows.flatMap((row) => r.backends.filter((b) => row.cells[b]?.status === 'n/a').map((b) => `${b}: ${row.cells[b].message}`));
  if (na.length) console.log(`\nn/a:\n${[...new Set(na)].map((x) => `  ${x}`).join('\n')}`);
  console.log('\ntargets (issue 5), ratios filtro ÷ peer from this run:');
  for (const t of r.targets) {
    const figures =
      t.ratio !== undefined
        ? `filtro ${fmt(t.filtroValue)} vs ${fmt(t.peerValue)} ${t.unit}: ${fmt(t.ratio)}× (need ${t.comparison} ${t.need}×)`
        : t.filtroValue !== undefined
          ? `filtro ${fmt(t.filtroValue)} ${t.unit} (need ${t.comparison} ${t.need} ${t.unit})`
          : '';
    console.log(`  [${t.status === 'met' ? 'met' : t.status === 'not met' ? 'NOT MET' : 'not measured'}] ${t.text}${figures ? `: ${figures}` : ''}${t.message ? ` (${t.message})` : ''}`);
  }
  console.log('\nbackends:');
  for (const [b, d] of Object.entries(r.adapter?.backends ?? {})) console.log(`  ${b}: ${d}`);
  if (problems.length) console.log(`\npage problems:\n${problems.map((p) => `  [${p.kind}] ${p.text}`).join('\n')}`);
}

let server;
let browser;
let userDataDir;
let exitCode = 0;
try {
  server = await startBenchServer();
  userDataDir = await mkdtemp(join(tmpdir(), 'filtro-bench-'));
  browser = await puppeteer.launch({
    executablePath: CHROME_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`],
    protocolTimeout: 300_000,
  });
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (msg) => {
    const text = msg.text();
    if (WEBGPU_MESSAGE.test(text) && ['warn', 'error', 'assert'].includes(msg.type())) problems.push({ kind: 'webgpu', text: `${msg.type()}: ${text}` });
    else if (msg.type() === 'error') problems.push({ kind: 'console-error', text });
  });
  page.on('pageerror', (e) => problems.push({ kind: 'page-error', text: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
  page.on('requestfailed', (req) => problems.push({ kind: 'request-failed', text: `${req.url()}: ${req.failure()?.errorText ?? 'failed'}` }));
  await page.setViewport({ width: 1500, height: 1000 });
  const query = [quick ? 'quick=1' : '', extraQuery].filter(Boolean).join('&');
  const url = `${server.url}/bench.html${query ? `?${query}` : ''}`;
  console.error(`bench: ${url} in ${await browser.version()}`);
  const started = Date.now();
  await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  let lastStatus = '';
  for (;;) {
    const state = await page.evaluate(() => ({ done: window.__bench?.done === true, status: document.getElementById('status')?.textContent ?? '' }));
    if (state.done) break;
    if (state.status !== lastStatus) {
      lastStatus = state.status;
      console.error(`  ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  ${state.status}`);
    }
    if (Date.now() - started > timeoutMs) throw new Error(`the bench page did not finish in ${timeoutMs / 1000} s (last status: ${lastStatus})`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const results = await page.evaluate(() => JSON.parse(JSON.stringify(window.__bench)));
  results.wallMs = Date.now() - started;
  results.browser = await browser.version();
  results.served = dev ? 'vite dev server' : 'production build (vite preview)';
  results.pageProblems = problems;
  if (screenshot) {
    await mkdir(dirname(resolve(screenshot)), { recursive: true });
    await page.screenshot({ path: resolve(screenshot), fullPage: true });
  }
  await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
  printResults(results, problems);
  console.log(`\nwrote ${outFile} (${(results.wallMs / 1000).toFixed(1)} s wall)`);
  const filtroErrors = results.rows.flatMap((row) => ['filtro-webgpu', 'filtro-cpu'].filter((b) => row.cells[b]?.status === 'error').map((b) => `${row.id}/${b}`));
  if (results.error) {
    console.error(`bench: the page stopped: ${results.error}`);
    exitCode = 1;
  }
  if (problems.length) {
    console.error(`bench: ${problems.length} page problem(s) (see above)`);
    exitCode = 1;
  }
  if (filtroErrors.length) {
    console.error(`bench: filtro failed in ${filtroErrors.join(', ')}`);
    exitCode = 1;
  }
  if (flag('--json')) console.log(JSON.stringify(results));
} catch (e) {
  console.error(`bench: ${e instanceof Error ? e.message : e}`);
  exitCode = 1;
} finally {
  await browser?.close().catch(() => browser?.process()?.kill('SIGKILL'));
  await server?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true, maxRetries: 3 });
}
process.exit(exitCode);
