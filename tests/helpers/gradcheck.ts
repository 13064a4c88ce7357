// Finite-difference gradient checks of the autograd engine on the cpu backend.
//
// For an op fn(...inputs) → y we draw a random weight tensor r of y's shape and check the
// gradients of the scalar L = Σ y ⊙ r (which exercises every output's gradient with a different
// weight, so a permuted or mis-scaled output gradient shows up):
//   analytic: f.valueAndGrads((...xs) => f.sum(f.mul(fn(...xs), r)))(...inputs), read with data();
//   numeric:  central differences (L(x + h·e_j) − L(x − h·e_j)) / (2h), L summed in float64 on the
//             host from the float32 outputs of `await y.data()`.
import * as f from '../../packages/core/src/index.js';
import { Rng } from '../../packages/core/src/rng.js';

export { Rng };

/** A host-side input: float32 values and a shape. */
export interface Input {
  data: Float32Array;
  shape: number[];
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Values uniform in [lo, hi). */
export function uniform(rng: Rng, shape: number[], lo = -1, hi = 1): Input {
  return { data: Float32Array.from({ length: sizeOf(shape) }, () => rng.uniform(lo, hi)), shape };
}

/** |value| uniform in [lo, hi) with a random sign: keeps inputs away from a kink or pole at 0. */
export function awayFromZero(rng: Rng, shape: number[], lo: number, hi: number): Input {
  return {
    data: Float32Array.from({ length: sizeOf(shape) }, () => (rng.next() < 0.5 ? -1 : 1) * rng.uniform(lo, hi)),
    shape,
  };
}

/**
 * A random permutation of evenly spaced values `step` apart, centred on 0: every pair of values
 * differs by at least `step`, so no perturbation smaller than step/2 can change which one is largest.
 */
export function distinct(rng: Rng, shape: number[], step: number): Input {
  const n = sizeOf(shape);
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  return { data: Float32Array.from(order, (k) => (k - (n - 1) / 2) * step), shape };
}

export function toTensor(input: Input): f.Tensor {
  return f.tensor(input.data, input.shape);
}

export interface GradcheckOptions {
  /** Finite-difference step. */
  eps?: number;
  /** Pass when |analytic − numeric| ≤ tol · max(1, |numeric|). */
  tol?: number;
  /** Elements checked per input when it has more than this many (a seeded sample); else all. */
  samples?: number;
  /** Seeds the weights r and the sample of elements. */
  seed?: number;
  /** Which inputs to check (indices into `inputs`); all by default. Every input is still passed to fn. */
  check?: number[];
  /**
   * Require some numeric gradient of each checked input to be non-negligible, so that a test of an
   * op whose output does not reach the loss cannot pass vacuously. Default true.
   */
  requireNonZero?: boolean;
}

export interface Mismatch {
  input: number;
  index: number;
  analytic: number;
  numeric: number;
}

export interface GradcheckResult {
  /** Elements compared, over all checked inputs. */
  checked: number;
  /** Largest |analytic − numeric| / max(1, |numeric|) seen. */
  worst: number;
  /** Largest |numeric| per checked input (to show the check was not vacuous). */
  largestNumeric: number[];
  mismatches: Mismatch[];
  /** Problems other than value mismatches (a gradient of the wrong shape). */
  problems: string[];
}

/** Σ y ⊙ r in float64 on the host. */
function weightedSum(y: ArrayLike<number>, r: Float32Array): number {
  if (y.length !== r.length) throw new Error(`gradcheck: output has ${y.length} values, weights ${r.length}`);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] * r[i];
  return s;
}

/** Which elements of an input of `n` elements to check: all of them, or a seeded sample without repeats. */
function pick(n: number, samples: number, rng: Rng): number[] {
  if (n <= samples) return [...Array(n).keys()];
  const all = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  return Array.from(all.subarray(0, samples)).sort((a, b) => a - b);
}

/**
 * Compares the engine's gradients of Σ fn(...inputs) ⊙ r with central differences.
 *
 * Tolerance: the forward runs in float32, so each output carries a relative rounding error of a
 * few ulps (~1e-7 times the magnitude of the terms summed into it). The difference quotient
 * divides the rounding error of L(x+h) − L(x−h) by 2h, so with h = 1e-2 an error of ~1e-6 in L
 * becomes ~5e-5; for smooth ops the truncation error of central differences adds h²·|f'''|/6
 * (≈ 2e-4 for exp or log on the ranges used). The perturbed inputs are themselves rounded to
 * float32, so the step is taken as the exact difference of the two float32 values. The combined
 * tolerance |a − n| ≤ tol·max(1, |n|) with tol = 2e-3 sits about 5× above the worst error these
 * cases show (~4e-4, a relu conv with h = 2e-3) and well below what a wrong gradient gives: a
 * missing factor, a wrong transpose or a gradient sent to the wrong cell changes values by O(1)
 * relative to gradients of size ~0.1–1, and even a 2% error in sigmoid's derivative (≤ 0.25) fails.
 */
export async function gradcheck(fn: (...xs: f.Tensor[]) => f.Tensor, inputs: Input[], options: GradcheckOptions = {}): Promise<GradcheckResult> {
  const eps = options.eps ?? 1e-2;
  const tol = options.tol ?? 2e-3;
  const samples = options.samples ?? 25;
  const rng = new Rng(options.seed ?? 1234);
  const check = options.check ?? inputs.map((_, i) => i);

  const base = inputs.map(toTensor);
  const y0 = fn(...base);
  const r = Float32Array.from({ length: y0.size }, () => rng.uniform(-1, 1));
  const rt = f.tensor(r, [...y0.shape]);
  y0.dispose();

  // Analytic gradients.
  const { value, grads } = f.valueAndGrads((...xs: f.Tensor[]) => f.sum(f.mul(fn(...xs), rt)))(...base);
  const problems: string[] = [];
  if (grads.length !== inputs.length) problems.push(`valueAndGrads returned ${grads.length} gradients for ${inputs.length} inputs`);
  const analytic: Float32Array[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const g = grads[i];
    if (!g) {
      analytic.push(new Float32Array(0));
      continue;
    }
    if (g.shape.length !== inputs[i].shape.length || g.shape.some((d, k) => d !== inputs[i].shape[k])) {
      problems.push(`gradient ${i} has shape [${g.shape}], input [${inputs[i].shape}]`);
    }
    analytic.push((await g.data()) as Float32Array);
  }
  const lossValue = (await value.data())[0];
  const lossHost = weightedSum(await (async () => {
    const y = fn(...base);
    const d = await y.data();
    y.dispose();
    return d;
  })(), r);
  if (!(Math.abs(lossValue - lossHost) <= 1e-4 * Math.max(1, Math.abs(lossHost)))) {
    problems.push(`valueAndGrads value ${lossValue} differs from Σ fn(x)·r = ${lossHost}`);
  }
  value.dispose();
  grads.forEach((g) => g.dispose());

  // Numeric gradients.
  const evaluate = async (xs: f.Tensor[]): Promise<number> => {
    const y = fn(...xs);
    const s = weightedSum(await y.data(), r);
    y.dispose();
    return s;
  };
  const mismatches: Mismatch[] = [];
  const largestNumeric: number[] = [];
  let checked = 0;
  let worst = 0;
  for (const i of check) {
    const input = inputs[i];
    let largest = 0;
    for (const j of pick(input.data.length, samples, rng)) {
      const plus = input.data.slice();
      const minus = input.data.slice();
      plus[j] = input.data[j] + eps;
      minus[j] = input.data[j] - eps;
      const h = plus[j] - minus[j]; // exact: both are float32 values
      const xp = f.tensor(plus, input.shape);
      const xm = f.tensor(minus, input.shape);
      const lp = await evaluate(base.map((t, k) => (k === i ? xp : t)));
      const lm = await evaluate(base.map((t, k) => (k === i ? xm : t)));
      xp.dispose();
      xm.dispose();
      const numeric = (lp - lm) / h;
      const a = analytic[i][j];
      const err = Math.abs(a - numeric) / Math.max(1, Math.abs(numeric));
      largest = Math.max(largest, Math.abs(numeric));
      worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
      checked++;
      if (!(err <= tol)) mismatches.push({ input: i, index: j, analytic: a, numeric });
    }
    largestNumeric.push(largest);
    if ((options.requireNonZero ?? true) && largest < 1e-3) {
      problems.push(`input ${i}: every sampled numeric gradient is below 1e-3; the check would be vacuous`);
    }
  }
  base.forEach((t) => t.dispose());
  rt.dispose();
  return { checked, worst, largestNumeric, mismatches: mismatches.slice(0, 10), problems };
}
