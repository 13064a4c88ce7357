// The benchmark run: cold starts first (fresh iframes, before this page creates any device), then
// every row on every backend, row by row so that a drifting machine affects all columns of a row
// alike. Each library is loaded and initialised in isolation: one that fails (no adapter, missing
// kernel, an exception, a hang) gets an error in its cells and the run goes on.
import { BACKEND_LABELS, BATCH, emptyRow } from './config.ts';
import type { RowDef, RunConfig } from './config.ts';
import { coldFrame, type ColdMessage } from './cold.ts';
import { lenetData } from './data.ts';
import { computeRatios, evaluateTargets } from './targets.ts';
import { TimeoutError, errorText, guarded, measure, median, stuck, withTimeout, yieldToBrowser } from './timing.ts';
import type { BackendAdapter, BackendId, BenchResults, Cell, OpRunner, Row } from './types.ts';

export interface RunHooks {
  /** A cell changed (pending → measured / error). */
  cell(row: Row, backend: BackendId): void;
  status(text: string): void;
  coldHost: HTMLElement;
}

async function loadAdapter(id: BackendId): Promise<BackendAdapter> {
  switch (id) {
    case 'filtro-webgpu':
    case 'filtro-cpu':
      return (await import('./filtro.ts')).createFiltro(id === 'filtro-webgpu' ? 'webgpu' : 'cpu');
    case 'tfjs-webgpu':
    case 'tfjs-webgl':
    case 'tfjs-wasm':
    case 'tfjs-cpu':
      return (await import('./tfjs.ts')).createTfjs(id.slice(5) as 'webgpu' | 'webgl' | 'wasm' | 'cpu');
    case 'jax-webgpu':
    case 'jax-wasm':
      return (await import('./jax.ts')).createJax(id === 'jax-webgpu' ? 'webgpu' : 'wasm');
    case 'convnetjs':
      return (await import('./convnet.ts')).createConvnet();
  }
}

const toUnit = (row: Row, ms: number): number => {
  switch (row.unit) {
    case 'GFLOP/s':
      return row.flops! / (ms * 1e6);
    case 'images/s':
      return (BATCH * 1000) / ms;
    case 's':
      return ms / 1000;
    default:
      return ms;
  }
};

/** The cold-start cell of one library: the median of its frames, with that frame's breakdown. */
function coldCell(backend: BackendId, frames: readonly ColdMessage[]): Cell {
  const sorted = [...frames].sort((x, y) => x.totalMs! - y.totalMs!);
  const mid = sorted[(sorted.length - 1) >> 1];
  const samplesMs = frames.map((m) => m.totalMs!);
  const medianMs = median(samplesMs);
  return {
    backend,
    status: 'ok',
    value: medianMs / 1000,
    min: sorted[0].totalMs! / 1000,
    max: sorted[sorted.length - 1].totalMs! / 1000,
    runs: frames.length,
    reps: 1,
    firstMs: frames[0].totalMs,
    medianMs,
    samplesMs,
    detail: { scriptMs: mid.scriptMs!, importMs: mid.importMs!, initMs: mid.initMs!, firstStepMs: mid.stepMs!, dataMsExcluded: mid.dataMs! },
  };
}

/** A cell from per-iteration milliseconds: value = median in the row's unit, min/max likewise. */
function measuredCell(row: Row, backend: BackendId, firstMs: number, samplesMs: number[], reps: number): Cell {
  const medianMs = median(samplesMs);
  const a = toUnit(row, Math.min(...samplesMs));
  const b = toUnit(row, Math.max(...samplesMs));
  return {
    backend,
    status: 'ok',
    value: toUnit(row, medianMs),
    min: Math.min(a, b),
    max: Math.max(a, b),
    first: toUnit(row, firstMs),
    runs: samplesMs.length,
    reps,
    samplesMs,
    firstMs,
    medianMs,
  };
}

export async function runBench(cfg: RunConfig, results: BenchResults, hooks: RunHooks): Promise<void> {
  const t0 = performance.now();
  const rows = new Map<string, Row>(results.rows.map((r) => [r.id, r]));
  const set = (row: Row, cell: Cell) => {
    row.cells[cell.backend] = cell;
    hooks.cell(row, cell.backend);
  };
  const skipped = (def: RowDef, b: BackendId) => cfg.quick && def.quickOnly !== undefined && !def.quickOnly.includes(b);

  // Mark everything pending (or skipped in quick mode) up front, so the table shows the plan.
  for (const def of cfg.rows) {
    const row = rows.get(def.id)!;
    for (const b of cfg.backends) {
      if (skipped(def, b)) set(row, { backend: b, status: 'skipped', message: 'left out of ?quick=1 (slow here)' });
      else if (def.what.kind === 'cold' && !cfg.coldBackends.includes(b)) set(row, { backend: b, status: b === 'tfjs-wasm' ? 'n/a' : 'skipped', message: b === 'tfjs-wasm' ? 'cannot train a CNN (no Conv2DBackpropFilter kernel)' : 'left out of ?quick=1 (slow here)' });
      else set(row, { backend: b, status: 'pending' });
    }
  }

  // 1. Cold starts, each in a fresh iframe, before this page loads any library or creates a device.
  // Rounds go over every library in turn, so that a drifting machine (or the browser's first GPU
  // device, slower to create) weighs on all alike; one sample alone would decide the row otherwise.
  const coldRow = rows.get('cold-lenet');
  if (coldRow) {
    const samples = new Map<BackendId, ColdMessage[]>();
    const failed = new Set<BackendId>();
    for (let round = 0; round < cfg.coldRuns; round++) {
      for (const b of cfg.coldBackends) {
        if (!cfg.backends.includes(b) || failed.has(b)) continue;
        hooks.status(`cold start ${round + 1}/${cfg.coldRuns}: ${BACKEND_LABELS[b]} (fresh iframe)…`);
        try {
          if (round === 0) {
            const prime = await coldFrame(hooks.coldHost, b, true, cfg.coldTimeoutMs);
            if (!prime.ok) throw new Error(`loading its modules failed: ${prime.error}`);
          }
          const m = await coldFrame(hooks.coldHost, b, false, cfg.coldTimeoutMs);
          if (!m.ok) throw new Error(m.error);
          samples.set(b, [...(samples.get(b) ?? []), m]);
          set(coldRow, coldCell(b, samples.get(b)!));
        } catch (e) {
          failed.add(b);
          set(coldRow, { backend: b, status: 'error', message: errorText(e) });
        }
        await yieldToBrowser();
      }
    }
  }

  // 2. Libraries, each loaded and initialised on its own.
  const adapters = new Map<BackendId, BackendAdapter>();
  const broken = new Map<BackendId, string>();
  results.adapter = { filtro: null, backends: {} };
  for (const b of cfg.backends) {
    hooks.status(`initialising ${BACKEND_LABELS[b]}…`);
    try {
      const a = await withTimeout(loadAdapter(b), cfg.cellTimeoutMs, `initialising ${b}`);
      adapters.set(b, a);
      results.adapter.backends[b] = a.describe();
      if (b === 'filtro-webgpu') results.adapter.filtro = (await import('@filtro/core')).backendInfo();
    } catch (e) {
      broken.set(b, `unavailable: ${errorText(e)}`);
      results.adapter.backends[b] = `unavailable: ${errorText(e)}`;
    }
  }

  // 3. Rows × backends.
  const data = lenetData(BATCH);
  const hostRow = rows.get('host-lenet');
  for (const def of cfg.rows) {
    if (def.what.kind === 'cold' || def.what.kind === 'host') continue;
    const row = rows.get(def.id)!;
    for (const b of cfg.backends) {
      if (skipped(def, b)) continue;
      const adapter = adapters.get(b);
      const what = def.what;
      const hostToo = what.kind === 'train' && hostRow;
      if (!adapter) {
        set(row, { backend: b, status: 'error', message: broken.get(b) });
        if (hostToo) set(hostRow, { backend: b, status: 'error', message: broken.get(b) });
        continue;
      }
      // What the library does not offer, or lacks a kernel for.
      const na =
        what.kind === 'gemm' ? (!adapter.gemm ? 'no GEMM op in this library' : undefined)
        : what.kind === 'conv' ? (!adapter.conv ? 'no separate conv op benchmarked' : what.withGrad ? adapter.unsupported?.convGrad : undefined)
        : what.kind === 'pool' ? (!adapter.pool ? 'no separate pooling op benchmarked' : what.withGrad ? adapter.unsupported?.poolGrad : undefined)
        : what.kind === 'train' ? (!adapter.train ? 'no training' : adapter.unsupported?.train) : undefined;
      if (na) {
        set(row, { backend: b, status: 'n/a', message: na });
        if (hostToo) set(hostRow, { backend: b, status: 'n/a', message: na });
        continue;
      }
      hooks.status(`${def.label}: ${BACKEND_LABELS[b]}…`);
      await yieldToBrowser();
      try {
        await adapter.activate();
        if (what.kind === 'train') {
          const trainer = await adapter.train!(data);
          let hostMs: number[] = [];
          let firstHost: number | undefined;
          let lastLoss = NaN;
          let failure: unknown;
          try {
            const timing = await guarded(
              measure(async (reps) => {
                const r = await trainer.steps(reps);
                firstHost ??= r.hostMs[0];
                lastLoss = r.loss;
              }, cfg),
              cfg.cellTimeoutMs,
              `${def.id} on ${b}`,
            );
            if (!Number.isFinite(lastLoss)) throw new Error(`training gave loss ${lastLoss}`);
            const cpuSide = b.endsWith('-cpu') || b.endsWith('-wasm') || b === 'convnetjs';
            // Host time from steps of their own, each started once the previous one finished: on a
            // software adapter the device's work competes with the main thread for the same cores.
            const samples = Math.max(2, Math.min(cfg.hostSamples, Math.floor(cfg.hostBudgetMs / timing.medianMs)));
            if (hostToo && !cpuSide) {
              const r = await guarded(trainer.steps(samples, true), cfg.cellTimeoutMs, `${def.id} on ${b} (host samples)`);
              hostMs = r.hostMs;
            }
            const cell = measuredCell(row, b, timing.firstMs, timing.samplesMs, timing.reps);
            cell.detail = { lastLoss, ...(trainer.counters?.() ?? {}) };
            set(row, cell);
            if (hostToo) {
              if (hostMs.length && !cpuSide) {
                const med = median(hostMs);
                set(hostRow, { backend: b, status: 'ok', value: med, min: Math.min(...hostMs), max: Math.max(...hostMs), first: firstHost, firstMs: firstHost, medianMs: med, runs: hostMs.length, reps: 1, samplesMs: hostMs });
              } else {
                set(hostRow, { backend: b, status: 'n/a', message: 'CPU backend: the whole step runs on the main thread' });
              }
            }
          } catch (e) {
            failure = e;
            throw e;
          } finally {
            if (!stuck(failure)) trainer.dispose();
          }
        } else {
          let runner: OpRunner;
          if (what.kind === 'gemm') runner = await adapter.gemm!(what.spec);
          else if (what.kind === 'conv') runner = await adapter.conv!(what.spec, what.withGrad);
          else runner = await adapter.pool!(what.spec, what.withGrad);
          let failure: unknown;
          try {
            const timing = await guarded(measure((reps) => runner.run(reps), cfg), cfg.cellTimeoutMs, `${def.id} on ${b}`);
            set(row, measuredCell(row, b, timing.firstMs, timing.samplesMs, timing.reps));
          } catch (e) {
            failure = e;
            throw e;
          } finally {
            if (!stuck(failure)) runner.dispose();
          }
        }
      } catch (e) {
        const message = errorText(e) + (e instanceof TimeoutError && e.drained ? '; it finished later' : '');
        set(row, { backend: b, status: 'error', message });
        if (hostToo) set(hostRow, { backend: b, status: 'error', message });
        if (stuck(e)) {
          // Its work never ended: measure nothing else on this backend (its figures would be wrong).
          adapters.delete(b);
          broken.set(b, `skipped: ${def.id} never finished`);
        }
      }
    }
    results.elapsedMs = performance.now() - t0;
  }

  results.ratios = computeRatios(results.rows, cfg.backends);
  results.targets = evaluateTargets(results.rows);
  results.elapsedMs = performance.now() - t0;
  hooks.status(`done in ${(results.elapsedMs / 1000).toFixed(1)} s`);
}
