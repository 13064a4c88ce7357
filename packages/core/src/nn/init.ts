// Weight initialisation from a seeded generator: the same seed gives the same weights everywhere.
// He (normal, std √(2/fanIn)) ahead of a ReLU; Glorot (uniform, ±√(6/(fanIn+fanOut))) otherwise.
import type { Rng } from '../rng.js';

export function heNormal(count: number, fanIn: number, rng: Rng): Float32Array {
  const std = Math.sqrt(2 / fanIn);
  return Float32Array.from({ length: count }, () => rng.normal() * std);
}

export function glorotUniform(count: number, fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return Float32Array.from({ length: count }, () => rng.uniform(-limit, limit));
}

export function initWeights(activation: string, count: number, fanIn: number, fanOut: number, rng: Rng): Float32Array {
  return activation === 'relu' ? heNormal(count, fanIn, rng) : glorotUniform(count, fanIn, fanOut, rng);
}
