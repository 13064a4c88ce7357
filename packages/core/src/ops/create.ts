// Making tensors from host values. Int32Array data makes an int32 tensor (class labels).
import { Allocation } from '../allocation.js';
import { currentBackend } from '../backends/registry.js';
import { fail } from '../errors.js';
import { Tensor } from '../tensor.js';
import type { DType, HostArray, TensorSpec } from '../types.js';
import { bytesOf, formatShape, sizeOf } from '../types.js';

type Nested = number | readonly Nested[];

function inferShape(value: Nested): number[] {
  const shape: number[] = [];
  let v: Nested = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = (v as readonly Nested[])[0];
  }
  return shape;
}

/** Flattens nested arrays, checking that every level is as long as `shape` says (no ragged rows). */
function flattenNested(value: Nested, shape: readonly number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (typeof value !== 'number') fail('tensor', `nested arrays must be rectangular with numbers at depth ${shape.length} (shape [${shape}] from the first elements), got ${Array.isArray(value) ? 'an array' : typeof value}`);
    out.push(value);
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[depth]) {
    fail('tensor', `nested arrays must be rectangular: expected ${shape[depth]} entries at depth ${depth} (shape [${shape}] from the first elements), got ${Array.isArray(value) ? value.length : typeof value}`);
  }
  for (const v of value as readonly Nested[]) flattenNested(v, shape, depth + 1, out);
}

/** A realized tensor holding a copy of `data` (typed array, flat or nested numbers). */
export function tensor(data: HostArray | Nested, shape?: readonly number[], dtype?: DType): Tensor {
  const fromTyped = data instanceof Float32Array || data instanceof Int32Array;
  if (!fromTyped && (ArrayBuffer.isView(data) || (typeof data !== 'number' && !Array.isArray(data)))) {
    fail('tensor', `data must be a Float32Array, an Int32Array, a number or (nested) number arrays, got ${Object.prototype.toString.call(data)}`);
  }
  const kind: DType = dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
  if (kind !== 'float32' && kind !== 'int32') fail('tensor', `dtype must be 'float32' or 'int32', got ${String(kind)}`);
  if (shape !== undefined && !Array.isArray(shape)) fail('tensor', `shape must be an array of positive integers, got ${JSON.stringify(shape)}`);
  const resolved = shape ? [...shape] : fromTyped ? [(data as HostArray).length] : inferShape(data as Nested);
  resolved.forEach((d) => {
    if (!Number.isInteger(d) || d < 1) fail('tensor', `shape ${formatShape(resolved)} must be positive integers`);
  });
  let flat: ArrayLike<number>;
  if (fromTyped) flat = data as HostArray;
  else {
    const list: number[] = [];
    const nested = data as Nested;
    flattenNested(nested, inferShape(nested), 0, list);
    flat = list;
  }
  if (flat.length !== sizeOf(resolved)) {
    fail('tensor', `data has ${flat.length} values but shape ${formatShape(resolved)} needs ${sizeOf(resolved)}`);
  }
  let host: HostArray;
  if (kind === 'int32') {
    if (data instanceof Float32Array) fail('tensor', `int32 tensors take an Int32Array or integers, got a Float32Array`);
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isInteger(flat[i]) || Math.abs(flat[i]) > 2 ** 31 - 1) fail('tensor', `int32 value ${flat[i]} at index ${i} is not a 32-bit integer`);
    }
    host = data instanceof Int32Array ? data : Int32Array.from(flat);
  } else {
    host = data instanceof Float32Array ? data : Float32Array.from(flat);
  }
  return fromHost(host, { shape: resolved, dtype: kind });
}

/** @internal Uploads `host` (copied) to the current backend as a realized tensor. */
export function fromHost(host: HostArray, spec: TensorSpec): Tensor {
  const backend = currentBackend();
  const t = new Tensor(spec, null);
  t.setAllocation(new Allocation(backend, backend.upload(host, spec), bytesOf(spec)));
  return t;
}

export function scalar(value: number): Tensor {
  return tensor([value], []);
}

export function zeros(shape: readonly number[]): Tensor {
  return tensor(new Float32Array(sizeOf(shape)), shape);
}

export function ones(shape: readonly number[]): Tensor {
  return tensor(new Float32Array(sizeOf(shape)).fill(1), shape);
}
