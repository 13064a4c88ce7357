// The benchmark page proper (bench.html without ?cold=): runs the plan of config.ts, shows it live
// and publishes the results on window.__bench for headless runs (scripts/bench.mjs,
// tests/e2e/bench.e2e.test.ts). `done` is always set in the end, also after a fatal error.
import { emptyRow, runConfig } from './config.ts';
import { runBench } from './run.ts';
import { errorText } from './timing.ts';
import type { BenchResults } from './types.ts';
import { BenchView, exportJson } from './ui.ts';

declare global {
  interface Window {
    __bench?: BenchResults;
  }
}

export async function startBenchPage(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const cfg = runConfig(params);
  const results: BenchResults = {
    done: false,
    quick: cfg.quick,
    startedAt: new Date().toISOString(),
    elapsedMs: 0,
    adapter: null,
    backends: cfg.backends,
    rows: cfg.rows.map(emptyRow),
    ratios: [],
    targets: [],
    userAgent: navigator.userAgent,
    notes: [
      'ratio = filtro throughput / peer throughput from this run (for times: peer time / filtro time); > 1 means filtro is faster',
      'value = median of the timed runs; first = the first run (compilation, uploads, tracing), reported apart and not in the median',
      'GPU work is timed to completion: each timed run ends with a 1-element readback (filtro, tfjs) or blockUntilReady (jax-js)',
      'LeNet: conv 5×5×8 same relu → maxpool 2 → conv 5×5×16 same relu → maxpool 2 → dense 128 relu → dense 10, softmax cross-entropy, batch 64, same images and labels for every library; jax-js gets them as NCHW',
      `cold start: a fresh iframe per library and round, ${cfg.coldRuns} rounds over all libraries in turn, median shown (after one prime frame that only imports its modules), navigation → first step finished, batch generation excluded`,
      'host overhead: main-thread ms of the synchronous step call (filtro: model.trainStep, which also encodes and submits; tfjs: optimizer.minimize), each step started once the previous one finished, so that a software adapter\'s work does not compete for the CPU during the call; n/a on CPU backends. jax-js is lazy: its jit call only records the work, which is encoded and submitted later, when the loss is read, so its figure leaves that part out',
      crossOriginIsolated
        ? 'the page is cross-origin isolated: wasm backends (jax-js, tfjs) may use threads (SharedArrayBuffer)'
        : 'the page is not cross-origin isolated (no COOP/COEP headers): wasm backends run single-threaded',
    ],
    config: { ...cfg, rows: cfg.rows.map((r) => r.id), crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency },
  };
  window.__bench = results;

  const status = document.getElementById('status')!;
  document.getElementById('mode')!.textContent = cfg.quick ? 'quick mode (?quick=1): a reduced set' : 'full run';
  document.getElementById('notes')!.replaceChildren(
    ...results.notes.map((n) => {
      const li = document.createElement('li');
      li.textContent = n;
      return li;
    }),
  );
  const view = new BenchView(document.body, results, cfg.backends);
  view.buildTable();
  const exportButton = document.getElementById('export') as HTMLButtonElement;
  exportButton.addEventListener('click', () => exportJson(results));

  try {
    await runBench(cfg, results, {
      cell: (row, b) => view.updateCell(row, b),
      status: (text) => (status.textContent = text),
      coldHost: document.getElementById('cold-frames')!,
    });
    status.className = 'pass';
  } catch (e) {
    results.error = errorText(e);
    status.textContent = `stopped: ${results.error}`;
    status.className = 'fail';
  }
  try {
    view.renderSummary();
    view.renderCharts();
    const adapters = document.getElementById('adapters')!;
    adapters.replaceChildren(
      ...Object.entries(results.adapter?.backends ?? {}).map(([b, d]) => {
        const li = document.createElement('li');
        li.textContent = `${b}: ${d}`;
        return li;
      }),
    );
  } catch (e) {
    results.error ??= `rendering: ${errorText(e)}`;
  }
  exportButton.disabled = false;
  results.done = true;
}
