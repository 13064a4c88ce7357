// The safetensors format (https://github.com/huggingface/safetensors), for F32, I32 and U8:
//   8 bytes      N, the header length, unsigned 64-bit little-endian
//   N bytes      UTF-8 JSON object, starting with '{', padded with spaces (here to a multiple of 8):
//                { "__metadata__": { string: string }?,
//                  "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, … }
//   rest         the byte buffer; data_offsets are relative to its start, [begin, end). Tensors are
//                little-endian, row-major, and together cover the buffer exactly (no holes, no overlap).
// Environment-neutral (no Node imports). The decoder treats its input as hostile: every size is
// checked against the actual bytes before anything is allocated.

export type SafetensorsDtype = 'F32' | 'I32' | 'U8';
export type SafetensorsData = Float32Array | Int32Array | Uint8Array;

export interface SafetensorsInput {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

export type DecodedTensor =
  | { dtype: 'F32'; shape: number[]; data: Float32Array }
  | { dtype: 'I32'; shape: number[]; data: Int32Array }
  | { dtype: 'U8'; shape: number[]; data: Uint8Array };

export interface DecodedSafetensors {
  tensors: Map<string, DecodedTensor>;
  metadata: Record<string, string>;
}

/** Every error from this module: a malformed file, or invalid tensors to encode. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(`safetensors: ${message}`);
    this.name = 'SafetensorsError';
  }
}

/** Largest header accepted (as the reference implementation: 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

const ELEMENT_BYTES: Record<SafetensorsDtype, number> = { F32: 4, I32: 4, U8: 1 };
const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function fail(message: string): never {
  throw new SafetensorsError(message);
}

function isDtype(d: unknown): d is SafetensorsDtype {
  return d === 'F32' || d === 'I32' || d === 'U8';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The typed-array kind, by tag rather than instanceof so arrays from other realms (workers, vm) pass. */
function arrayTag(v: unknown): string {
  return ArrayBuffer.isView(v) ? Object.prototype.toString.call(v).slice(8, -1) : '';
}

function dataMatchesDtype(dtype: SafetensorsDtype, data: unknown): boolean {
  const tag = arrayTag(data);
  return dtype === 'F32' ? tag === 'Float32Array' : dtype === 'I32' ? tag === 'Int32Array' : tag === 'Uint8Array';
}

/** Reverse the byte order of each `size`-byte element in place (big-endian hosts only). */
function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

function shapeString(shape: readonly unknown[]): string {
  return `[${shape.map((d) => String(d)).join(', ')}]`;
}

/** Element count of a validated shape (non-negative safe integers); Infinity if it overflows. */
function elementCount(shape: readonly number[]): number {
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) n *= d;
  return Number.isSafeInteger(n) ? n : Infinity;
}

/**
 * Serialize tensors (and optional string metadata) to safetensors bytes. Tensors are laid out
 * by element size (largest first, so each is aligned to its size in the file), then by name.
 */
export function encodeSafetensors(tensors: SafetensorsInput[], metadata?: Record<string, string>): Uint8Array {
  if (!Array.isArray(tensors)) fail('encode: tensors must be an array');
  const seen = new Set<string>();
  for (const t of tensors) {
    if (!t || typeof t.name !== 'string' || t.name.length === 0) fail('encode: every tensor needs a non-empty string name');
    const where = `encode: tensor "${t.name}"`;
    if (t.name === METADATA_KEY) fail(`${where}: the name "${METADATA_KEY}" is reserved`);
    if (seen.has(t.name)) fail(`${where}: duplicate name`);
    seen.add(t.name);
    if (!isDtype(t.dtype)) fail(`${where}: unknown dtype ${JSON.stringify(t.dtype)} (supported: F32, I32, U8)`);
    if (!dataMatchesDtype(t.dtype, t.data)) fail(`${where}: dtype ${t.dtype} needs a ${t.dtype === 'F32' ? 'Float32Array' : t.dtype === 'I32' ? 'Int32Array' : 'Uint8Array'}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`${where}: shape must be an array of non-negative integers, got ${Array.isArray(t.shape) ? shapeString(t.shape) : String(t.shape)}`);
    }
    if (elementCount(t.shape) !== t.data.length) {
      fail(`${where}: shape ${shapeString(t.shape)} has ${elementCount(t.shape)} elements but data has ${t.data.length}`);
    }
  }
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) fail('encode: metadata must be an object of strings');
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') fail(`encode: metadata value for key "${k}" must be a string, got ${typeof v}`);
    }
  }

  const ordered = tensors
    .map((t, i) => ({ t, i }))
    .sort((a, b) => ELEMENT_BYTES[b.t.dtype] - ELEMENT_BYTES[a.t.dtype] || (a.t.name < b.t.name ? -1 : a.t.name > b.t.name ? 1 : 0))
    .map(({ t }) => t);

  // The header is written by hand so its key order is exactly the layout order (a JS object would
  // move integer-like names such as "0" to the front).
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(Object.fromEntries(Object.entries(metadata)))}`);
  let offset = 0;
  for (const t of ordered) {
    const begin = offset;
    offset += t.data.byteLength;
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [begin, offset] })}`);
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);

  let at = 8 + headerLength;
  for (const t of ordered) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, at);
    if (!LITTLE_ENDIAN) swapBytes(out.subarray(at, at + bytes.length), ELEMENT_BYTES[t.dtype]);
    at += bytes.length;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** Parse safetensors bytes. Tensor data is copied into fresh, aligned typed arrays. */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (arrayTag(bytes) !== 'Uint8Array') fail('expected the file as a Uint8Array');
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  if (hi !== 0 || lo > MAX_HEADER_BYTES) {
    const n = BigInt(hi) * 2n ** 32n + BigInt(lo);
    fail(`header length ${n} is absurd (limit ${MAX_HEADER_BYTES} bytes)`);
  }
  const headerLength = lo;
  if (8 + headerLength > bytes.length) {
    fail(`header length ${headerLength} goes beyond the end of the file (${bytes.length} bytes, so at most ${bytes.length - 8})`);
  }
  if (headerLength < 2) fail(`header length ${headerLength} is too short for a JSON object`);

  const headerBytes = bytes.subarray(8, 8 + headerLength);
  if (headerBytes[0] !== 0x7b) fail(`header does not start with '{' (first byte 0x${headerBytes[0].toString(16).padStart(2, '0')})`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(header)) fail(`header must be a JSON object, got ${header === null ? 'null' : Array.isArray(header) ? 'an array' : typeof header}`);

  const bufferStart = 8 + headerLength;
  const bufferLength = bytes.length - bufferStart;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];

  for (const name of Object.keys(header)) {
    const value = header[name];
    if (name === METADATA_KEY) {
      if (!isPlainObject(value)) fail(`"${METADATA_KEY}" must be an object of strings`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') fail(`metadata value for key ${JSON.stringify(k)} is not a string (got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v})`);
      }
      metadata = Object.fromEntries(Object.entries(value as Record<string, string>));
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (!isPlainObject(value)) fail(`${where}: entry must be an object with dtype, shape and data_offsets`);

    const dtype = value.dtype;
    if (typeof dtype !== 'string') fail(`${where}: dtype missing or not a string`);
    if (!isDtype(dtype)) fail(`${where}: unknown or unsupported dtype ${JSON.stringify(dtype)} (supported: F32, I32, U8)`);

    const shape = value.shape;
    if (!Array.isArray(shape)) fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape) ?? 'nothing'}`);
    for (const d of shape) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
      }
    }

    const offsets = value.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2) {
      fail(`${where}: data_offsets must be an array [begin, end], got ${JSON.stringify(offsets) ?? 'nothing'}`);
    }
    const [begin, end] = offsets as unknown[];
    if (typeof begin !== 'number' || typeof end !== 'number' || !Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < 0) {
      fail(`${where}: data_offsets must be two non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] has begin after end`);
    if (end > bufferLength) fail(`${where}: data_offsets [${begin}, ${end}] out of range (the data buffer is ${bufferLength} bytes)`);

    const count = elementCount(shape as number[]);
    const size = ELEMENT_BYTES[dtype];
    if (count * size !== end - begin) {
      fail(`${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape ${shapeString(shape)} of ${dtype} needs ${count === Infinity ? 'an impossible number of' : count * size}`);
    }
    entries.push({ name, dtype, shape: (shape as number[]).slice(), begin, end });
  }

  // The tensors must tile the buffer exactly: sorted by offset, each starts where the last ended.
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < cursor) {
      fail(`tensor ${JSON.stringify(e.name)} [${e.begin}, ${e.end}] overlaps tensor ${JSON.stringify(previous!.name)} [${previous!.begin}, ${previous!.end}]`);
    }
    if (e.begin > cursor) fail(`hole in the data buffer: bytes [${cursor}, ${e.begin}) belong to no tensor`);
    cursor = e.end;
    previous = e;
  }
  if (cursor !== bufferLength) fail(`hole in the data buffer: bytes [${cursor}, ${bufferLength}) after the last tensor belong to no tensor`);

  const tensors = new Map<string, DecodedTensor>();
  for (const e of entries) {
    // Sizes are verified above: end - begin ≤ bufferLength, the bytes actually present.
    const raw = new Uint8Array(e.end - e.begin);
    raw.set(bytes.subarray(bufferStart + e.begin, bufferStart + e.end));
    if (!LITTLE_ENDIAN) swapBytes(raw, ELEMENT_BYTES[e.dtype]);
    switch (e.dtype) {
      case 'F32':
        tensors.set(e.name, { dtype: 'F32', shape: e.shape, data: new Float32Array(raw.buffer) });
        break;
      case 'I32':
        tensors.set(e.name, { dtype: 'I32', shape: e.shape, data: new Int32Array(raw.buffer) });
        break;
      case 'U8':
        tensors.set(e.name, { dtype: 'U8', shape: e.shape, data: raw });
        break;
    }
  }
  return { tensors, metadata };
}
