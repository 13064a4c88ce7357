// The conformance page: every case of tests/conformance/cases.ts (the table the Node suite runs)
// on the cpu reference loops, then on webgpu in this browser; forward outputs and gradients must
// agree (compareResults), and the lecture cases must give their exact values on both backends.
// The result goes to window.__conformance for headless runs (tests/e2e/conformance.e2e.test.ts) and
// to a table for people. Every error ends up in that summary: `done` is always set in the end.
import * as f from '@filtro/core';
import type { BackendInfo } from '@filtro/core';
// Not public API: the oracle is the reference loops, as in tests/conformance/conformance.test.ts.
import { setCpuFastPath } from '../../core/src/backends/cpu.js';
import { compareResults, conformanceCases, runCase } from '../../../tests/conformance/cases.js';
import type { CaseResult, ConformanceCase } from '../../../tests/conformance/cases.js';

export interface ConformanceFailure {
  name: string;
  message: string;
}

export interface ConformanceSummary {
  done: boolean;
  /** f.backendInfo() after switching to webgpu (the cpu backend's info when that failed). */
  adapter: BackendInfo | null;
  total: number;
  passed: number;
  /** Cases finished so far (equals total once done, unless a fatal error stopped the run). */
  completed: number;
  failures: ConformanceFailure[];
  /** Milliseconds: cpu reference pass, webgpu pass, whole run. */
  timings: { cpuMs: number; webgpuMs: number; totalMs: number };
  userAgent: string;
}

declare global {
  interface Window {
    __conformance?: ConformanceSummary;
  }
}

type Row = { tr: HTMLTableRowElement; result: HTMLTableCellElement; ms: HTMLTableCellElement; message: HTMLTableCellElement };

const errorText = (e: unknown): string => (e instanceof Error ? e.message || String(e) : String(e));

function sameValues(actual: ArrayLike<number>, expected: readonly number[]): string | null {
  if (actual.length !== expected.length) return `expected ${expected.length} values, got ${actual.length}`;
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) return `forward[${i}]: expected exactly ${expected[i]}, got ${actual[i]}`;
  }
  return null;
}

function addRow(body: HTMLTableSectionElement, index: number, c: ConformanceCase): Row {
  const tr = document.createElement('tr');
  tr.className = 'pending';
  const cell = (text: string, cls?: string) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  };
  cell(String(index + 1), 'num');
  cell(c.name);
  cell(c.op);
  const result = cell('…');
  const ms = cell('', 'num');
  const message = cell('');
  body.appendChild(tr);
  return { tr, result, ms, message };
}

function mark(row: Row, failure: string | null, ms?: number): void {
  row.tr.className = failure ? 'fail' : 'pass';
  row.result.textContent = failure ? 'FAIL' : 'pass';
  row.message.textContent = failure ?? '';
  if (ms !== undefined) row.ms.textContent = ms.toFixed(1);
}

async function main(summary: ConformanceSummary): Promise<void> {
  const status = document.getElementById('summary')!;
  const body = document.querySelector<HTMLTableSectionElement>('#results tbody')!;
  const grep = new URLSearchParams(location.search).get('grep');
  const cases = conformanceCases().filter((c) => !grep || c.name.includes(grep));
  summary.total = cases.length;
  const rows = cases.map((c, i) => addRow(body, i, c));
  // Per case: the first problem found (cpu exact values, webgpu error, mismatch).
  const problems = new Map<string, string>();
  const fail = (c: ConformanceCase, message: string) => {
    if (!problems.has(c.name)) problems.set(c.name, message);
  };

  // 1. The expected results: the cpu backend on its reference loops.
  const t0 = performance.now();
  status.textContent = `cpu reference: ${cases.length} cases…`;
  await f.setBackend('cpu');
  const expected = new Map<string, CaseResult>();
  setCpuFastPath(false);
  try {
    for (const c of cases) {
      try {
        const r = await runCase(f, c);
        expected.set(c.name, r);
        const exact = c.expected ? sameValues(r.outputs[0], c.expected) : null;
        if (exact) fail(c, `cpu reference: ${exact}`);
      } catch (e) {
        fail(c, `cpu reference threw: ${errorText(e)}`);
      }
    }
  } finally {
    setCpuFastPath(true);
  }
  summary.timings.cpuMs = performance.now() - t0;

  // 2. webgpu in this browser.
  status.textContent = 'webgpu: requesting an adapter…';
  try {
    await f.setBackend('webgpu');
  } catch (e) {
    summary.adapter = f.backendInfo();
    const message = `WebGPU unavailable: ${errorText(e)}`;
    summary.failures.push({ name: 'setBackend(webgpu)', message });
    for (const row of rows) mark(row, 'not run: WebGPU unavailable');
    return;
  }
  summary.adapter = f.backendInfo();
  console.log(`conformance on ${summary.adapter.description}`);
  const t1 = performance.now();
  for (const [i, c] of cases.entries()) {
    status.textContent = `webgpu: case ${i + 1} of ${cases.length}: ${c.name}`;
    const start = performance.now();
    let ms: number | undefined;
    try {
      const actual = await runCase(f, c);
      ms = performance.now() - start;
      const exact = c.expected ? sameValues(actual.outputs[0], c.expected) : null;
      if (exact) fail(c, `webgpu: ${exact}`);
      const want = expected.get(c.name);
      const diff = want ? compareResults(want, actual) : null;
      if (diff) fail(c, `webgpu vs cpu: ${diff}`);
    } catch (e) {
      fail(c, `webgpu threw: ${errorText(e)}`);
    }
    const problem = problems.get(c.name) ?? null;
    if (problem) summary.failures.push({ name: c.name, message: problem });
    else summary.passed++;
    summary.completed++;
    mark(rows[i], problem, ms);
  }
  summary.timings.webgpuMs = performance.now() - t1;
  await f.setBackend('cpu');
}

const summary: ConformanceSummary = {
  done: false,
  adapter: null,
  total: 0,
  passed: 0,
  completed: 0,
  failures: [],
  timings: { cpuMs: 0, webgpuMs: 0, totalMs: 0 },
  userAgent: navigator.userAgent,
};
window.__conformance = summary;
const started = performance.now();
main(summary)
  .catch((e: unknown) => {
    summary.failures.push({ name: 'conformance page', message: `aborted: ${e instanceof Error ? e.stack ?? e.message : String(e)}` });
  })
  .finally(() => {
    summary.timings.totalMs = performance.now() - started;
    summary.done = true;
    const status = document.getElementById('summary');
    if (status) {
      const ok = summary.failures.length === 0 && summary.passed === summary.total;
      const on = summary.adapter?.description ?? 'no adapter';
      status.className = ok ? 'pass' : 'fail';
      status.textContent =
        `${summary.passed} of ${summary.total} cases pass on ${on}` +
        (summary.failures.length ? `; ${summary.failures.length} failure(s): ${summary.failures.map((x) => x.name).join('; ')}` : '') +
        ` (${(summary.timings.totalMs / 1000).toFixed(1)} s)`;
    }
  });
