// What the network learned, drawn on canvases: the first layer's filters (in colour for RGB input),
// the feature maps of every conv/pool layer for one test image, a grid of test predictions (wrong
// ones marked) and a confusion matrix. Pixels are drawn at their own size and scaled up by CSS
// (image-rendering: pixelated), so every square on screen is one number of the tensor.
import * as f from '@filtro/core';
import type { Dataset, Split } from './data.js';
import { pixelsOf } from './data.js';
import { el } from './dom.js';
import { formatShape } from './architecture.js';

// --- colour maps -----------------------------------------------------------------------------------

/** A 256-entry RGB table interpolated between stops. */
function lut(stops: [number, number, number][]): Uint8ClampedArray {
  const table = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(t));
    const u = t - k;
    for (let c = 0; c < 3; c++) table[i * 3 + c] = stops[k][c] + (stops[k + 1][c] - stops[k][c]) * u;
  }
  return table;
}

/** Dark blue → teal → yellow (viridis-like): activations, 0 at the dark end. */
const ACTIVATION = lut([[20, 18, 45], [59, 50, 131], [33, 116, 151], [40, 178, 125], [160, 218, 57], [253, 231, 37]]);
/** Blue → white → red: signed weights, 0 in the middle. */
const DIVERGING = lut([[33, 76, 170], [120, 160, 220], [247, 247, 247], [235, 130, 100], [178, 24, 43]]);

function canvasOf(width: number, height: number, cls: string): { canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D; image: ImageData } {
  const canvas = el('canvas', { class: cls, width, height });
  const ctx = canvas.getContext('2d')!;
  return { canvas, ctx, image: ctx.createImageData(width, height) };
}

/** An image of the dataset (uint8 HWC) on a canvas of its own size. */
export function imageCanvas(dataset: Dataset, split: Split, index: number, cls = 'px'): HTMLCanvasElement {
  const [h, w, c] = dataset.inputShape;
  const { canvas, ctx, image } = canvasOf(w, h, cls);
  const base = index * pixelsOf(dataset);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) image.data[p * 4 + k] = split.images[base + p * c + (c === 3 ? k : 0)];
    image.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

/** Float pixels in [0, 1] (HWC) on a canvas: grey for one channel, colour for three. */
export function floatImageCanvas(values: Float32Array, h: number, w: number, c: number, cls = 'px'): HTMLCanvasElement {
  const { canvas, ctx, image } = canvasOf(w, h, cls);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) image.data[p * 4 + k] = Math.round(255 * Math.min(1, Math.max(0, values[p * c + (c === 3 ? k : 0)])));
    image.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

// --- filters ---------------------------------------------------------------------------------------

/**
 * The first Conv2d layer's filters, weights [Fh, Fw, Cin, K]: one tile per filter. Three input
 * channels are drawn as the colour each filter responds to (0.5 grey = weight 0); one channel with
 * the diverging map (blue negative, red positive). Each filter is scaled by its own largest |w|.
 */
export function drawFilters(container: HTMLElement, weights: Float32Array, shape: readonly number[], bias: Float32Array | null): void {
  const [fh, fw, cin, k] = shape;
  const tiles: HTMLElement[] = [];
  for (let o = 0; o < k; o++) {
    let max = 1e-12;
    for (let i = 0; i < fh * fw * cin; i++) max = Math.max(max, Math.abs(weights[i * k + o]));
    const { canvas, ctx, image } = canvasOf(fw, fh, 'px filter-tile');
    for (let y = 0; y < fh; y++) {
      for (let x = 0; x < fw; x++) {
        const p = (y * fw + x) * 4;
        const at = (c: number) => weights[((y * fw + x) * cin + c) * k + o] / max;
        if (cin === 3) {
          for (let c = 0; c < 3; c++) image.data[p + c] = Math.round(127.5 + 127.5 * at(c));
        } else {
          // Several channels that are not RGB: their mean.
          let s = 0;
          for (let c = 0; c < cin; c++) s += at(c);
          const v = Math.round(127.5 + 127.5 * (s / cin));
          for (let c = 0; c < 3; c++) image.data[p + c] = DIVERGING[v * 3 + c];
        }
        image.data[p + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
    const caption = `#${o + 1}${bias ? ` b=${bias[o].toFixed(2)}` : ''}`;
    tiles.push(el('figure', { class: 'tile', title: `filter ${o + 1}: ${fh}×${fw}×${cin} weights, |w| ≤ ${max.toFixed(3)}` }, canvas, el('figcaption', { text: caption })));
  }
  container.replaceChildren(...tiles);
}

// --- feature maps ----------------------------------------------------------------------------------

export interface FeatureMap {
  name: string;
  kind: string;
  shape: number[];
  values: Float32Array;
}

/**
 * Runs the model's layers one at a time on a one-image batch and reads back the output of every
 * conv/pool layer (one plan, then one readback per layer).
 */
export async function featureMaps(model: f.nn.Sequential, image: Float32Array, inputShape: readonly number[]): Promise<FeatureMap[]> {
  const x = f.tensor(image, [1, ...inputShape]);
  const outs: { name: string; kind: string; t: f.Tensor }[] = [];
  const all: f.Tensor[] = [];
  const counts = new Map<string, number>();
  let h = x;
  for (const layer of model.layers) {
    if (h.rank !== 4) break; // past Flatten: no more maps
    h = layer.forward(h);
    all.push(h);
    const index = (counts.get(layer.kind) ?? 0) + 1;
    counts.set(layer.kind, index);
    if (h.rank === 4) outs.push({ name: `${layer.kind.toLowerCase()}_${index}`, kind: layer.kind, t: h });
  }
  try {
    f.realize(outs.map((o) => o.t));
    const maps: FeatureMap[] = [];
    for (const o of outs) maps.push({ name: o.name, kind: o.kind, shape: o.t.shape.slice(1), values: (await o.t.data()) as Float32Array });
    return maps;
  } finally {
    for (const t of all) t.dispose();
    x.dispose();
  }
}

/** One row per layer: a tile per channel, each scaled to its own range. */
export function drawFeatureMaps(container: HTMLElement, maps: FeatureMap[]): void {
  const rows = maps.map((m) => {
    const [h, w, c] = m.shape;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of m.values) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const tiles: HTMLElement[] = [];
    for (let k = 0; k < c; k++) {
      // Each channel on the layer's common scale, so strong and weak maps can be compared.
      const { canvas, ctx, image } = canvasOf(w, h, 'px fmap-tile');
      const span = hi - lo || 1;
      for (let p = 0; p < h * w; p++) {
        const v = Math.round((255 * (m.values[p * c + k] - lo)) / span);
        for (let q = 0; q < 3; q++) image.data[p * 4 + q] = ACTIVATION[v * 3 + q];
        image.data[p * 4 + 3] = 255;
      }
      ctx.putImageData(image, 0, 0);
      canvas.title = `${m.name} channel ${k + 1}`;
      tiles.push(canvas);
    }
    const scale = Math.max(1, Math.round(56 / Math.max(h, w)));
    const strip = el('div', { class: 'fmap-tiles', style: `--scale: ${scale}` }, ...tiles);
    return el('div', { class: 'fmap-row', 'data-layer': m.name },
      el('div', { class: 'fmap-label' }, el('strong', { text: m.name }), el('span', { text: ` ${formatShape(m.shape)}` }), el('span', { class: 'muted', text: ` range ${lo.toFixed(2)} … ${hi.toFixed(2)}` })),
      strip);
  });
  container.replaceChildren(...rows);
}

// --- evaluation ------------------------------------------------------------------------------------

export interface Evaluation {
  step: number;
  count: number;
  accuracy: number;
  /** count × classes softmax probabilities. */
  probabilities: Float32Array;
  predictions: Uint8Array;
  labels: Uint8Array;
  /** classes × classes, row = true class, column = predicted. */
  confusion: Uint32Array;
  ms: number;
}

export type GridMode = 'first' | 'mistakes';

/** Test images with their predicted class and probability; wrong ones marked. Click one to inspect it. */
export function drawPredictionGrid(
  container: HTMLElement,
  dataset: Dataset,
  ev: Evaluation,
  mode: GridMode,
  selected: number,
  onSelect: (index: number) => void,
  size = 40,
): void {
  const classes = dataset.classNames.length;
  const indices: number[] = [];
  for (let i = 0; i < ev.count && indices.length < size; i++) {
    if (mode === 'first' || ev.predictions[i] !== ev.labels[i]) indices.push(i);
  }
  const cells = indices.map((i) => {
    const predicted = ev.predictions[i];
    const truth = ev.labels[i];
    const p = ev.probabilities[i * classes + predicted];
    const wrong = predicted !== truth;
    const cell = el('button', {
      type: 'button',
      class: `pred-cell${wrong ? ' wrong' : ' right'}${i === selected ? ' selected' : ''}`,
      title: `test image ${i}: predicted ${dataset.classNames[predicted]} (${(p * 100).toFixed(1)}%), true ${dataset.classNames[truth]}`,
      'data-index': i,
      'data-predicted': predicted,
      'data-label': truth,
    },
    imageCanvas(dataset, dataset.test, i, 'px pred-image'),
    el('span', { class: 'pred-label' }, classLabel(dataset, predicted), ` ${(p * 100).toFixed(0)}%`),
    wrong ? el('span', { class: 'pred-truth' }, 'true ', classLabel(dataset, truth)) : null,
    el('span', { class: 'pred-bar', style: `--p: ${p}` }));
    cell.addEventListener('click', () => onSelect(i));
    return cell;
  });
  if (cells.length === 0) container.replaceChildren(el('p', { class: 'muted', text: mode === 'mistakes' ? 'No mistakes among the evaluated test images.' : 'Nothing evaluated yet.' }));
  else container.replaceChildren(...cells);
}

/** A short class label: the digit, or a coloured shape symbol. */
export function short(dataset: Dataset, cls: number): string {
  if (dataset.id === 'mnist') return dataset.classNames[cls];
  const [, shape] = dataset.classNames[cls].split(' ');
  return { circle: '●', square: '■', triangle: '▲' }[shape] ?? dataset.classNames[cls];
}

function shortColour(dataset: Dataset, cls: number): string | undefined {
  if (dataset.id === 'mnist') return undefined;
  return { red: '#d62828', green: '#2a9d3f', blue: '#2563eb' }[dataset.classNames[cls].split(' ')[0]];
}

/** Label cell content: the digit, or the shape symbol in its colour. */
export function classLabel(dataset: Dataset, cls: number): HTMLElement {
  const colour = shortColour(dataset, cls);
  return el('span', { class: 'class-label', title: dataset.classNames[cls], style: colour ? `color: ${colour}` : undefined, text: short(dataset, cls) });
}

/** Rows: true class; columns: predicted. Diagonal in green, mistakes in red, shaded by share of the row. */
export function drawConfusion(container: HTMLElement, dataset: Dataset, ev: Evaluation): void {
  const n = dataset.classNames.length;
  const head = el('tr', {}, el('th', { class: 'corner', text: 'true ╲ predicted' }), ...Array.from({ length: n }, (_, j) => el('th', {}, classLabel(dataset, j))), el('th', { text: 'recall' }));
  const rows = Array.from({ length: n }, (_, i) => {
    let total = 0;
    for (let j = 0; j < n; j++) total += ev.confusion[i * n + j];
    const cells = Array.from({ length: n }, (_, j) => {
      const v = ev.confusion[i * n + j];
      const share = total ? v / total : 0;
      const hue = i === j ? '31, 157, 85' : '214, 40, 40';
      const alpha = v === 0 ? 0 : 0.12 + 0.88 * (i === j ? share : Math.min(1, share * 4));
      return el('td', { class: `cm-cell${i === j ? ' diag' : ''}`, style: `background: rgba(${hue}, ${alpha.toFixed(3)}); color: ${alpha > 0.55 ? '#fff' : '#222'}`, title: `true ${dataset.classNames[i]}, predicted ${dataset.classNames[j]}: ${v}`, text: v ? String(v) : '' });
    });
    const recall = total ? ev.confusion[i * n + i] / total : 0;
    return el('tr', {}, el('th', {}, classLabel(dataset, i)), ...cells, el('td', { class: 'cm-recall', text: total ? `${(recall * 100).toFixed(0)}%` : '–' }));
  });
  container.replaceChildren(el('table', { class: 'confusion', id: 'confusion-table' }, el('thead', {}, head), el('tbody', {}, ...rows)));
}

/** Class probabilities as horizontal bars, the top one highlighted. */
export function drawProbabilities(container: HTMLElement, dataset: Dataset, probabilities: ArrayLike<number> | null): void {
  const n = dataset.classNames.length;
  let best = -1;
  if (probabilities) for (let i = 0; i < n; i++) if (best < 0 || probabilities[i] > probabilities[best]) best = i;
  const rows = Array.from({ length: n }, (_, i) => {
    const p = probabilities ? probabilities[i] : 0;
    return el('div', { class: `prob-row${i === best ? ' best' : ''}` },
      classLabel(dataset, i),
      el('span', { class: 'prob-track' }, el('span', { class: 'prob-fill', style: `width: ${(p * 100).toFixed(1)}%` })),
      el('span', { class: 'prob-value', text: probabilities ? `${(p * 100).toFixed(1)}%` : '' }));
  });
  container.replaceChildren(...rows);
}
