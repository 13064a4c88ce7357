// Weight initialisation from a seeded generator: the same seed gives the same weights everywhere.
// He (normal, std √(2/fanIn)) ahead of a ReLU; Glorot (uniform, ±√(6/(fanIn+fanOut))) otherwise.
import type { Rng } from '../rng.js';
import type { ParamSpec } from './layers.js';

export function heNormal(count: number, fanIn: number, rng: Rng): Float32Array {
  const std = Math.sqrt(2 / fanIn);
  return Float32Array.from({ length: count }, () => rng.normal() * std);
}

export function glorotUniform(count: number, fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return Float32Array.from({ length: count }, () => rng.uniform(-limit, limit));
}

/** Initial values for a parameter spec (zeros draw nothing from the generator). */
export function initialValues(spec: ParamSpec, rng: Rng): Float32Array {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.init === 'zeros') return new Float32Array(count);
  return spec.init === 'he' ? heNormal(count, spec.fanIn, rng) : glorotUniform(count, spec.fanIn, spec.fanOut, rng);
}
