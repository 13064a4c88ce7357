// The architecture editor: one row per layer (kind, its fields, ↑ ↓ ✕), and beside each row the
// output shape, the lecture's size formula with the numbers and the parameter count, recomputed on
// every keystroke. An invalid row shows why in place; the owner disables Start while invalid.
import { FIELDS, LAYER_KINDS, defaultSpec, formatShape, validate } from './architecture.js';
import type { LayerKind, LayerSpec, RowInfo, Validation } from './architecture.js';
import { el, formatCount } from './dom.js';

const LABELS: Record<string, string> = {
  filters: 'filters',
  kernel: 'kernel',
  size: 'window',
  stride: 'stride',
  padding: 'padding',
  activation: 'act.',
  units: 'units',
};

const HINTS: Record<string, string> = {
  filters: 'K: number of filters = depth of the output',
  kernel: 'F: filter size, 5 or height×width such as 5×3',
  size: 'pooling window, 2 or height×width',
  stride: 'S: step between windows, 1 or height×width',
  padding: "P: zeros around the input: 0, 1, 'same' (keeps the size at stride 1) or 'valid' (= 0)",
  units: 'number of neurons',
  activation: 'relu or none',
};

interface RowView {
  root: HTMLElement;
  out: HTMLElement;
  params: HTMLElement;
  detail: HTMLElement;
}

export class ArchitectureEditor {
  private specs: LayerSpec[] = [];
  private inputShape: readonly number[] = [28, 28, 1];
  private classes = 10;
  private views: RowView[] = [];
  private readonly list: HTMLElement;
  private readonly total: HTMLElement;
  private readonly message: HTMLElement;
  private readonly inputRow: HTMLElement;
  private disabled = false;
  validation: Validation = { ok: false, rows: [], totalParams: 0 };

  constructor(private readonly root: HTMLElement, private readonly onChange: (v: Validation) => void) {
    this.inputRow = el('div', { class: 'arch-input' });
    this.list = el('ol', { class: 'arch-list' });
    const add = el('select', { class: 'arch-add', 'aria-label': 'add a layer' },
      el('option', { value: '', text: '+ add layer…' }),
      ...LAYER_KINDS.map((k) => el('option', { value: k, text: k })));
    add.addEventListener('change', () => {
      if (!add.value) return;
      const kind = add.value as LayerKind;
      add.value = '';
      // New layers go before the output layer, where they usually belong.
      const at = Math.max(0, this.specs.length - 1);
      this.specs.splice(at, 0, defaultSpec(kind));
      this.render();
    });
    this.total = el('span', { class: 'arch-total' });
    this.message = el('div', { class: 'arch-message', id: 'arch-message', role: 'alert' });
    root.append(this.inputRow, this.list, el('div', { class: 'arch-footer' }, add, this.total), this.message);
  }

  setInput(inputShape: readonly number[], classes: number): void {
    this.inputShape = inputShape;
    this.classes = classes;
  }

  setSpecs(specs: LayerSpec[]): void {
    this.specs = specs.map((s) => ({ ...s, ...(s.filters !== undefined ? { filters: String(s.filters) } : {}), ...(s.units !== undefined ? { units: String(s.units) } : {}) }));
    this.render();
  }

  getSpecs(): LayerSpec[] {
    return this.specs.map((s) => ({ ...s }));
  }

  /** Greys out editing (while training runs). */
  setDisabled(disabled: boolean): void {
    this.disabled = disabled;
    for (const input of this.root.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLButtonElement>('input, select, button')) input.disabled = disabled;
  }

  private render(): void {
    this.list.replaceChildren();
    this.views = this.specs.map((spec, i) => this.renderRow(spec, i));
    this.refresh();
    this.setDisabled(this.disabled);
  }

  private renderRow(spec: LayerSpec, i: number): RowView {
    const kind = el('select', { class: 'arch-kind', 'aria-label': `layer ${i} kind` }, ...LAYER_KINDS.map((k) => el('option', { value: k, text: k, selected: k === spec.kind })));
    kind.addEventListener('change', () => {
      this.specs[i] = defaultSpec(kind.value as LayerKind);
      this.render();
    });
    const fields = FIELDS[spec.kind].map((field) => {
      let input: HTMLInputElement | HTMLSelectElement;
      if (field === 'activation') {
        input = el('select', {}, el('option', { value: 'relu', text: 'relu' }), el('option', { value: 'none', text: 'none' }));
        input.value = spec.activation ?? 'none';
      } else {
        input = el('input', { type: 'text', value: String(spec[field] ?? ''), size: field === 'padding' ? 4 : 3, spellcheck: false, autocomplete: 'off' });
      }
      input.dataset.field = field;
      input.title = HINTS[field] ?? '';
      const update = () => {
        (this.specs[i] as unknown as Record<string, string>)[field] = input.value;
        this.refresh();
      };
      input.addEventListener('input', update);
      input.addEventListener('change', update);
      return el('label', { class: 'arch-field' }, el('span', { text: LABELS[field] ?? field }), input);
    });
    const button = (text: string, title: string, action: () => void, disabled = false) => {
      const b = el('button', { type: 'button', class: 'arch-btn', text, title, disabled });
      b.addEventListener('click', action);
      return b;
    };
    const tools = el('span', { class: 'arch-tools' },
      button('↑', 'move up', () => this.move(i, -1), i === 0),
      button('↓', 'move down', () => this.move(i, 1), i === this.specs.length - 1),
      button('✕', 'remove', () => {
        this.specs.splice(i, 1);
        this.render();
      }));
    const out = el('span', { class: 'arch-out' });
    const params = el('span', { class: 'arch-params' });
    const detail = el('div', { class: 'arch-detail' });
    const root = el('li', { class: 'arch-row', 'data-index': i, 'data-kind': spec.kind },
      el('div', { class: 'arch-main' }, kind, el('span', { class: 'arch-fields' }, ...fields)),
      el('div', { class: 'arch-info' }, out, params, tools),
      detail);
    this.list.append(root);
    return { root, out, params, detail };
  }

  private move(i: number, by: number): void {
    const j = i + by;
    if (j < 0 || j >= this.specs.length) return;
    [this.specs[i], this.specs[j]] = [this.specs[j], this.specs[i]];
    this.render();
  }

  /** Re-validates and updates the info beside each row (inputs keep their focus). */
  refresh(): void {
    const v = validate(this.specs, this.inputShape, this.classes);
    this.validation = v;
    this.inputRow.replaceChildren(el('span', { class: 'arch-kind-static', text: 'Input' }), el('span', { class: 'arch-out', text: `→ ${formatShape(this.inputShape)}` }));
    v.rows.forEach((row, i) => this.showRow(this.views[i], row));
    this.total.textContent = v.ok || v.rows.every((r) => r.params !== undefined) ? `${formatCount(v.totalParams)} parameters in total` : '';
    const bad = v.rows.findIndex((r) => r.error);
    this.message.textContent = bad >= 0 ? `Start is disabled until the network is valid: see layer ${bad} (${v.rows[bad].name}) above.` : v.message ?? '';
    this.message.hidden = !v.message;
    this.onChange(v);
  }

  private showRow(view: RowView | undefined, row: RowInfo): void {
    if (!view) return;
    view.root.classList.toggle('invalid', !!row.error);
    view.root.classList.toggle('unknown', !row.error && !row.outputShape);
    view.out.textContent = row.outputShape ? `→ ${formatShape(row.outputShape)}` : row.error ? '→ ✗' : '→ ?';
    view.params.textContent = row.params !== undefined ? (row.params ? `${formatCount(row.params)} params` : 'no params') : '';
    const lines: HTMLElement[] = [];
    if (row.formula) {
      // Conv/pool formulas come as "height, width"; Flatten's as "7×7×16 = 784".
      const parts = row.formula.split(/, (?=\()/);
      if (parts.length === 2 && parts[0] === parts[1]) lines.push(el('div', { class: 'arch-formula', text: `W₂ = H₂ = ${parts[0]}` }));
      else if (parts.length === 2) lines.push(el('div', { class: 'arch-formula', text: `H₂ = ${parts[0]}` }), el('div', { class: 'arch-formula', text: `W₂ = ${parts[1]}` }));
      else lines.push(el('div', { class: 'arch-formula', text: row.formula }));
    }
    if (row.paramFormula) lines.push(el('div', { class: 'arch-formula', text: `weights ${row.paramFormula} biases = ${formatCount(row.params ?? 0)}` }));
    if (row.warning) lines.push(el('div', { class: 'arch-warning', text: `⚠ ${row.warning}` }));
    if (row.error) lines.push(el('div', { class: 'arch-error', text: row.error }));
    view.detail.replaceChildren(...lines);
  }
}
