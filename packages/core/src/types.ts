// Types shared by tensors, ops and backends.

export type DType = 'float32' | 'int32';
export type HostArray = Float32Array | Int32Array;

/** What an op needs to know about a tensor without its data. */
export interface TensorSpec {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function bytesOf(spec: TensorSpec): number {
  return sizeOf(spec.shape) * 4;
}

export function allocHost(spec: TensorSpec): HostArray {
  const n = sizeOf(spec.shape);
  return spec.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
