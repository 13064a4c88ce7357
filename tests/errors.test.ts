// Bad input gives a FiltroError thrown at the call (before any data() is awaited) whose message
// names the op, the shapes and the rule broken; afterwards the engine keeps working.
import { describe, expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';
import { Rng } from '../packages/core/src/rng.js';
import { apply } from '../packages/core/src/graph.js';
import { adamUpdateOp, sgdUpdateOp } from '../packages/core/src/ops/optimizer-updates.js';

/** A minus sign as the engine may print it (U+2212 or ASCII). */
const M = '[−-]';

/** Runs `call`, which must throw a FiltroError synchronously; checks the message against `patterns`. */
function expectFiltroError(call: () => unknown, patterns: RegExp[]): Error {
  let error: unknown = null;
  let returned: unknown = undefined;
  try {
    returned = call();
  } catch (e) {
    error = e;
  }
  // Fails when the call returned (a lazy tensor or a promise) instead of throwing at once.
  expect(returned, 'the call should throw, not return').toBeUndefined();
  expect(error).toBeInstanceOf(f.FiltroError);
  const message = (error as Error).message;
  for (const p of patterns) expect(message).toMatch(p);
  return error as Error;
}

/** A valid computation after an error still runs and gives the right values. */
async function expectEngineWorks(): Promise<void> {
  const before = f.stats().dispatches;
  const x = f.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  const w = f.tensor([1, 0, 0, 1], [2, 2, 1, 1]);
  const y = f.add(f.conv2d(x, w), f.scalar(0.5));
  expect(Array.from(await y.data())).toEqual([6.5, 8.5, 12.5, 14.5]);
  expect(f.stats().dispatches).toBeGreaterThan(before);
  [x, w, y].forEach((t) => t.dispose());
}

/** Both at once: the error, then a working engine. */
async function rejects(call: () => unknown, patterns: RegExp[]): Promise<void> {
  expectFiltroError(call, patterns);
  await expectEngineWorks();
}

const z = (...shape: number[]) => f.zeros(shape);

describe('conv2d', () => {
  it('input of rank 3', () =>
    rejects(() => f.conv2d(z(5, 5, 1), z(3, 3, 1, 1)), [/^conv2d:/, /input/, /rank 4/, /\[N, H, W, C\]/, /\[5,5,1\]/]));

  it('filter of rank 2', () =>
    rejects(() => f.conv2d(z(1, 5, 5, 1), z(3, 3)), [/^conv2d:/, /filter/, /rank 4/, /\[Fh, Fw, Cin, K\]/, /\[3,3\]/]));

  it('filter depth differs from the input channels', () =>
    rejects(() => f.conv2d(z(1, 5, 5, 3), z(3, 3, 2, 4)), [/^conv2d:/, /Cin = 2/, /C = 3/, /\[1,5,5,3\]/, /\[3,3,2,4\]/]));

  it('bias length differs from the number of filters', () =>
    rejects(() => f.conv2d(z(1, 5, 5, 1), z(3, 3, 1, 4), { bias: z(3) }), [/^conv2d:/, /bias/, /K = 4/, /\[3\]/]));

  it('stride 0', () => rejects(() => f.conv2d(z(1, 5, 5, 1), z(3, 3, 1, 1), { stride: 0 }), [/^conv2d:/, /stride/, /integer ≥ 1/, /got 0$/]));

  it('non-integer stride', () =>
    rejects(() => f.conv2d(z(1, 5, 5, 1), z(3, 3, 1, 1), { stride: 1.5 }), [/^conv2d:/, /stride/, /integer/, /1\.5/]));

  it('stride 0 on one axis', () =>
    rejects(() => f.conv2d(z(1, 5, 5, 1), z(3, 3, 1, 1), { stride: [1, 0] }), [/^conv2d:/, /stride\[1\]/, /integer ≥ 1/, /got 0$/]));

  it('negative padding', () =>
    rejects(() => f.conv2d(z(1, 5, 5, 1), z(3, 3, 1, 1), { padding: -1 }), [/^conv2d:/, /padding/, /≥ 0/, /-1/]));

  it('unknown padding name', () =>
    rejects(() => f.conv2d(z(1, 5, 5, 1), z(3, 3, 1, 1), { padding: 'full' as never }), [/^conv2d:/, /padding/, /full/]));

  it('filter taller than the padded input quotes the output-size formula with the numbers', () =>
    rejects(() => f.conv2d(z(1, 3, 3, 1), z(6, 6, 1, 1), { padding: 1, stride: 2 }), [
      /^conv2d:/,
      /height/,
      // floor((3 − 6 + 1 + 1) / 2) + 1 = 0
      new RegExp(`3 ${M} 6 \\+ 1 \\+ 1\\) / 2\\) \\+ 1 = 0`),
      /≥ 1|at least 1/,
      /\[1,3,3,1\]/,
      /\[6,6,1,1\]/,
    ]));

  it('a non-square filter wider than the input names the width axis', () =>
    rejects(() => f.conv2d(z(2, 5, 4, 1), z(2, 5, 1, 3)), [/^conv2d:/, /width/, new RegExp(`4 ${M} 5 \\+ 0 \\+ 0\\) / 1\\) \\+ 1 = 0`), /\[2,5,4,1\]/, /\[2,5,1,3\]/]));

  it('unknown option name (a typo is not silently ignored)', () =>
    rejects(() => f.conv2d(z(1, 5, 5, 1), z(3, 3, 1, 1), { strides: 2 } as never), [/^conv2d:/, /unknown option 'strides'/, /stride/, /padding/]));

  it('unknown activation', () =>
    rejects(() => f.conv2d(z(1, 5, 5, 1), z(3, 3, 1, 1), { activation: 'gelu' as never }), [/^conv2d:/, /activation/, /gelu/, /relu/]));
});

describe('pooling', () => {
  for (const [name, pool] of [['maxPool2d', f.maxPool2d], ['avgPool2d', f.avgPool2d]] as const) {
    it(`${name}: window 0`, () => rejects(() => pool(z(1, 4, 4, 1), { size: 0 }), [new RegExp(`^${name}:`), /size/, /integer ≥ 1/, /got 0$/]));

    it(`${name}: window [2, 0]`, () => rejects(() => pool(z(1, 4, 4, 1), { size: [2, 0] }), [new RegExp(`^${name}:`), /size\[1\]/, /≥ 1/]));

    it(`${name}: padding as large as the window`, () =>
      rejects(() => pool(z(1, 6, 6, 1), { size: 2, padding: 2 }), [new RegExp(`^${name}:`), /padding \[2,2\]/, /smaller than the window \[2,2\]/]));

    it(`${name}: output size below 1 quotes the formula`, () =>
      rejects(() => pool(z(1, 2, 5, 1), { size: 3 }), [
        new RegExp(`^${name}:`),
        /height/,
        // stride defaults to the window: floor((2 − 3 + 0 + 0) / 3) + 1 = 0
        new RegExp(`2 ${M} 3 \\+ 0 \\+ 0\\) / 3\\) \\+ 1 = 0`),
        /\[1,2,5,1\]/,
        /window \[3,3\]/,
      ]));

    it(`${name}: missing options`, () => rejects(() => (pool as (x: f.Tensor) => f.Tensor)(z(1, 4, 4, 1)), [new RegExp(`^${name}:`), /size/]));

    it(`${name}: unknown option`, () =>
      rejects(() => pool(z(1, 4, 4, 1), { size: 2, window: 2 } as never), [new RegExp(`^${name}:`), /unknown option 'window'/]));

    it(`${name}: input of rank 3`, () => rejects(() => pool(z(4, 4, 1), { size: 2 }), [new RegExp(`^${name}:`), /rank 4/, /\[4,4,1\]/]));
  }
});

describe('matmul', () => {
  it('inner sizes differ', () => rejects(() => f.matmul(z(2, 3), z(4, 5)), [/^matmul:/, /inner/, /\[2,3\]/, /\[4,5\]/, /3 columns/, /4 rows/]));

  it('inner sizes differ after a transpose flag', () =>
    rejects(() => f.matmul(z(2, 3), z(2, 5), { transposeB: true }), [/^matmul:/, /\[2,3\]/, /\[2,5\]ᵀ/, /3 columns/, /5 rows/]));

  it('rank 3 operand', () => rejects(() => f.matmul(z(2, 3, 4), z(4, 5)), [/^matmul:/, /rank 2/, /\[2,3,4\]/]));

  it('rank 1 operand', () => rejects(() => f.matmul(z(2, 3), z(3)), [/^matmul:/, /\bb\b/, /rank 2/, /\[3\]/]));
});

describe('binary ops', () => {
  for (const [name, op] of [['add', f.add], ['sub', f.sub], ['mul', f.mul], ['div', f.div]] as const) {
    it(`${name}: shapes that cannot be broadcast`, () =>
      rejects(() => op(z(2, 3), z(4)), [new RegExp(`^${name}:`), /\[2,3\]/, /\[4\]/, /broadcast/, /3 vs 4/, /equal or 1/]));
  }

  it('add: [2,3,4] with [3]', () => rejects(() => f.add(z(2, 3, 4), z(3)), [/^add:/, /\[2,3,4\]/, /\[3\]/, /4 vs 3/]));

  it('add: an operand that is neither a tensor nor a number names add', () =>
    rejects(() => f.add(z(2), 'a' as never), [/^add:/]));
});

describe('reshape', () => {
  it('element count differs', () => rejects(() => f.reshape(z(2, 3), [4, 2]), [/^reshape:/, /\[2,3\]/, /6 elements/, /\[4,2\]/]));
  it('two -1 dimensions', () => rejects(() => f.reshape(z(2, 3), [-1, -1]), [/^reshape:/, /-1/]));
  it('-1 that cannot be inferred', () => rejects(() => f.reshape(z(2, 3), [4, -1]), [/^reshape:/, /\[2,3\]/, /\[4,-1\]/]));
  it('zero dimension', () => rejects(() => f.reshape(z(2, 3), [0, 6]), [/^reshape:/, /\[0,6\]/, /positive/]));
});

describe('softmaxCrossEntropy', () => {
  const logits = () => z(4, 3);
  it('int32 labels of the wrong length', () =>
    rejects(() => f.softmaxCrossEntropy(logits(), f.tensor(Int32Array.from([0, 1, 2]), [3])), [
      /^softmaxCrossEntropy:/,
      /labels/,
      /int32 \[4\]/,
      /float32 \[4,3\]/,
      /got int32 \[3\]/,
    ]));
  it('float32 labels of the wrong shape', () =>
    rejects(() => f.softmaxCrossEntropy(logits(), z(4, 2)), [/^softmaxCrossEntropy:/, /float32 \[4,3\] probabilities/, /got float32 \[4,2\]/]));
  it('class indices given as float32 (wrong dtype)', () =>
    rejects(() => f.softmaxCrossEntropy(logits(), f.tensor([0, 1, 2, 0], [4])), [/^softmaxCrossEntropy:/, /int32 \[4\]/, /got float32 \[4\]/]));
  it('int32 labels shaped like probabilities (wrong dtype)', () =>
    rejects(() => f.softmaxCrossEntropy(logits(), f.tensor(new Int32Array(12), [4, 3])), [/^softmaxCrossEntropy:/, /got int32 \[4,3\]/]));
  it('logits of rank 3', () =>
    rejects(() => f.softmaxCrossEntropy(z(4, 3, 1), f.tensor(new Int32Array(4), [4])), [/^softmaxCrossEntropy:/, /logits/, /rank 2/, /\[4,3,1\]/]));
});

describe('f.tensor', () => {
  it('data length differs from the shape', () =>
    rejects(() => f.tensor([1, 2, 3], [2, 2]), [/^tensor:/, /3 values/, /\[2,2\]/, /needs 4/]));
  it('typed data length differs from the shape', () =>
    rejects(() => f.tensor(new Float32Array(5), [2, 3]), [/^tensor:/, /5 values/, /\[2,3\]/, /needs 6/]));
  it('non-integer dimension', () => rejects(() => f.tensor([1, 2, 3, 4, 5], [2.5, 2]), [/^tensor:/, /\[2\.5,2\]/, /positive integers/]));
  it('zero dimension', () => rejects(() => f.tensor([], [0, 3]), [/^tensor:/, /\[0,3\]/, /positive integers/]));
  it('negative dimension', () => rejects(() => f.tensor([1, 2], [-2]), [/^tensor:/, /\[-2\]/, /positive integers/]));
  it('non-integer int32 value', () => rejects(() => f.tensor([1, 2.5], [2], 'int32'), [/^tensor:/, /int32/, /2\.5/, /index 1/]));
  it('int32 value out of 32-bit range', () => rejects(() => f.tensor([2 ** 31], [1], 'int32'), [/^tensor:/, /int32/, /2147483648/]));
  it('int32 dtype from a Float32Array', () => rejects(() => f.tensor(new Float32Array(2), [2], 'int32'), [/^tensor:/, /int32/, /Float32Array/]));
  it('unknown dtype', () => rejects(() => f.tensor([1, 2], [2], 'float64' as never), [/^tensor:/, /dtype/, /float64/]));
  it('a Float64Array', () => rejects(() => f.tensor(new Float64Array(2) as never), [/^tensor:/, /Float32Array/, /Float64Array/]));
  it('a string', () => rejects(() => f.tensor('abc' as never), [/^tensor:/, /String/]));
  it('an array holding a string', () => rejects(() => f.tensor([1, 'a'] as never), [/^tensor:/, /numbers/, /string/]));
  it('a plain object', () => rejects(() => f.tensor({ length: 2 } as never), [/^tensor:/, /Object/]));
  it('ragged nested arrays whose total happens to match the inferred shape', () =>
    // Inferred from the first entries as [3, 2] (6 values), and there are 6 values, but the rows differ.
    rejects(() => f.tensor([[1, 2], [3, 4, 5], [6]]), [/^tensor:/]));
  it('ragged nested arrays with a missing value', () => rejects(() => f.tensor([[1, 2], [3]]), [/^tensor:/, /rectangular/, /expected 2 entries at depth 1/, /\[2,2\]/]));
  it('a shape that is not an array', () => rejects(() => f.tensor([1, 2], 2 as never), [/^tensor:/, /shape/]));
});

describe('Sequential', () => {
  const { Sequential, Conv2d, Dense, Flatten, MaxPool2d } = f.nn;
  it('Dense after a conv without Flatten names the layer and the fix', () =>
    rejects(() => new Sequential([new Conv2d({ filters: 2, kernelSize: 3 }), new Dense({ units: 3 })], { inputShape: [6, 6, 1] }), [
      /^Sequential:/,
      /layer 1 \(dense_1\)/,
      /\[4,4,2\]/,
      /Flatten/,
    ]));

  it('a conv larger than its input names the layer index and name and quotes the formula', () =>
    rejects(
      () => new Sequential([new MaxPool2d({ size: 2 }), new Conv2d({ filters: 2, kernelSize: 5 }), new Flatten()], { inputShape: [6, 6, 1] }),
      [/^Sequential:/, /layer 1 \(conv2d_1\)/, /input \[3,3,1\]/, new RegExp(`3 ${M} 5 \\+ 0 \\+ 0\\) / 1\\) \\+ 1 = -1`), /≥ 1/],
    ));

  it('a second conv layer too large is conv2d_2 at index 2', () =>
    rejects(
      () => new Sequential([new Conv2d({ filters: 2, kernelSize: 3 }), new MaxPool2d({ size: 2 }), new Conv2d({ filters: 2, kernelSize: [1, 4] })], { inputShape: [7, 7, 1] }),
      [/layer 2 \(conv2d_2\)/, /width/, /input \[2,2,2\]/],
    ));

  it('a conv on a flat input', () =>
    rejects(() => new Sequential([new Conv2d({ filters: 2, kernelSize: 3 })], { inputShape: [10] }), [/layer 0 \(conv2d_1\)/, /\[H, W, C\]/, /\[10\]/]));

  for (const bad of [[28, 0, 1], [28, -1, 1], [2.5, 2, 1], [28, '28', 1]] as unknown as number[][]) {
    it(`inputShape ${JSON.stringify(bad)}`, () =>
      rejects(() => new Sequential([new Flatten(), new Dense({ units: 2 })], { inputShape: bad }), [/^Sequential:/, /inputShape/, /positive integers/]));
  }

  it('missing inputShape', () =>
    rejects(() => new Sequential([new Flatten(), new Dense({ units: 2 })], {} as never), [/^Sequential:/, /inputShape/]));

  it('a batch of the wrong shape given to forward', () => {
    const model = new Sequential([new Flatten(), new Dense({ units: 2 })], { inputShape: [3, 3, 1] });
    return rejects(() => model.forward(z(2, 3, 4, 1)), [/^Sequential:/, /\[N, 3, 3, 1\]/, /\[2,3,4,1\]/]);
  });
});

describe('optimizers', () => {
  for (const lr of [0, -0.1, Number.NaN, Infinity]) {
    it(`SGD lr ${lr}`, () => rejects(() => new f.optim.SGD({ lr }), [/^SGD:/, /lr/, /> 0/, new RegExp(`got ${lr}$`)]));
    it(`Adam lr ${lr}`, () => rejects(() => new f.optim.Adam({ lr }), [/^Adam:/, /lr/, /> 0/, new RegExp(`got ${lr}$`)]));
  }
  it('SGD without lr', () => rejects(() => new f.optim.SGD({} as never), [/^SGD:/, /lr/, /got undefined/]));
  it('SGD lr as a string', () => rejects(() => new f.optim.SGD({ lr: '0.1' as never }), [/^SGD:/, /lr/]));
  it('SGD momentum 1', () => rejects(() => new f.optim.SGD({ lr: 0.1, momentum: 1 }), [/^SGD:/, /momentum/, /\[0, 1\)/]));
  it('Adam beta1 1', () => rejects(() => new f.optim.Adam({ beta1: 1 }), [/^Adam:/, /beta1/, /\[0, 1\)/]));
  it('Adam unknown option', () => rejects(() => new f.optim.Adam({ learningRate: 0.1 } as never), [/^Adam:/, /unknown option 'learningRate'/]));
});

describe('optimizer update ops: the per-step values (hyper) are a float32 input of a fixed length', () => {
  const gate = () => f.tensor(Int32Array.of(-1), []);
  const hyper = (...values: number[]) => f.tensor(Float32Array.from(values), [values.length]);
  it('sgdUpdate: hyper [2] instead of [1]', () =>
    rejects(() => apply(sgdUpdateOp, [z(4, 3), z(4, 3), hyper(0.1, 0.2)], { momentum: 0 }), [/^sgdUpdate:/, /hyper \(input 2\)/, /float32 \[1\]/, /\[lr\]/, /got float32 \[2\]$/]));
  it('sgdUpdate with momentum: a scalar hyper, gated', () =>
    rejects(() => apply(sgdUpdateOp, [z(4, 3), z(4, 3), z(4, 3), f.scalar(0.1), gate()], { momentum: 0.9 }), [/^sgdUpdate:/, /hyper \(input 3\)/, /float32 \[1\]/, /got float32 \[\]$/]));
  it('sgdUpdate with momentum but no hyper', () =>
    rejects(() => apply(sgdUpdateOp, [z(4, 3), z(4, 3), z(4, 3)], { momentum: 0.9 }), [/^sgdUpdate:/, /expects \[p, g, v, hyper\]/, /got 3 inputs/]));
  it('sgdUpdate without momentum: the velocity given where hyper goes', () =>
    rejects(() => apply(sgdUpdateOp, [z(4, 3), z(4, 3), z(4, 3)], { momentum: 0 }), [/^sgdUpdate:/, /hyper \(input 2\)/, /got float32 \[4,3\]$/]));
  it('adamUpdate: hyper [1] instead of [3]', () =>
    rejects(() => apply(adamUpdateOp, [z(5), z(5), z(5), z(5), hyper(0.01), gate()], { beta1: 0.9, beta2: 0.999, eps: 1e-8 }), [/^adamUpdate:/, /hyper \(input 4\)/, /float32 \[3\]/, new RegExp(`\\[lr, 1 ${M} beta1\\^t, 1 ${M} beta2\\^t\\]`), /got float32 \[1\]$/]));
  it('adamUpdate: an int32 hyper [3] is taken for a gate, and rejected', () =>
    rejects(() => apply(adamUpdateOp, [z(5), z(5), z(5), z(5), f.tensor(Int32Array.of(1, 1, 1), [3])], { beta1: 0.9, beta2: 0.999, eps: 1e-8 }), [/^adamUpdate:/, /gate \(last input\) must be an int32 scalar/, /got int32 \[3\]$/]));
  it('adamUpdate: no hyper', () =>
    rejects(() => apply(adamUpdateOp, [z(5), z(5), z(5), z(5)], { beta1: 0.9, beta2: 0.999, eps: 1e-8 }), [/^adamUpdate:/, /expects \[p, g, m, v, hyper\]/, /got 4 inputs/]));
  it('adamUpdate: a state of another shape is still named', () =>
    rejects(() => apply(adamUpdateOp, [z(5), z(5), z(5), z(4), hyper(0.01, 0.1, 0.001)], { beta1: 0.9, beta2: 0.999, eps: 1e-8 }), [/^adamUpdate:/, /float32 \[5\]/, /got \[4\] float32/]));
});

describe('disposed tensors', () => {
  const disposed = () => {
    const t = f.tensor([1, 2, 3, 4], [2, 2]);
    t.dispose();
    return t;
  };
  it('conv2d of a disposed input', () => {
    const x = f.zeros([1, 3, 3, 1]);
    x.dispose();
    return rejects(() => f.conv2d(x, z(2, 2, 1, 1)), [/^conv2d:/, /disposed/, /\[1,3,3,1\]/]);
  });
  it('matmul of a disposed input', () => rejects(() => f.matmul(disposed(), z(2, 2)), [/^matmul:/, /disposed/, /\[2,2\]/]));
  it('add of a disposed input names add', () => rejects(() => f.add(disposed(), z(2, 2)), [/^add:/, /disposed/, /\[2,2\]/]));
  it('relu of a disposed input names relu', () => rejects(() => f.relu(disposed()), [/^relu:/, /disposed/, /\[2,2\]/]));
  it('reshape of a disposed input', () => rejects(() => f.reshape(disposed(), [4]), [/^reshape:/, /disposed/]));
  it('flatten of a disposed [N, features] input (a no-op reshape) still throws', () =>
    rejects(() => f.flatten(disposed()), [/disposed/]));
  it('scale by 1 of a disposed input (a no-op) still throws', () => rejects(() => f.scale(disposed(), 1), [/disposed/]));
  it('data() of a disposed tensor rejects with a FiltroError', async () => {
    const t = disposed();
    const error = await t.data().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(f.FiltroError);
    expect((error as Error).message).toMatch(/disposed/);
    await expectEngineWorks();
  });
  it('a lazy result whose input was disposed fails clearly when read', async () => {
    const a = f.tensor([1, 2], [2]);
    const y = f.relu(f.scale(a, 2));
    a.dispose();
    const error = await y.data().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(f.FiltroError);
    expect((error as Error).message).toMatch(/disposed|no value/);
    await expectEngineWorks();
  });
});

describe('out-of-range class label during a training step', () => {
  it('throws at trainStep naming the label and the range, leaves the weights alone, and training goes on', async () => {
    const rng = new Rng(3);
    const model = new f.nn.Sequential([new f.nn.Flatten(), new f.nn.Dense({ units: 3 })], { inputShape: [2, 2, 1], seed: 1 });
    const x = f.tensor(Float32Array.from({ length: 4 * 4 }, () => rng.uniform(-1, 1)), [4, 2, 2, 1]);
    const opt = new f.optim.SGD({ lr: 0.1 });
    const before = await Promise.all(model.parameters().map((p) => p.data()));
    for (const bad of [[0, 3, 1, 2], [0, -1, 1, 2]]) {
      const labels = f.tensor(Int32Array.from(bad), [4]);
      expectFiltroError(() => model.trainStep(x, labels, opt), [/softmaxCrossEntropy/, new RegExp(`label ${bad[1]} of example 1`), /\[0, 3\)/]);
      labels.dispose();
      const after = await Promise.all(model.parameters().map((p) => p.data()));
      after.forEach((a, i) => expect(Array.from(a)).toEqual(Array.from(before[i])));
    }
    await expectEngineWorks();
    const good = f.tensor(Int32Array.from([0, 2, 1, 2]), [4]);
    const loss = model.trainStep(x, good, opt);
    const value = (await loss.data())[0];
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeGreaterThan(0);
    const updated = await model.parameters()[0].data();
    expect(Array.from(updated)).not.toEqual(Array.from(before[0]));
  });

  it('frees the failed plan: bytesLive after the error equals bytesLive before', () => {
    const model = new f.nn.Sequential([new f.nn.Flatten(), new f.nn.Dense({ units: 3 })], { inputShape: [2, 2, 1], seed: 2 });
    const x = f.ones([2, 2, 2, 1]);
    const labels = f.tensor(Int32Array.from([1, 7]), [2]);
    const opt = new f.optim.SGD({ lr: 0.1 });
    // Synchronous from here on: no garbage collection finalizer can run in between.
    const before = f.stats().bytesLive;
    expectFiltroError(() => model.trainStep(x, labels, opt), [/label 7 of example 1/]);
    expect(f.stats().bytesLive).toBe(before);
  });
});
