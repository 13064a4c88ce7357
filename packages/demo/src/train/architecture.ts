// The architecture as the editor holds it (plain strings, as typed), turned into filtro layers, and
// checked layer by layer with the library's own shape rules: each layer's output shape, the lecture's
// size formula with the numbers filled in, and its parameter count, or the reason it is invalid.
import * as f from '@filtro/core';
import type { Layer } from '../../../core/src/nn/layers.js';

export type LayerKind = 'Conv2d' | 'MaxPool2d' | 'AvgPool2d' | 'Flatten' | 'Dense';
export const LAYER_KINDS: LayerKind[] = ['Conv2d', 'MaxPool2d', 'AvgPool2d', 'Flatten', 'Dense'];

/** One row of the editor. Numbers stay strings until built, so half-typed values can be explained. */
export interface LayerSpec {
  kind: LayerKind;
  filters?: string | number;
  kernel?: string;
  size?: string;
  stride?: string;
  padding?: string;
  activation?: 'relu' | 'none';
  units?: string | number;
}

/** The fields each kind shows, in order. */
export const FIELDS: Record<LayerKind, (keyof LayerSpec)[]> = {
  Conv2d: ['filters', 'kernel', 'stride', 'padding', 'activation'],
  MaxPool2d: ['size', 'stride', 'padding'],
  AvgPool2d: ['size', 'stride', 'padding'],
  Flatten: [],
  Dense: ['units', 'activation'],
};

/** A new row of this kind with sensible values. */
export function defaultSpec(kind: LayerKind): LayerSpec {
  switch (kind) {
    case 'Conv2d':
      return { kind, filters: '8', kernel: '3', stride: '1', padding: 'same', activation: 'relu' };
    case 'MaxPool2d':
    case 'AvgPool2d':
      return { kind, size: '2', stride: '2', padding: '0' };
    case 'Dense':
      return { kind, units: '64', activation: 'relu' };
    default:
      return { kind: 'Flatten' };
  }
}

class SpecError extends Error {}

function whole(kind: string, field: string, raw: string | number | undefined): number {
  const text = String(raw ?? '').trim();
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new SpecError(`${kind}: ${field} must be a whole number, got '${text}'`);
  return Number(text);
}

/** "5" → 5, "5x3" / "5×3" / "5,3" → [5, 3] (height, width). */
function pair(kind: string, field: string, raw: string | undefined): number | [number, number] {
  const text = String(raw ?? '').trim();
  const parts = text.split(/\s*[x×,]\s*/i);
  if (parts.length === 2) return [whole(kind, field, parts[0]), whole(kind, field, parts[1])];
  if (parts.length === 1) return whole(kind, field, parts[0]);
  throw new SpecError(`${kind}: ${field} must be a number or height×width such as 5×3, got '${text}'`);
}

function padding(kind: string, raw: string | undefined): f.Padding {
  const text = String(raw ?? '').trim().toLowerCase();
  if (text === 'same' || text === 'valid') return text;
  return pair(kind, 'padding', text) as f.Padding;
}

/** A filtro layer from one row; throws SpecError (unparsable) or FiltroError (the layer's own rules). */
export function makeLayer(spec: LayerSpec): Layer {
  const k = spec.kind;
  switch (k) {
    case 'Conv2d':
      return new f.nn.Conv2d({
        filters: whole(k, 'filters', spec.filters),
        kernelSize: pair(k, 'kernel size', spec.kernel),
        stride: pair(k, 'stride', spec.stride),
        padding: padding(k, spec.padding),
        activation: spec.activation === 'relu' ? 'relu' : 'none',
      });
    case 'MaxPool2d':
    case 'AvgPool2d': {
      const options = { size: pair(k, 'size', spec.size), stride: pair(k, 'stride', spec.stride), padding: padding(k, spec.padding) };
      return k === 'MaxPool2d' ? new f.nn.MaxPool2d(options) : new f.nn.AvgPool2d(options);
    }
    case 'Flatten':
      return new f.nn.Flatten();
    case 'Dense':
      return new f.nn.Dense({ units: whole(k, 'units', spec.units), activation: spec.activation === 'relu' ? 'relu' : 'none' });
    default:
      throw new SpecError(`unknown layer kind '${String(k)}'`);
  }
}

/** Back from a built layer's config (a model loaded from a file) to an editor row. */
export function specFromLayer(layer: Layer): LayerSpec {
  const c = layer.config as Record<string, unknown>;
  const text = (v: unknown, fallback: string): string => (v === undefined ? fallback : Array.isArray(v) ? v.join('×') : String(v));
  switch (layer.kind) {
    case 'Conv2d':
      return { kind: 'Conv2d', filters: text(c.filters, '8'), kernel: text(c.kernelSize, '3'), stride: text(c.stride, '1'), padding: text(c.padding, '0'), activation: c.activation === 'relu' ? 'relu' : 'none' };
    case 'MaxPool2d':
    case 'AvgPool2d':
      return { kind: layer.kind, size: text(c.size, '2'), stride: text(c.stride, text(c.size, '2')), padding: text(c.padding, '0') };
    case 'Dense':
      return { kind: 'Dense', units: text(c.units, '10'), activation: c.activation === 'relu' ? 'relu' : 'none' };
    default:
      return { kind: 'Flatten' };
  }
}

export interface RowInfo {
  /** Sequential's name for the layer: conv2d_1, maxpool2d_1, … */
  name: string;
  inputShape?: number[];
  outputShape?: number[];
  params?: number;
  /** How the parameters were counted: 5·5·1·8 + 8. */
  paramFormula?: string;
  /** How the output size was found (the lecture's formula, with the numbers). */
  formula?: string;
  warning?: string;
  error?: string;
}

export interface Validation {
  ok: boolean;
  rows: RowInfo[];
  /** The first problem, as a sentence (Sequential's message names the layer and the formula). */
  message?: string;
  totalParams: number;
}

const shape = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Checks every row in order with the library's shape rules (Layer.build: shapes and parameter specs,
 * nothing allocated), so what the page says is what f.nn.Sequential will do.
 */
export function validate(specs: LayerSpec[], inputShape: readonly number[], classes: number): Validation {
  const rows: RowInfo[] = [];
  const counts = new Map<string, number>();
  let current: number[] | null = [...inputShape];
  let message: string | undefined;
  let totalParams = 0;
  if (specs.length === 0) return { ok: false, rows, message: 'Add at least one layer.', totalParams };
  specs.forEach((spec, i) => {
    const index = (counts.get(spec.kind) ?? 0) + 1;
    counts.set(spec.kind, index);
    const row: RowInfo = { name: `${spec.kind.toLowerCase()}_${index}` };
    rows.push(row);
    if (!current) return; // after an invalid layer the input of the rest is unknown
    row.inputShape = current;
    let layer: Layer;
    try {
      layer = makeLayer(spec);
      const info = layer.build(current);
      const params = info.params ?? [];
      const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
      row.outputShape = info.outputShape;
      row.formula = info.formula;
      row.warning = info.warning;
      row.params = params.reduce((n, p) => n + size(p.shape), 0);
      const weight = params.find((p) => p.name === 'weight');
      const bias = params.find((p) => p.name === 'bias');
      if (weight) row.paramFormula = `${weight.shape.join('·')}${bias ? ` + ${size(bias.shape)}` : ''}`;
      totalParams += row.params;
      current = info.outputShape;
    } catch (e) {
      const own = e instanceof Error ? e.message : String(e);
      current = null;
      // In place, Sequential's own words where it has them (they name the layer and the formula).
      const whole = sequentialMessage(specs, inputShape);
      row.error = whole ?? own;
      if (!message) message = whole ?? `layer ${i} (${row.name}): ${own}`;
    }
  });
  if (!message && current) {
    const last = rows[rows.length - 1];
    if (current.length !== 1 || current[0] !== classes) {
      last.error = `the last layer must give one score per class, [${classes}], but gives ${shape(current)}` +
        (current.length !== 1 ? ': end with Flatten and Dense' : `: set its units to ${classes}`);
      message = `layer ${rows.length - 1} (${last.name}): ${last.error}`;
    } else if (specs[specs.length - 1].kind === 'Dense' && specs[specs.length - 1].activation === 'relu') {
      last.warning = 'the output layer gives logits for softmax; ReLU here clips negative scores (usually: none)';
    }
  }
  return { ok: !message, rows, message, totalParams };
}

/** The error f.nn.Sequential gives for these layers (it names the layer and the formula), if any. */
function sequentialMessage(specs: LayerSpec[], inputShape: readonly number[]): string | undefined {
  let layers: Layer[];
  try {
    layers = specs.map(makeLayer);
  } catch {
    return undefined; // a row that cannot even be constructed: its own message is clearer
  }
  try {
    new f.nn.Sequential(layers, { inputShape: [...inputShape] }).dispose();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** The model for these rows: f.nn.Sequential with the page's seed (throws where validate() fails). */
export function buildModel(specs: LayerSpec[], inputShape: readonly number[], seed: number): f.nn.Sequential {
  return new f.nn.Sequential(specs.map(makeLayer), { inputShape: [...inputShape], seed });
}

export function formatShape(s: readonly number[]): string {
  return s.join('×');
}
