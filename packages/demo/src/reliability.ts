// The reliability page: the device-loss scenarios of tests/device-loss/scenarios.ts (the ones the
// Node suite runs) on webgpu in this browser. Each scenario's observations go to
// window.__reliability for headless runs (tests/e2e/device-loss.e2e.test.ts asserts them with the
// Node suite's expectations) and to a table for people. `done` is always set in the end; a scenario
// that throws is recorded in `errors`.
import * as f from '@filtro/core';
import type { BackendInfo } from '@filtro/core';
import { fallbackScenario, recoveryScenario, restoreScenario } from '../../../tests/device-loss/scenarios.js';
import type { FallbackObservation, RecoveryObservation, RestoreObservation } from '../../../tests/device-loss/scenarios.js';

export interface ReliabilitySummary {
  done: boolean;
  /** f.backendInfo() once webgpu is on (null when it could not start). */
  adapter: BackendInfo | null;
  recovery: RecoveryObservation | null;
  restore: RestoreObservation | null;
  fallback: FallbackObservation | null;
  errors: { scenario: string; message: string }[];
  /** Milliseconds per scenario, and for the whole page. */
  timings: Record<string, number>;
  userAgent: string;
}

declare global {
  interface Window {
    __reliability?: ReliabilitySummary;
  }
}

const summary: ReliabilitySummary = {
  done: false,
  adapter: null,
  recovery: null,
  restore: null,
  fallback: null,
  errors: [],
  timings: {},
  userAgent: navigator.userAgent,
};
window.__reliability = summary;

const status = document.getElementById('summary')!;
const body = document.querySelector<HTMLTableSectionElement>('#results tbody')!;
const errorText = (e: unknown): string => (e instanceof Error ? e.stack ?? e.message : String(e));

/** One row per scenario: what it observed (judged by the e2e test, not here), or what it threw. */
function addRow(name: string, ms: number, lines: string[], threw: boolean): void {
  const tr = document.createElement('tr');
  if (threw) tr.className = 'fail';
  for (const text of [name, ms.toFixed(0), lines.join('\n')]) {
    const td = document.createElement('td');
    td.textContent = text;
    td.style.whiteSpace = 'pre-wrap';
    tr.appendChild(td);
  }
  body.appendChild(tr);
}

async function scenario<K extends 'recovery' | 'restore' | 'fallback'>(name: K, run: () => Promise<NonNullable<ReliabilitySummary[K]>>): Promise<void> {
  status.textContent = `running ${name}…`;
  const t0 = performance.now();
  try {
    const observed = await run();
    summary[name] = observed;
    summary.timings[name] = performance.now() - t0;
    const events = 'events' in observed ? observed.events.filter((e) => e.kind !== 'snapshot').map((e) => `${e.kind}: ${e.message}`) : [];
    addRow(name, summary.timings[name], [...events, `observed: ${JSON.stringify({ ...observed, events: undefined }).slice(0, 300)}`], false);
  } catch (e) {
    summary.timings[name] = performance.now() - t0;
    summary.errors.push({ scenario: name, message: errorText(e) });
    addRow(name, summary.timings[name], [`threw: ${errorText(e)}`], true);
  }
}

async function main(): Promise<void> {
  try {
    summary.adapter = await f.setBackend('webgpu');
  } catch (e) {
    summary.errors.push({ scenario: 'setBackend(webgpu)', message: `WebGPU unavailable: ${errorText(e)}` });
    return;
  }
  await scenario('recovery', recoveryScenario);
  await scenario('restore', restoreScenario);
  await scenario('fallback', fallbackScenario);
  await f.setBackend('cpu');
}

const started = performance.now();
main()
  .catch((e: unknown) => {
    summary.errors.push({ scenario: 'reliability page', message: `aborted: ${errorText(e)}` });
  })
  .finally(() => {
    summary.timings.total = performance.now() - started;
    summary.done = true;
    status.className = summary.errors.length ? 'fail' : '';
    status.textContent = summary.errors.length
      ? `${summary.errors.length} scenario(s) threw: ${summary.errors.map((x) => x.scenario).join(', ')}`
      : `all scenarios ran on ${summary.adapter?.description ?? '?'}; the observations are checked by tests/e2e/device-loss.e2e.test.ts (${(summary.timings.total / 1000).toFixed(1)} s)`;
  });
