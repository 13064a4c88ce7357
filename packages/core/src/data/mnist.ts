// MNIST in filtro's compact binary form, and batches of it for training. Environment-neutral:
// no Node imports here (see mnist-node.ts for reading the file from disk).
//
// Binary format (all integers little-endian), version 1:
//   offset  size  field
//        0     8  magic, ASCII "FLTMNIST"
//        8     4  u32 version (= 1)
//       12     4  u32 count   (number of images)
//       16     4  u32 rows    (28)
//       20     4  u32 cols    (28)
//       24     4  u32 checksum: FNV-1a (32-bit) over every byte after the header
//       28     4  u32 reserved (= 0)
//       32  count*rows*cols  uint8 pixels, image after image, row-major (round(v * 255))
//        …  count  uint8 labels (0–9)
// Images are stored in a fixed, seeded, interleaved order (not grouped by digit), so any prefix
// is a fair mix of digits.

import { Rng } from '../rng.js';

export const MNIST_MAGIC = 'FLTMNIST';
export const MNIST_VERSION = 1;
export const MNIST_HEADER_BYTES = 32;
export const MNIST_CLASSES = 10;

export interface MnistData {
  count: number;
  height: number;
  width: number;
  /** count × height × width pixels, 0–255, row-major. */
  images: Uint8Array;
  /** count labels, 0–9. */
  labels: Uint8Array;
}

export interface MnistBatch {
  /** [size, height, width, 1] (NHWC), scaled to [0, 1]. */
  images: Float32Array;
  /** [size] class indices. */
  labels: Int32Array;
  /** Number of examples in this batch (the last one may be smaller unless dropLast). */
  size: number;
  /** [size] positions of these examples in the MnistData they came from. */
  indices: Uint32Array;
}

/** FNV-1a, 32-bit, over a byte range. */
export function fnv1a32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Serialize MNIST data to the binary format above. */
export function encodeMnist(data: MnistData): Uint8Array {
  checkShape(data);
  const pixels = data.count * data.height * data.width;
  const out = new Uint8Array(MNIST_HEADER_BYTES + pixels + data.count);
  for (let i = 0; i < MNIST_MAGIC.length; i++) out[i] = MNIST_MAGIC.charCodeAt(i);
  out.set(data.images, MNIST_HEADER_BYTES);
  out.set(data.labels, MNIST_HEADER_BYTES + pixels);
  const view = new DataView(out.buffer);
  view.setUint32(8, MNIST_VERSION, true);
  view.setUint32(12, data.count, true);
  view.setUint32(16, data.height, true);
  view.setUint32(20, data.width, true);
  view.setUint32(24, fnv1a32(out, MNIST_HEADER_BYTES), true);
  view.setUint32(28, 0, true);
  return out;
}

function checkShape(data: MnistData): void {
  const { count, height, width, images, labels } = data;
  for (const [k, v] of [['count', count], ['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 0xffffffff) throw new Error(`MNIST: ${k} must be a positive integer, got ${v}`);
  }
  if (images.length !== count * height * width) {
    throw new Error(`MNIST: images has ${images.length} bytes, expected ${count}×${height}×${width} = ${count * height * width}`);
  }
  if (labels.length !== count) throw new Error(`MNIST: labels has ${labels.length} entries, expected ${count}`);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= MNIST_CLASSES) throw new Error(`MNIST: label ${i} is ${labels[i]}, expected 0–9`);
  }
}

/** Parse and validate the binary format. The result owns copies of the pixel and label bytes. */
export function parseMnist(bytes: Uint8Array): MnistData {
  if (!ArrayBuffer.isView(bytes) || Object.prototype.toString.call(bytes) !== '[object Uint8Array]') {
    throw new Error('MNIST: expected the file as a Uint8Array');
  }
  if (bytes.length < MNIST_HEADER_BYTES) {
    throw new Error(`MNIST: file is ${bytes.length} bytes, shorter than the ${MNIST_HEADER_BYTES}-byte header (truncated or not an MNIST binary)`);
  }
  for (let i = 0; i < MNIST_MAGIC.length; i++) {
    if (bytes[i] !== MNIST_MAGIC.charCodeAt(i)) {
      throw new Error(`MNIST: bad magic (expected "${MNIST_MAGIC}"); not a filtro MNIST binary`);
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== MNIST_VERSION) {
    throw new Error(`MNIST: unsupported version ${version} (this code reads version ${MNIST_VERSION}); rebuild it with \`pnpm build\``);
  }
  const count = view.getUint32(12, true);
  const height = view.getUint32(16, true);
  const width = view.getUint32(20, true);
  const checksum = view.getUint32(24, true);
  if (count < 1) throw new Error('MNIST: header says 0 images');
  if (height < 1 || width < 1 || height > 4096 || width > 4096) {
    throw new Error(`MNIST: implausible image size ${height}×${width} in header`);
  }
  const pixels = count * height * width; // ≤ 2^32 · 2^24, exact in a double
  const expected = MNIST_HEADER_BYTES + pixels + count;
  if (bytes.length !== expected) {
    throw new Error(
      `MNIST: file is ${bytes.length} bytes but the header (${count} images of ${height}×${width}) implies ${expected}` +
        (bytes.length < expected ? ' (truncated)' : ' (trailing bytes)'),
    );
  }
  const actual = fnv1a32(bytes, MNIST_HEADER_BYTES);
  if (actual !== checksum) {
    throw new Error(`MNIST: checksum mismatch (header 0x${checksum.toString(16)}, data 0x${actual.toString(16)}); the file is corrupted`);
  }
  // new Uint8Array(view) copies (Buffer.prototype.slice would not), and yields plain Uint8Arrays.
  const images = new Uint8Array(bytes.subarray(MNIST_HEADER_BYTES, MNIST_HEADER_BYTES + pixels));
  const labels = new Uint8Array(bytes.subarray(MNIST_HEADER_BYTES + pixels, expected));
  for (let i = 0; i < count; i++) {
    if (labels[i] >= MNIST_CLASSES) throw new Error(`MNIST: label of image ${i} is ${labels[i]}, expected 0–9`);
  }
  return { count, height, width, images, labels };
}

/** Fetch and parse the binary (browsers, or anything with fetch). */
export async function loadMnist(url: string | URL): Promise<MnistData> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`MNIST: could not fetch ${String(url)}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new Error(`MNIST: fetching ${String(url)} failed: HTTP ${res.status} ${res.statusText}`);
  return parseMnist(new Uint8Array(await res.arrayBuffer()));
}

/** Images [start, start + count) as a new MnistData (copies). */
export function sliceMnist(data: MnistData, start: number, count: number): MnistData {
  checkRange(data, start, count);
  const px = data.height * data.width;
  return {
    count,
    height: data.height,
    width: data.width,
    images: data.images.slice(start * px, (start + count) * px),
    labels: data.labels.slice(start, start + count),
  };
}

/** Deterministic split of the stored order: the first trainCount images train, the rest test. */
export function splitMnist(data: MnistData, options: { trainCount?: number } = {}): { train: MnistData; test: MnistData } {
  const trainCount = options.trainCount ?? 8000;
  if (!Number.isInteger(trainCount) || trainCount < 1 || trainCount >= data.count) {
    throw new Error(`splitMnist: trainCount must be an integer in [1, ${data.count - 1}], got ${trainCount}`);
  }
  return {
    train: sliceMnist(data, 0, trainCount),
    test: sliceMnist(data, trainCount, data.count - trainCount),
  };
}

function checkRange(data: MnistData, start: number, count: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > data.count) {
    throw new Error(`MNIST: range [${start}, ${start}+${count}) is outside the ${data.count} images`);
  }
}

/** Images [start, start + count) as floats in [0, 1], NHWC [count, H, W, 1], with their labels. */
export function toFloat(data: MnistData, start = 0, count = data.count - start): MnistBatch {
  checkRange(data, start, count);
  const px = data.height * data.width;
  const images = new Float32Array(count * px);
  const src = data.images;
  const base = start * px;
  for (let i = 0; i < images.length; i++) images[i] = src[base + i] / 255;
  const labels = new Int32Array(count);
  const indices = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = data.labels[start + i];
    indices[i] = start + i;
  }
  return { images, labels, size: count, indices };
}

/** The whole set in order, in chunks of at most chunkSize (for evaluation). */
export function* chunks(data: MnistData, chunkSize: number): Generator<MnistBatch> {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new Error(`chunks: chunkSize must be a positive integer, got ${chunkSize}`);
  for (let start = 0; start < data.count; start += chunkSize) {
    yield toFloat(data, start, Math.min(chunkSize, data.count - start));
  }
}

export interface BatchOptions {
  batchSize: number;
  /** Seed of the shuffle; the same seed and epoch give the same order. */
  seed: number;
  /** Epoch number; each epoch gets its own order. Default 0. */
  epoch?: number;
  /** Drop a final batch smaller than batchSize. Default false. */
  dropLast?: boolean;
  /** Shuffle (default true); false keeps the stored order. */
  shuffle?: boolean;
}

/** The seed used for (seed, epoch): a mix, so (s, e+1) and (s+1, e) give unrelated orders. */
export function epochSeed(seed: number, epoch: number): number {
  if (!Number.isInteger(seed)) throw new Error(`batches: seed must be an integer, got ${seed}`);
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`batches: epoch must be a non-negative integer, got ${epoch}`);
  let h = (seed | 0) ^ Math.imul(epoch | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The example order of one epoch: a permutation of [0, count). */
export function epochOrder(count: number, seed: number, epoch = 0, shuffle = true): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const s = epochSeed(seed, epoch); // validates even when not shuffling
  if (shuffle) new Rng(s).shuffle(order);
  return order;
}

/** Number of batches one epoch yields. */
export function batchCount(count: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** One epoch of shuffled mini-batches. Every example appears exactly once (unless dropLast drops some). */
export function* batches(data: MnistData, options: BatchOptions): Generator<MnistBatch> {
  const { batchSize, seed, epoch = 0, dropLast = false, shuffle = true } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batches: batchSize must be a positive integer, got ${batchSize}`);
  const order = epochOrder(data.count, seed, epoch, shuffle);
  const px = data.height * data.width;
  const src = data.images;
  const n = batchCount(data.count, batchSize, dropLast);
  for (let b = 0; b < n; b++) {
    const start = b * batchSize;
    const size = Math.min(batchSize, data.count - start);
    const images = new Float32Array(size * px);
    const labels = new Int32Array(size);
    const indices = order.slice(start, start + size);
    for (let i = 0; i < size; i++) {
      const k = indices[i];
      labels[i] = data.labels[k];
      const from = k * px;
      const to = i * px;
      for (let p = 0; p < px; p++) images[to + p] = src[from + p] / 255;
    }
    yield { images, labels, size, indices };
  }
}
