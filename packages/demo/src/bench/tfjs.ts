// TensorFlow.js 4.22 on its webgpu, webgl, wasm and cpu backends: the same ops and the same LeNet
// step as filtro (conv 5×5×8 'same' relu → maxpool 2 → conv 5×5×16 'same' relu → maxpool 2 → dense
// 128 relu → dense 10, softmax cross-entropy, Adam 1e-3), written with plain tf ops as a user would.
import type * as TF from '@tensorflow/tfjs';
import { lenetWeights, randomArray } from './data.ts';
import { timeSteps } from './timing.ts';
import type { BackendAdapter, ConvSpec, GemmSpec, OpRunner, PoolSpec, TrainData, TrainRunner } from './types.ts';

export type TfjsBackend = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

let tfPromise: Promise<typeof TF> | null = null;

/** Loads @tensorflow/tfjs (cpu and webgl built in) once. */
function loadTf(): Promise<typeof TF> {
  tfPromise ??= import('@tensorflow/tfjs');
  return tfPromise;
}

/** Registers (imports) the extra backend package, points the wasm backend at its binaries. */
async function registerBackend(name: TfjsBackend): Promise<void> {
  if (name === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  if (name === 'wasm') {
    const [wasm, plain, simd, threaded] = await Promise.all([
      import('@tensorflow/tfjs-backend-wasm'),
      import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url'),
      import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url'),
      import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url'),
    ]);
    wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': plain.default,
      'tfjs-backend-wasm-simd.wasm': simd.default,
      'tfjs-backend-wasm-threaded-simd.wasm': threaded.default,
    });
  }
}

/** Imports tfjs and the backend, makes it current; throws with the reason when it is unavailable. */
export async function initTf(name: TfjsBackend): Promise<typeof TF> {
  const tf = await loadTf();
  await registerBackend(name);
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new Error(`tf.setBackend('${name}') failed: ${(e as Error).message ?? e}`);
  }
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false (backend unavailable here)`);
  await tf.ready();
  return tf;
}

/** The LeNet step as tf ops; `step()` is the synchronous part (returns the loss tensor). */
export function tfLenet(tf: typeof TF, data: TrainData) {
  const w = lenetWeights();
  const v = (values: Float32Array, shape: number[]) => tf.variable(tf.tensor(values, shape));
  const params = {
    w1: v(w.w1, [5, 5, 1, 8]),
    b1: tf.variable(tf.zeros([8])),
    w2: v(w.w2, [5, 5, 8, 16]),
    b2: tf.variable(tf.zeros([16])),
    w3: v(w.w3, [784, 128]),
    b3: tf.variable(tf.zeros([128])),
    w4: v(w.w4, [128, 10]),
    b4: tf.variable(tf.zeros([10])),
  };
  const optimizer = tf.train.adam(1e-3);
  const x = tf.tensor4d(data.images, [data.batch, 28, 28, 1]);
  const labels = tf.tensor1d(data.labels, 'int32');
  const y = tf.oneHot(labels, 10);
  labels.dispose();
  const step = (): TF.Scalar =>
    optimizer.minimize(() => {
      let h = tf.relu(tf.add(tf.conv2d(x, params.w1 as TF.Tensor4D, 1, 'same'), params.b1)) as TF.Tensor4D;
      h = tf.maxPool(h, 2, 2, 'valid');
      h = tf.relu(tf.add(tf.conv2d(h, params.w2 as TF.Tensor4D, 1, 'same'), params.b2)) as TF.Tensor4D;
      h = tf.maxPool(h, 2, 2, 'valid');
      const d = tf.relu(tf.add(tf.matMul(tf.reshape(h, [data.batch, 784]), params.w3), params.b3));
      return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(d, params.w4), params.b4)) as TF.Scalar;
    }, true) as TF.Scalar;
  const dispose = () => {
    Object.values(params).forEach((p) => p.dispose());
    optimizer.dispose();
    x.dispose();
    y.dispose();
  };
  return { step, dispose };
}

/** Waits for `t` on the device through a 1-element readback. */
async function finish(tf: typeof TF, t: TF.Tensor): Promise<void> {
  const one = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), [0], [1]));
  await one.data();
  one.dispose();
}

/** What this backend's kernel registry lacks for the benchmark (stock wasm: the conv filter gradient). */
function missingKernels(tf: typeof TF, name: TfjsBackend): BackendAdapter['unsupported'] {
  const missing = (kernel: string) => (tf.getKernel(kernel, name) ? null : kernel);
  const conv = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].map(missing).filter(Boolean);
  const pool = ['MaxPool', 'MaxPoolGrad'].map(missing).filter(Boolean);
  const out: BackendAdapter['unsupported'] = {};
  if (conv.length) {
    const why = `stock tfjs ${name} has no ${conv.join(', ')} kernel`;
    out.convGrad = why;
    out.train = `cannot train a CNN: ${why}`;
  }
  if (pool.length) out.poolGrad = `stock tfjs ${name} has no ${pool.join(', ')} kernel`;
  return out;
}

export async function createTfjs(name: TfjsBackend): Promise<BackendAdapter> {
  const tf = await initTf(name);
  const backend = tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } };
  const adapter = backend.adapterInfo ? ` (${[backend.adapterInfo.vendor, backend.adapterInfo.architecture].filter(Boolean).join(' ')})` : '';
  const opRunner = (inputs: TF.Tensor[], op: () => TF.Tensor[]): OpRunner => ({
    async run(reps) {
      for (let i = 0; i < reps - 1; i++) op().forEach((t) => t.dispose());
      const outs = op();
      await finish(tf, outs[0]);
      outs.forEach((t) => t.dispose());
    },
    dispose: () => inputs.forEach((t) => t.dispose()),
  });
  return {
    id: `tfjs-${name}`,
    activate: async () => {
      if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
    },
    describe: () => `TensorFlow.js ${tf.version.tfjs} ${tf.getBackend()}${adapter}`,
    unsupported: missingKernels(tf, name),

    async gemm({ m, k, n }: GemmSpec) {
      const a = tf.tensor2d(randomArray(m * k, 1), [m, k]);
      const b = tf.tensor2d(randomArray(k * n, 2), [k, n]);
      return opRunner([a, b], () => [tf.matMul(a, b)]);
    },

    async conv({ n, h, w, cin, f, cout }: ConvSpec, withGrad: boolean) {
      const x = tf.tensor4d(randomArray(n * h * w * cin, 3), [n, h, w, cin]);
      const wt = tf.tensor4d(randomArray(f * f * cin * cout, 4, 0.1), [f, f, cin, cout]);
      if (!withGrad) return opRunner([x, wt], () => [tf.conv2d(x, wt, 1, 'same')]);
      const grads = tf.grads((xx: TF.Tensor, ww: TF.Tensor) => tf.sum(tf.conv2d(xx as TF.Tensor4D, ww as TF.Tensor4D, 1, 'same')));
      return opRunner([x, wt], () => {
        const [dx, dw] = grads([x, wt]);
        return [dw, dx];
      });
    },

    async pool({ n, h, w, c, size }: PoolSpec, withGrad: boolean) {
      const x = tf.tensor4d(randomArray(n * h * w * c, 5), [n, h, w, c]);
      if (!withGrad) return opRunner([x], () => [tf.maxPool(x, size, size, 'valid')]);
      const grad = tf.grad((xx: TF.Tensor) => tf.sum(tf.maxPool(xx as TF.Tensor4D, size, size, 'valid')));
      return opRunner([x], () => [grad(x)]);
    },

    async train(data: TrainData): Promise<TrainRunner> {
      const net = tfLenet(tf, data);
      return {
        steps: (reps, settle = false) =>
          timeSteps(reps, settle, {
            step: net.step,
            read: async (loss: TF.Scalar) => (await loss.data())[0],
            dispose: (loss) => loss.dispose(),
          }),
        dispose: net.dispose,
      };
    },
  };
}

/** For the cold-start frame. */
export async function tfjsColdStep(name: TfjsBackend, data: TrainData): Promise<{ initMs: number; loss: number }> {
  const t0 = performance.now();
  const tf = await initTf(name);
  const initMs = performance.now() - t0;
  const net = tfLenet(tf, data);
  const loss = (await net.step().data())[0];
  return { initMs, loss };
}
