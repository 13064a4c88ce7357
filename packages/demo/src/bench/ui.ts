// The page's view of the results: the main table (filled in live), ratios, targets, two charts
// (chart.js) and the JSON export.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LogarithmicScale, Tooltip } from 'chart.js';
import { BACKEND_LABELS, FILTRO, GPU_BACKENDS } from './config.ts';
import type { BackendId, BenchResults, Cell, Row } from './types.ts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LogarithmicScale, Legend, Tooltip);

const COLORS: Record<BackendId, string> = {
  'filtro-webgpu': '#1b7f3b',
  'filtro-cpu': '#7cc48f',
  'tfjs-webgpu': '#e8710a',
  'tfjs-webgl': '#f4a24c',
  'tfjs-wasm': '#c9a227',
  'tfjs-cpu': '#f6cf7e',
  'jax-webgpu': '#3867d6',
  'jax-wasm': '#8aa9ee',
  convnetjs: '#9b59b6',
};

export function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};

export class BenchView {
  private readonly cells = new Map<string, HTMLTableCellElement>();
  private trainChart: Chart | null = null;
  private gemmChart: Chart | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly results: BenchResults,
    private readonly backends: BackendId[],
  ) {}

  /** The empty table: one line per row, one column per backend. */
  buildTable(): void {
    const table = this.root.querySelector<HTMLTableElement>('#bench-table')!;
    const head = table.createTHead().insertRow();
    head.appendChild(el('th', {}, 'what'));
    head.appendChild(el('th', {}, 'unit'));
    for (const b of this.backends) head.appendChild(el('th', { class: FILTRO.includes(b) ? 'filtro' : '', title: this.results.adapter?.backends[b] ?? '' }, BACKEND_LABELS[b]));
    const body = table.createTBody();
    let group = '';
    for (const row of this.results.rows) {
      if (row.group !== group) {
        group = row.group;
        const tr = body.insertRow();
        tr.className = 'group';
        const th = el('th', { colspan: String(this.backends.length + 2) }, GROUP_TITLES[row.group]);
        tr.appendChild(th);
      }
      const tr = body.insertRow();
      tr.dataset.row = row.id;
      tr.appendChild(el('td', { class: 'what' }, row.label));
      tr.appendChild(el('td', { class: 'unit' }, `${row.unit} (${row.better === 'higher' ? '↑' : '↓'})`));
      for (const b of this.backends) {
        const td = el('td', { class: 'num pending', 'data-backend': b });
        tr.appendChild(td);
        this.cells.set(`${row.id}|${b}`, td);
      }
    }
  }

  updateCell(row: Row, backend: BackendId): void {
    const td = this.cells.get(`${row.id}|${backend}`);
    const cell = row.cells[backend];
    if (!td || !cell) return;
    td.replaceChildren();
    td.className = `num ${cell.status}${FILTRO.includes(backend) ? ' filtro' : ''}`;
    td.title = cellTitle(row, cell);
    if (cell.status === 'ok') {
      td.appendChild(el('span', { class: 'value' }, fmt(cell.value)));
      if (cell.runs && cell.runs > 1) td.appendChild(el('span', { class: 'range' }, `${fmt(cell.min)}–${fmt(cell.max)}`));
      if (cell.first !== undefined && row.group !== 'cold') td.appendChild(el('span', { class: 'first' }, `first ${fmt(cell.first)}`));
      if (row.group === 'cold' && cell.detail) {
        const d = cell.detail as Record<string, number>;
        td.appendChild(el('span', { class: 'first' }, `init ${fmt(d.initMs / 1000)} · step ${fmt(d.firstStepMs / 1000)}`));
      }
    } else if (cell.status === 'pending') {
      td.textContent = '…';
    } else {
      td.appendChild(el('span', { class: 'value' }, cell.status === 'error' ? 'error' : cell.status === 'n/a' ? 'n/a' : '—'));
      // Errors say why in place; so does a library that cannot train. Other n/a and skips: on hover.
      const shown = cell.status === 'error' || (cell.status === 'n/a' && row.group === 'train');
      if (cell.message && shown) td.appendChild(el('span', { class: 'message' }, cell.message));
    }
  }

  /** Ratios table (same-class pairs: filtro webgpu vs GPU peers, filtro cpu vs CPU peers) and targets. */
  renderSummary(): void {
    const r = this.results;
    const peers = this.backends.filter((b) => !FILTRO.includes(b));
    const table = this.root.querySelector<HTMLTableElement>('#ratio-table')!;
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    head.appendChild(el('th', {}, 'what'));
    for (const p of peers) head.appendChild(el('th', {}, `${GPU_BACKENDS.has(p) ? 'filtro webgpu' : 'filtro cpu'} ÷ ${BACKEND_LABELS[p]}`));
    const body = table.createTBody();
    for (const row of r.rows) {
      const tr = body.insertRow();
      tr.appendChild(el('td', { class: 'what' }, row.label));
      for (const p of peers) {
        const ratio = r.ratios.find((x) => x.row === row.id && x.peer === p && x.sameClass);
        const td = el('td', { class: `num ${ratio ? (ratio.ratio >= 1 ? 'win' : 'loss') : ''}` }, ratio ? `${fmt(ratio.ratio)}×` : '');
        tr.appendChild(td);
      }
    }

    const targets = this.root.querySelector<HTMLTableElement>('#targets-table')!;
    targets.replaceChildren();
    const th = targets.createTHead().insertRow();
    for (const h of ['target (issue 5)', 'filtro', 'peer', 'ratio', 'needed', 'status']) th.appendChild(el('th', {}, h));
    const tb = targets.createTBody();
    for (const t of r.targets) {
      const tr = tb.insertRow();
      tr.className = t.status === 'met' ? 'pass' : t.status === 'not met' ? 'fail' : 'pending';
      tr.appendChild(el('td', {}, t.text));
      tr.appendChild(el('td', { class: 'num' }, t.filtroValue !== undefined ? `${fmt(t.filtroValue)} ${t.unit}` : ''));
      tr.appendChild(el('td', { class: 'num' }, t.peerValue !== undefined ? `${fmt(t.peerValue)} ${t.unit}` : ''));
      tr.appendChild(el('td', { class: 'num' }, t.ratio !== undefined ? `${fmt(t.ratio)}×` : ''));
      tr.appendChild(el('td', { class: 'num' }, t.peer ? `${t.comparison} ${t.need}×` : `${t.comparison} ${t.need} ${t.unit}`));
      tr.appendChild(el('td', {}, t.status + (t.message ? ` (${t.message})` : '')));
    }
  }

  renderCharts(): void {
    const r = this.results;
    const train = r.rows.find((x) => x.id === 'train-lenet');
    const trainCanvas = this.root.querySelector<HTMLCanvasElement>('#chart-train')!;
    if (train) {
      const bs = this.backends.filter((b) => train.cells[b]?.status === 'ok');
      this.trainChart?.destroy();
      this.trainChart = new Chart(trainCanvas, {
        type: 'bar',
        data: {
          labels: bs.map((b) => BACKEND_LABELS[b]),
          datasets: [{ label: 'LeNet training, images/s (median)', data: bs.map((b) => train.cells[b]!.value!), backgroundColor: bs.map((b) => COLORS[b]) }],
        },
        options: {
          animation: false,
          responsive: false,
          plugins: { legend: { display: false }, title: { display: false } },
          scales: { y: { type: 'logarithmic', title: { display: true, text: 'images/s (log)' } } },
        },
      });
    }
    const gemms = r.rows.filter((x) => x.group === 'gemm');
    const gemmCanvas = this.root.querySelector<HTMLCanvasElement>('#chart-gemm')!;
    if (gemms.length) {
      const bs = this.backends.filter((b) => gemms.some((g) => g.cells[b]?.status === 'ok'));
      this.gemmChart?.destroy();
      this.gemmChart = new Chart(gemmCanvas, {
        type: 'bar',
        data: {
          labels: gemms.map((g) => g.label.replace(/^GEMM /, '').replace(/ \(.*\)$/, '')),
          datasets: bs.map((b) => ({
            label: BACKEND_LABELS[b],
            data: gemms.map((g) => (g.cells[b]?.status === 'ok' ? g.cells[b]!.value! : null)),
            backgroundColor: COLORS[b],
          })),
        },
        options: {
          animation: false,
          responsive: false,
          plugins: { legend: { position: 'bottom' } },
          scales: { y: { type: 'logarithmic', title: { display: true, text: 'GFLOP/s (log)' } } },
        },
      });
    }
  }
}

const GROUP_TITLES: Record<Row['group'], string> = {
  train: 'Training',
  host: 'Host overhead',
  cold: 'Cold start',
  gemm: 'GEMM (matmul)',
  conv: 'Convolution',
  pool: 'Pooling',
};

function cellTitle(row: Row, c: Cell): string {
  if (c.status !== 'ok') return `${BACKEND_LABELS[c.backend]}: ${c.status}${c.message ? `: ${c.message}` : ''}`;
  const lines = [
    `${BACKEND_LABELS[c.backend]}: median ${fmt(c.value)} ${row.unit} over ${c.runs} run(s) of ${c.reps} iteration(s)`,
    `min ${fmt(c.min)}, max ${fmt(c.max)}; first run ${fmt(c.first)} ${row.unit} (${fmt(c.firstMs)} ms)`,
    `per-iteration ms: ${(c.samplesMs ?? []).map((x) => fmt(x)).join(', ')}`,
  ];
  if (c.detail) lines.push(Object.entries(c.detail).map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`).join(', '));
  return lines.join('\n');
}

/** Saves the results as bench-results.json (a download). */
export function exportJson(results: BenchResults): void {
  const blob = new Blob([JSON.stringify(results, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'bench-results.json';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
