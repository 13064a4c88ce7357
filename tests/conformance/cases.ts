// The conformance table: every op, forward and backward, on the lecture's examples and a grid of
// seeded random shapes. Shared by the Node suite (conformance.test.ts, cpu and webgpu through
// Dawn) and the browser page (packages/demo/conformance.html), so cases take the library as an
// argument instead of importing it.
import type * as Filtro from '../../packages/core/src/index.js';
import { Rng } from '../../packages/core/src/rng.js';

export type Api = typeof Filtro;
type T = Filtro.Tensor;

export interface InputSpec {
  shape: number[];
  /** 'float' (default): uniform in [-1, 1); 'positive': in [0.5, 1.5); 'labels': int32 in [0, classes); 'probs': rows summing to 1. */
  kind?: 'float' | 'positive' | 'labels' | 'probs';
  classes?: number;
  /** Fixed values instead of random ones (the lecture's examples). */
  values?: number[];
}

export interface ConformanceCase {
  name: string;
  op: string;
  inputs: InputSpec[];
  forward: (f: Api, ...xs: T[]) => T;
  /** Differentiate with respect to these inputs (default: every float input). [] for none. */
  grad?: number[];
  /** Exact expected forward values (lecture examples); compared exactly on every backend. */
  expected?: number[];
}

const pair = (v: number | [number, number]) => (typeof v === 'number' ? `${v}` : `${v[0]}x${v[1]}`);

function lectureCases(): ConformanceCase[] {
  const pool = [1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4];
  const sobel = [1, 0, -1, 2, 0, -2, 1, 0, -1];
  const six = Array.from({ length: 36 }, (_, i) => i + 1);
  const conv6 = [] as number[];
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++) {
      let v = 0.5;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) v += six[(r + i) * 6 + c + j] * sobel[i * 3 + j];
      conv6.push(v);
    }
  return [
    { name: 'lecture: 6×6 * 3×3 + b → 4×4', op: 'conv2d', inputs: [{ shape: [1, 6, 6, 1], values: six }, { shape: [3, 3, 1, 1], values: sobel }, { shape: [1], values: [0.5] }], forward: (f, x, w, b) => f.conv2d(x, w, { bias: b }), expected: conv6 },
    { name: 'lecture: max pool 2×2 s2', op: 'maxPool2d', inputs: [{ shape: [1, 4, 4, 1], values: pool }], forward: (f, x) => f.maxPool2d(x, { size: 2, stride: 2 }), expected: [6, 8, 3, 4] },
    { name: 'lecture: avg pool 2×2 s2', op: 'avgPool2d', inputs: [{ shape: [1, 4, 4, 1], values: pool }], forward: (f, x) => f.avgPool2d(x, { size: 2, stride: 2 }), expected: [3.25, 5.25, 2, 2] },
    { name: 'lecture: flatten 3×4×5 → 60', op: 'reshape', inputs: [{ shape: [1, 3, 4, 5], values: Array.from({ length: 60 }, (_, i) => i) }], forward: (f, x) => f.flatten(x), expected: Array.from({ length: 60 }, (_, i) => i) },
  ];
}

function convCases(rng: Rng): ConformanceCase[] {
  const fixed: { n: number; h: number; w: number; c: number; k: number; f: [number, number]; s: [number, number]; p: number | [number, number] | 'same'; bias: boolean; relu: boolean }[] = [
    { n: 1, h: 5, w: 5, c: 1, k: 1, f: [1, 1], s: [1, 1], p: 0, bias: false, relu: false },
    { n: 2, h: 9, w: 7, c: 3, k: 4, f: [7, 7], s: [1, 1], p: 2, bias: true, relu: true },
    { n: 3, h: 8, w: 11, c: 2, k: 5, f: [3, 5], s: [2, 1], p: [1, 2], bias: true, relu: false },
    { n: 1, h: 12, w: 12, c: 33, k: 3, f: [3, 3], s: [3, 3], p: 'same', bias: true, relu: true },
    { n: 5, h: 6, w: 6, c: 1, k: 2, f: [2, 2], s: [2, 2], p: 0, bias: false, relu: true },
    { n: 2, h: 1, w: 9, c: 4, k: 3, f: [1, 3], s: [1, 2], p: [0, 1], bias: true, relu: false },
    // k a multiple of 4: the input gradient takes the direct kernel (conv.wgsl) on webgpu.
    { n: 2, h: 7, w: 7, c: 8, k: 8, f: [5, 5], s: [1, 1], p: 2, bias: true, relu: true },
    { n: 3, h: 9, w: 10, c: 5, k: 12, f: [3, 2], s: [2, 3], p: [1, 0], bias: false, relu: false },
    // ...with every width of its thread block (pixelsPerThread): 16 → 8, 6 → 6, 3 → 4 (7 → 7 and
    // 10 → 5 above).
    { n: 2, h: 5, w: 16, c: 3, k: 4, f: [3, 3], s: [1, 1], p: 1, bias: true, relu: false },
    { n: 2, h: 6, w: 6, c: 9, k: 8, f: [3, 3], s: [1, 1], p: 'same', bias: false, relu: true },
    { n: 1, h: 4, w: 3, c: 2, k: 4, f: [2, 2], s: [1, 1], p: 0, bias: false, relu: false },
  ];
  for (let i = 0; i < 10; i++) {
    const fh = 1 + rng.int(5);
    const fw = 1 + rng.int(5);
    const p = rng.int(4) === 0 ? 'same' : ([rng.int(3), rng.int(3)] as [number, number]);
    fixed.push({ n: 1 + rng.int(5), h: fh + rng.int(9), w: fw + rng.int(9), c: 1 + rng.int(6), k: 1 + rng.int(6), f: [fh, fw], s: [1 + rng.int(3), 1 + rng.int(3)], p, bias: rng.int(2) === 0, relu: rng.int(2) === 0 });
  }
  return fixed.map((g) => ({
    name: `conv2d x[${g.n},${g.h},${g.w},${g.c}] w[${g.f[0]},${g.f[1]},${g.c},${g.k}] s${pair(g.s)} p${typeof g.p === 'string' ? g.p : pair(g.p)}${g.bias ? ' bias' : ''}${g.relu ? ' relu' : ''}`,
    op: 'conv2d',
    inputs: [{ shape: [g.n, g.h, g.w, g.c] }, { shape: [g.f[0], g.f[1], g.c, g.k] }, ...(g.bias ? [{ shape: [g.k] }] : [])],
    forward: (f: Api, x: T, w: T, b?: T) => f.conv2d(x, w, { stride: g.s, padding: g.p, bias: b, activation: g.relu ? 'relu' : 'none' }),
  }));
}

function poolCases(rng: Rng): ConformanceCase[] {
  const list: { n: number; h: number; w: number; c: number; size: [number, number]; s: [number, number]; p: [number, number] | 'same' }[] = [
    { n: 2, h: 8, w: 8, c: 3, size: [2, 2], s: [2, 2], p: [0, 0] },
    { n: 1, h: 7, w: 9, c: 5, size: [3, 2], s: [2, 3], p: [1, 1] },
    { n: 3, h: 5, w: 5, c: 1, size: [3, 3], s: [1, 1], p: 'same' },
  ];
  for (let i = 0; i < 5; i++) {
    const size: [number, number] = [1 + rng.int(3), 1 + rng.int(3)];
    list.push({ n: 1 + rng.int(4), h: size[0] + rng.int(8), w: size[1] + rng.int(8), c: 1 + rng.int(33), size, s: [1 + rng.int(3), 1 + rng.int(3)], p: [rng.int(size[0]), rng.int(size[1])] });
  }
  return list.flatMap((g) =>
    (['maxPool2d', 'avgPool2d'] as const).map((op) => ({
      name: `${op} x[${g.n},${g.h},${g.w},${g.c}] size${pair(g.size)} s${pair(g.s)} p${typeof g.p === 'string' ? g.p : pair(g.p)}`,
      op,
      inputs: [{ shape: [g.n, g.h, g.w, g.c] }],
      forward: (f: Api, x: T) => f[op](x, { size: g.size, stride: g.s, padding: g.p }),
    })),
  );
}

function matmulCases(rng: Rng): ConformanceCase[] {
  const sizes: [number, number, number][] = [[1, 1, 1], [1, 7, 1], [3, 1, 5], [17, 33, 9], [64, 65, 63], [130, 70, 129]];
  for (let i = 0; i < 4; i++) sizes.push([1 + rng.int(80), 1 + rng.int(80), 1 + rng.int(80)]);
  // Long K over a small output (split-K), and two of at least 2^26 multiply-adds: on software
  // adapters the 'tex' GEMM, with op(A) packed (512³) and read from its buffer (4096×128×128).
  sizes.push([64, 2000, 64], [512, 512, 512], [4096, 128, 128]);
  const cases = sizes.map(([m, k, n], i): [number, number, number, boolean, boolean] => [m, k, n, i % 2 === 1, i % 3 === 1 || i === 5]);
  // Software adapters: 'reg' with rows of A not vec4-aligned (A_SHIFT 3, 1), the plain 'tex'
  // case below 2^26 (A read untransposed from its buffer, N >= 16, B copied into its texture) as
  // LeNet's dense1 runs it, and gemm_tex_thin (4 < N <= 16 over at least 8192 rows) with rows
  // unaligned (A_SHIFT 1) and aligned, over 2, 3 and 4 column quads (NQ).
  cases.push([2050, 27, 20, false, false], [5000, 25, 12, false, true], [64, 784, 128, false, false]);
  cases.push([8201, 25, 8, false, false], [8194, 12, 6, false, true], [8195, 25, 11, false, true], [8200, 28, 16, false, false]);
  return cases.map(([m, k, n, ta, tb]) => ({
    name: `matmul [${m},${k}]${ta ? 'ᵀ' : ''}·[${k},${n}]${tb ? 'ᵀ' : ''}`,
    op: 'matmul',
    inputs: [{ shape: ta ? [k, m] : [m, k] }, { shape: tb ? [n, k] : [k, n] }],
    forward: (f: Api, a: T, b: T) => f.matmul(a, b, { transposeA: ta, transposeB: tb }),
  }));
}

function elementwiseCases(): ConformanceCase[] {
  const unary = (['relu', 'sigmoid', 'tanh', 'exp', 'neg'] as const).map((op) => ({
    name: `${op} [3,5,7]`, op: 'unary', inputs: [{ shape: [3, 5, 7] }], forward: (f: Api, x: T) => f[op](x),
  }));
  const positive = (['log', 'sqrt'] as const).map((op) => ({
    name: `${op} [4,9]`, op: 'unary', inputs: [{ shape: [4, 9], kind: 'positive' as const }], forward: (f: Api, x: T) => f[op](x),
  }));
  const shapes: [number[], number[]][] = [[[2, 3, 4], [4]], [[3, 1], [1, 4]], [[5, 6], []], [[2, 7, 5, 3], [2, 7, 5, 3]], [[1], [6, 1, 2]]];
  const binary = (['add', 'sub', 'mul', 'div'] as const).flatMap((op) =>
    shapes.map(([a, b]) => ({
      name: `${op} [${a}] with [${b}]`, op: 'binary',
      inputs: [{ shape: a }, { shape: b, kind: op === 'div' ? ('positive' as const) : undefined }],
      forward: (f: Api, x: T, y: T) => f[op](x, y),
    })),
  );
  return [
    ...unary,
    ...positive,
    ...binary,
    { name: 'scale [5,5] ·-1.5 + 0.25', op: 'scale', inputs: [{ shape: [5, 5] }], forward: (f, x) => f.scale(x, -1.5, 0.25) },
    { name: 'add a number', op: 'fill', inputs: [{ shape: [4, 3] }], forward: (f, x) => f.add(x, 2.5) },
  ];
}

function reductionCases(): ConformanceCase[] {
  return [
    { name: 'sum all [3,4,5]', op: 'sum', inputs: [{ shape: [3, 4, 5] }], forward: (f, x) => f.sum(x) },
    { name: 'sum axes [0,2] keepDims [3,4,5]', op: 'sum', inputs: [{ shape: [3, 4, 5] }], forward: (f, x) => f.sum(x, [0, 2], true) },
    { name: 'sum axis 1 [2,300,3]', op: 'sum', inputs: [{ shape: [2, 300, 3] }], forward: (f, x) => f.sum(x, 1) },
    { name: 'mean axes [1,2] [2,5,6,3]', op: 'sum', inputs: [{ shape: [2, 5, 6, 3] }], forward: (f, x) => f.mean(x, [1, 2]) },
    { name: 'broadcastTo [3,1] → [2,3,4]', op: 'broadcastTo', inputs: [{ shape: [3, 1] }], forward: (f, x) => f.broadcastTo(x, [2, 3, 4]) },
    { name: 'reshape [2,3,4] → [4,-1]', op: 'reshape', inputs: [{ shape: [2, 3, 4] }], forward: (f, x) => f.mul(f.reshape(x, [4, -1]), f.reshape(x, [4, 6])) },
    { name: 'softmax [7,10]', op: 'softmax', inputs: [{ shape: [7, 10] }], forward: (f, x) => f.softmax(x) },
    { name: 'softmax [1,1]', op: 'softmax', inputs: [{ shape: [1, 1] }], forward: (f, x) => f.mul(f.softmax(x), x) },
    { name: 'softmaxCrossEntropy int labels [9,10]', op: 'softmaxCrossEntropy', inputs: [{ shape: [9, 10] }, { shape: [9], kind: 'labels', classes: 10 }], forward: (f, x, l) => f.softmaxCrossEntropy(x, l), grad: [0] },
    { name: 'softmaxCrossEntropy prob labels [5,3]', op: 'softmaxCrossEntropy', inputs: [{ shape: [5, 3] }, { shape: [5, 3], kind: 'probs' }], forward: (f, x, l) => f.softmaxCrossEntropy(x, l), grad: [0] },
    { name: 'softmaxCrossEntropy stable at ±1e4 [2,4]', op: 'softmaxCrossEntropy', inputs: [{ shape: [2, 4], values: [1e4, -1e4, 0, 5e3, -1e4, 1e4, 1e4, 0] }, { shape: [2], kind: 'labels', classes: 4 }], forward: (f, x, l) => f.softmaxCrossEntropy(x, l), grad: [0] },
    { name: 'argmax [6,11]', op: 'argmax', inputs: [{ shape: [6, 11] }], forward: (f, x) => f.argmax(x), grad: [] },
    { name: 'slice rows 2..5 of [7,3,2]', op: 'slice', inputs: [{ shape: [7, 3, 2] }], forward: (f, x) => f.slice(x, 2, 3), grad: [] },
  ];
}

/** The per-step finite check: int32 outputs, compared exactly; neither op has a gradient. */
function numericsCases(): ConformanceCase[] {
  const floats = (shape: number[], values: number[]): InputSpec => ({ shape, values });
  const ints = (shape: number[], values: number[]): InputSpec => ({ shape, kind: 'labels', values });
  const wide = (at: number, bad: number) => Array.from({ length: 1000 }, (_, i) => (i === at ? bad : 3.4e38 * Math.cos(i)));
  const first = (name: string, inputs: InputSpec[], expected: number): ConformanceCase => ({
    name: `firstNonFinite ${name}`, op: 'firstNonFinite', inputs, forward: (f, ...xs) => f.firstNonFinite(xs), expected: [expected],
  });
  const fresh = [0, -1, -1, -1, -1];
  const health = (name: string, record: number[], verdict: number, policy: 'stop' | 'skip', expected: { health: number[]; gate: number }): ConformanceCase[] =>
    (['health', 'gate'] as const).map((out) => ({
      name: `stepHealth ${name} (${out})`, op: 'stepHealth', inputs: [ints([5], record), ints([], [verdict]), ints([], [7])],
      forward: (f, h, v, step) => f.stepHealth(h, v, step, { policy })[out], expected: out === 'health' ? expected.health : [expected.gate],
    }));
  return [
    first('all finite, the largest floats included', [floats([3], [1, -3.4e38, 3.4e38]), floats([], [0])], -1),
    first('NaN in the second of three', [floats([2, 2], [1, 2, 3, 4]), floats([3], [0, NaN, 1]), floats([1], [Infinity])], 1),
    first('-Inf at the end of 1000 values', [floats([2], [0, 0]), floats([10, 100], wide(999, -Infinity))], 1),
    first('+Inf first, NaN later', [floats([], [Infinity]), floats([4], [NaN, 0, 0, 0])], 0),
    ...health('finite step', fresh, -1, 'stop', { health: fresh, gate: -1 }),
    ...health('first bad step under stop', fresh, 3, 'stop', { health: [1, 7, 3, 7, 3], gate: 3 }),
    ...health('finite step after a stop', [1, 4, 0, 4, 0], -1, 'stop', { health: [2, 4, 0, 4, 0], gate: 0 }),
    ...health('bad step under skip', [2, -1, -1, 5, 1], 2, 'skip', { health: [3, -1, -1, 7, 2], gate: 2 }),
    ...health('finite step under skip', [2, -1, -1, 5, 1], -1, 'skip', { health: [2, -1, -1, 5, 1], gate: -1 }),
  ];
}

/** Every case, in a fixed order (the seed fixes the random shapes). */
export function conformanceCases(seed = 7): ConformanceCase[] {
  const rng = new Rng(seed);
  return [...lectureCases(), ...convCases(rng), ...poolCases(rng), ...matmulCases(rng), ...elementwiseCases(), ...reductionCases(), ...numericsCases()];
}

/** Random input values for a case, the same on every backend. */
export function caseInputs(c: ConformanceCase, seed = 11): (Float32Array | Int32Array)[] {
  const rng = new Rng(seed);
  return c.inputs.map((spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.values) return spec.kind === 'labels' ? Int32Array.from(spec.values) : Float32Array.from(spec.values);
    switch (spec.kind) {
      case 'labels':
        return Int32Array.from({ length: size }, () => rng.int(spec.classes ?? 2));
      case 'positive':
        return Float32Array.from({ length: size }, () => rng.uniform(0.5, 1.5));
      case 'probs': {
        const cols = spec.shape[spec.shape.length - 1];
        const v = Float32Array.from({ length: size }, () => rng.uniform(0.1, 1));
        for (let r = 0; r < size; r += cols) {
          let total = 0;
          for (let i = r; i < r + cols; i++) total += v[i];
          for (let i = r; i < r + cols; i++) v[i] /= total;
        }
        return v;
      }
      default:
        return Float32Array.from({ length: size }, () => rng.uniform(-1, 1));
    }
  });
}

export interface CaseResult {
  /** The forward output, then one gradient per differentiated input. */
  outputs: (Float32Array | Int32Array)[];
}

/** Runs a case on the current backend: forward, and gradients of Σ y·r for a seeded weight r. */
export async function runCase(f: Api, c: ConformanceCase): Promise<CaseResult> {
  const data = caseInputs(c);
  const xs = c.inputs.map((spec, i) => f.tensor(data[i], spec.shape));
  const y = c.forward(f, ...xs);
  const wrt = c.grad ?? c.inputs.map((spec, i) => (spec.kind === 'labels' || spec.kind === 'probs' ? -1 : i)).filter((i) => i >= 0);
  if (wrt.length === 0 || y.dtype !== 'float32') {
    const outputs = [await y.data()];
    xs.forEach((x) => x.dispose());
    return { outputs };
  }
  const weights = new Rng(5);
  const r = f.tensor(Float32Array.from({ length: y.size }, () => weights.uniform(-1, 1)), y.shape.length ? [...y.shape] : [1]);
  const { value, grads } = f.valueAndGrads((...ins: T[]) => {
    const all = xs.map((x, i) => (wrt.includes(i) ? ins[wrt.indexOf(i)] : x));
    const out = c.forward(f, ...all);
    return f.sum(f.mul(out.shape.length ? out : f.reshape(out, [1]), r));
  })(...wrt.map((i) => xs[i]));
  f.realize([y, value, ...grads]);
  const outputs = [await y.data(), ...(await Promise.all(grads.map((g) => g.data())))];
  for (const t of [...xs, y, r, value, ...grads]) t.dispose();
  return { outputs };
}

/**
 * Compares a backend's outputs with the expected ones. Relative 1e-4 of each tensor's largest
 * magnitude: sums of many products computed in another order differ by rounding in proportion to
 * the terms, not to a result that cancels to near zero. Integer outputs (argmax) must match exactly.
 */
export function compareResults(expected: CaseResult, actual: CaseResult, tolerance = 1e-4): string | null {
  if (expected.outputs.length !== actual.outputs.length) return `expected ${expected.outputs.length} outputs, got ${actual.outputs.length}`;
  for (let t = 0; t < expected.outputs.length; t++) {
    const e = expected.outputs[t];
    const a = actual.outputs[t];
    const what = t === 0 ? 'forward' : `gradient ${t - 1}`;
    if (e.length !== a.length) return `${what}: expected ${e.length} values, got ${a.length}`;
    let scale = 0;
    for (const v of e) scale = Math.max(scale, Math.abs(v));
    const limit = e instanceof Int32Array ? 0 : tolerance * Math.max(scale, 1e-6);
    for (let i = 0; i < e.length; i++) {
      const diff = Math.abs(a[i] - e[i]);
      if (!(diff <= limit)) return `${what}[${i}]: expected ${e[i]}, got ${a[i]} (|diff| ${diff.toExponential(2)} > ${limit.toExponential(2)})`;
    }
  }
  return null;
}
