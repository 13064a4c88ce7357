// Deterministic inputs, identical for every library: the LeNet batch and random operands.
import type { TrainData } from './types.ts';

/** The LeNet batch: 28×28×1 images with values in [0, 1], labels 0..9 (same as scripts/bench-cpu-step.mjs). */
export function lenetData(batch = 64): TrainData {
  const images = Float32Array.from({ length: batch * 28 * 28 }, (_, i) => ((i * 7919) % 256) / 255);
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
  return { batch, images, labels };
}

/** Uniform values in [-scale, scale) from a small LCG, so every library gets the same operands. */
export function randomArray(n: number, seed = 1, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s >>> 8) / 16777216) * 2 * scale - scale;
  }
  return out;
}

/** He-normal-ish weights (deterministic): uniform with the variance 2 / fanIn. */
export function heArray(n: number, fanIn: number, seed: number): Float32Array {
  return randomArray(n, seed, Math.sqrt(6 / fanIn));
}

/** NHWC [n, h, w, c] → NCHW [n, c, h, w] (jax-js convolutions are NCHW). */
export function nhwcToNchw(x: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let ch = 0; ch < c; ch++) out[((b * c + ch) * h + y) * w + xx] = x[((b * h + y) * w + xx) * c + ch];
  return out;
}

/** HWIO filters [fh, fw, cin, cout] → OIHW [cout, cin, fh, fw]. */
export function hwioToOihw(wt: Float32Array, fh: number, fw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(wt.length);
  for (let y = 0; y < fh; y++)
    for (let x = 0; x < fw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * fh + y) * fw + x] = wt[((y * fw + x) * cin + i) * cout + o];
  return out;
}

/** The LeNet weights in filtro's layout (HWIO filters, [in, out] dense), shared by the peers. */
export interface LenetWeights {
  w1: Float32Array; // [5, 5, 1, 8]
  w2: Float32Array; // [5, 5, 8, 16]
  w3: Float32Array; // [784, 128]
  w4: Float32Array; // [128, 10]
}

export function lenetWeights(): LenetWeights {
  return {
    w1: heArray(5 * 5 * 1 * 8, 25, 11),
    w2: heArray(5 * 5 * 8 * 16, 200, 12),
    w3: heArray(784 * 128, 784, 13),
    w4: heArray(128 * 10, 128, 14),
  };
}

/** One-hot float labels [batch, classes]. */
export function oneHot(labels: Int32Array, classes = 10): Float32Array {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((l, i) => (out[i * classes + l] = 1));
  return out;
}
