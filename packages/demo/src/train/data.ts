// The two datasets of the train page, in one form: uint8 pixels (HWC, image after image) and uint8
// labels, split into train and test, with the default architecture for each.
//   mnist:  the 10,000 bundled digits from packages/core/data/mnist.bin (8,000 train / 2,000 test).
//   shapes: generated, seeded: circles, squares and triangles in red, green or blue on 32×32×3 noisy
//           backgrounds, 9 classes (shape × colour), so RGB input and F×F×3 filters are exercised.
import { epochOrder, loadMnist, splitMnist } from '../../../core/src/data/mnist.js';
import { Rng } from '../../../core/src/rng.js';
import * as f from '@filtro/core';
import { specFromLayer } from './architecture.js';
import type { LayerSpec } from './architecture.js';
import type { DatasetId } from './params.js';

export interface Split {
  count: number;
  /** count × H × W × C bytes, 0–255. */
  images: Uint8Array;
  labels: Uint8Array;
}

export interface Dataset {
  id: DatasetId;
  title: string;
  /** One example: [H, W, C]. */
  inputShape: [number, number, number];
  classNames: string[];
  train: Split;
  test: Split;
  defaultLayers: LayerSpec[];
  /** Default learning rate for Adam on this dataset. */
  defaultLr: number;
}

export interface Batch {
  images: Float32Array;
  labels: Int32Array;
  size: number;
}

export const pixelsOf = (d: Dataset): number => d.inputShape[0] * d.inputShape[1] * d.inputShape[2];

/** Images [start, start + count) of a split as floats in [0, 1], NHWC. */
export function slice(d: Dataset, split: Split, start: number, count: number): Batch {
  const px = pixelsOf(d);
  const images = new Float32Array(count * px);
  const src = split.images.subarray(start * px, (start + count) * px);
  for (let i = 0; i < images.length; i++) images[i] = src[i] / 255;
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = split.labels[start + i];
  return { images, labels, size: count };
}

/** Shuffled mini-batches, epoch after epoch, from a seed (the same seed gives the same batches). */
export class BatchSampler {
  epoch = 0;
  private order: Uint32Array;
  private cursor = 0;

  constructor(private readonly dataset: Dataset, private readonly seed: number) {
    this.order = epochOrder(dataset.train.count, seed, 0);
  }

  next(batchSize: number): Batch {
    const { train } = this.dataset;
    const size = Math.min(batchSize, train.count);
    if (this.cursor + size > train.count) {
      this.epoch++;
      this.cursor = 0;
      this.order = epochOrder(train.count, this.seed, this.epoch);
    }
    const px = pixelsOf(this.dataset);
    const images = new Float32Array(size * px);
    const labels = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const k = this.order[this.cursor + i];
      labels[i] = train.labels[k];
      const from = k * px;
      const to = i * px;
      for (let p = 0; p < px; p++) images[to + p] = train.images[from + p] / 255;
    }
    this.cursor += size;
    return { images, labels, size };
  }

  /** Fraction of the current epoch done. */
  get progress(): number {
    return this.cursor / this.dataset.train.count;
  }
}

/** f.nn.lenet()'s layers, as editor rows (built once and disposed: cheap). */
function lenetLayers(): LayerSpec[] {
  const model = f.nn.lenet();
  try {
    return model.layers.map(specFromLayer);
  } finally {
    model.dispose();
  }
}

const SHAPES_LAYERS: LayerSpec[] = [
  { kind: 'Conv2d', filters: 8, kernel: '5', stride: '1', padding: 'same', activation: 'relu' },
  { kind: 'MaxPool2d', size: '2', stride: '2', padding: '0' },
  { kind: 'Conv2d', filters: 16, kernel: '3', stride: '1', padding: 'same', activation: 'relu' },
  { kind: 'MaxPool2d', size: '2', stride: '2', padding: '0' },
  { kind: 'Flatten' },
  { kind: 'Dense', units: 64, activation: 'relu' },
  { kind: 'Dense', units: 9, activation: 'none' },
];

/** The bundled MNIST binary; Vite serves it in dev and copies it into dist/ on build. */
export const MNIST_URL = new URL('../../../core/data/mnist.bin', import.meta.url);

export async function loadMnistDataset(url: URL | string = MNIST_URL): Promise<Dataset> {
  const data = await loadMnist(url);
  const { train, test } = splitMnist(data, { trainCount: 8000 });
  return {
    id: 'mnist',
    title: 'MNIST digits (28×28×1)',
    inputShape: [data.height, data.width, 1],
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    train: { count: train.count, images: train.images, labels: train.labels },
    test: { count: test.count, images: test.images, labels: test.labels },
    defaultLayers: lenetLayers(),
    defaultLr: 0.002,
  };
}

const SHAPES = ['circle', 'square', 'triangle'] as const;
const COLOURS = ['red', 'green', 'blue'] as const;

/** Is (x, y) inside the shape centred at (cx, cy) with "radius" r, turned by angle a? */
function inside(shape: (typeof SHAPES)[number], x: number, y: number, cx: number, cy: number, r: number, a: number): boolean {
  const dx = x - cx;
  const dy = y - cy;
  // Rotate the point into the shape's frame.
  const u = dx * Math.cos(a) + dy * Math.sin(a);
  const v = -dx * Math.sin(a) + dy * Math.cos(a);
  if (shape === 'circle') return u * u + v * v <= r * r;
  if (shape === 'square') return Math.abs(u) <= r * 0.85 && Math.abs(v) <= r * 0.85;
  // Equilateral triangle with circumradius r, pointing up (v < 0 is up).
  const h = r * 1.5;
  const top = -r;
  if (v < top || v > top + h) return false;
  const half = ((v - top) / h) * r * (Math.sqrt(3) / 2);
  return Math.abs(u) <= half;
}

function colourOf(colour: (typeof COLOURS)[number], rng: Rng): [number, number, number] {
  const hi = rng.uniform(170, 255);
  const lo1 = rng.uniform(0, 90);
  const lo2 = rng.uniform(0, 90);
  if (colour === 'red') return [hi, lo1, lo2];
  if (colour === 'green') return [lo1, hi, lo2];
  return [lo1, lo2, hi];
}

/** Generates the shapes dataset: `count` images, classes in a seeded interleaved order. */
export function generateShapes(count: number, seed: number): Split {
  const H = 32;
  const W = 32;
  const rng = new Rng(seed);
  const images = new Uint8Array(count * H * W * 3);
  const labels = new Uint8Array(count);
  const sub = [0.25, 0.75];
  for (let n = 0; n < count; n++) {
    const label = rng.int(9);
    labels[n] = label;
    const shape = SHAPES[label % 3];
    const fill = colourOf(COLOURS[Math.floor(label / 3)], rng);
    // Background: a muted grey-ish colour, a gentle gradient, and noise.
    const base = rng.uniform(40, 150);
    const bg = [base + rng.uniform(-25, 25), base + rng.uniform(-25, 25), base + rng.uniform(-25, 25)];
    const gx = rng.uniform(-1.2, 1.2);
    const gy = rng.uniform(-1.2, 1.2);
    const r = rng.uniform(6, 11);
    const cx = rng.uniform(r + 1, W - r - 1);
    const cy = rng.uniform(r + 1, H - r - 1);
    const angle = shape === 'circle' ? 0 : rng.uniform(-0.35, 0.35);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let cover = 0;
        for (const sy of sub) for (const sx of sub) if (inside(shape, x + sx, y + sy, cx, cy, r, angle)) cover++;
        const c = cover / 4;
        const o = ((n * H + y) * W + x) * 3;
        for (let k = 0; k < 3; k++) {
          const back = bg[k] + gx * (x - 16) + gy * (y - 16) + rng.uniform(-12, 12);
          const v = back * (1 - c) + fill[k] * c;
          images[o + k] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
  }
  return { count, images, labels };
}

export function shapesDataset(seed = 7): Dataset {
  return {
    id: 'shapes',
    title: 'Coloured shapes (32×32×3)',
    inputShape: [32, 32, 3],
    classNames: COLOURS.flatMap((c) => SHAPES.map((s) => `${c} ${s}`)),
    train: generateShapes(3000, seed),
    test: generateShapes(600, seed + 1000),
    defaultLayers: SHAPES_LAYERS,
    defaultLr: 0.002,
  };
}
