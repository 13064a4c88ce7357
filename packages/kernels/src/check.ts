// Argument checks shared by the wrappers: clear errors instead of GPU validation noise.

export function needBytes(buffer: GPUBuffer, elements: number, what: string): void {
  const bytes = elements * 4;
  if (buffer.size < bytes) {
    throw new Error(`filtro: ${what} needs ${bytes} bytes (${elements} elements), its buffer has ${buffer.size}`);
  }
}

/** True when every buffer can be bound as array<vec4<f32>> (WGSL needs its byte size a multiple of 16). */
export function vec4Bindable(...buffers: GPUBuffer[]): boolean {
  return buffers.every((b) => b.size % 16 === 0);
}

export function needDims(dims: Record<string, number>, what: string, min = 0): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < min) throw new Error(`filtro: ${what}: ${k} must be an integer ≥ ${min}, got ${v}`);
  }
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
