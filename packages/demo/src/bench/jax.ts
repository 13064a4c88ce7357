// jax-js 0.1.25 on its webgpu and wasm devices. jax-js convolutions are NCHW with OIHW kernels, so
// it gets the same data transposed once (outside the timed region). Every function is jit-compiled,
// as its docs recommend; arrays are reference-counted (every call consumes its arguments, `.ref`
// keeps one). The LeNet step is one jit: forward, valueAndGrad, Adam (hand-written, as optax is a
// separate package), returning the new parameters and moments.
import type * as JaxNs from '@jax-js/jax';
import type { Array as JArray } from '@jax-js/jax';
import { hwioToOihw, lenetWeights, nhwcToNchw, oneHot, randomArray } from './data.ts';
import { timeSteps } from './timing.ts';
import type { BackendAdapter, ConvSpec, GemmSpec, OpRunner, PoolSpec, TrainData, TrainRunner } from './types.ts';

export type JaxDevice = 'webgpu' | 'wasm';
type Jax = typeof JaxNs;

let jaxPromise: Promise<Jax> | null = null;

export async function initJax(device: JaxDevice): Promise<Jax> {
  jaxPromise ??= import('@jax-js/jax');
  const jax = await jaxPromise;
  const available = await jax.init(device);
  if (!available.includes(device)) throw new Error(`jax-js init('${device}') returned [${available.join(', ')}]: ${device} unavailable here`);
  jax.defaultDevice(device);
  return jax;
}

type Params = { w1: JArray; b1: JArray; w2: JArray; b2: JArray; w3: JArray; b3: JArray; w4: JArray; b4: JArray };
const KEYS = ['w1', 'b1', 'w2', 'b2', 'w3', 'b3', 'w4', 'b4'] as const;

/** The LeNet step (NCHW), jit-compiled; `step()` is the synchronous call, returning the loss array. */
export function jaxLenet(jax: Jax, device: JaxDevice, data: TrainData) {
  const { numpy: np, lax, nn, jit, valueAndGrad, tree } = jax;
  const batch = data.batch;
  const w = lenetWeights();
  const arr = (values: Float32Array, shape: number[]) => np.array(values, { shape, device });
  let params: Params = {
    w1: arr(hwioToOihw(w.w1, 5, 5, 1, 8), [8, 1, 5, 5]),
    b1: np.zeros([8, 1, 1], { device }),
    w2: arr(hwioToOihw(w.w2, 5, 5, 8, 16), [16, 8, 5, 5]),
    b2: np.zeros([16, 1, 1], { device }),
    w3: arr(w.w3, [784, 128]),
    b3: np.zeros([128], { device }),
    w4: arr(w.w4, [128, 10]),
    b4: np.zeros([10], { device }),
  };
  const zeros = (): Params => Object.fromEntries(KEYS.map((k) => [k, np.zeros(params[k].shape, { device })])) as Params;
  let m = zeros();
  let v = zeros();
  const x = arr(nhwcToNchw(data.images, batch, 28, 28, 1), [batch, 1, 28, 28]);
  const y = arr(oneHot(data.labels), [batch, 10]);

  const maxPool2 = (h: JArray) => lax.reduceWindow(h, np.max, [2, 2], [2, 2]);
  const lossFn = (p: Params, xb: JArray, yb: JArray): JArray => {
    let h = nn.relu(lax.conv(xb, p.w1, [1, 1], 'SAME').add(p.b1));
    h = maxPool2(h);
    h = nn.relu(lax.conv(h, p.w2, [1, 1], 'SAME').add(p.b2));
    h = maxPool2(h).reshape([batch, 784]);
    h = nn.relu(np.dot(h, p.w3).add(p.b3));
    const logits = np.dot(h, p.w4).add(p.b4);
    return nn.logSoftmax(logits).mul(yb).sum().mul(-1 / batch);
  };
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  const step = jit((p: Params, mm: Params, vv: Params, xb: JArray, yb: JArray, c1: JArray, c2: JArray) => {
    const [loss, g] = valueAndGrad(lossFn)(tree.ref(p), xb, yb) as [JArray, Params];
    const np2: Partial<Params> = {};
    const nm: Partial<Params> = {};
    const nv: Partial<Params> = {};
    for (const k of KEYS) {
      const gk = g[k];
      const mk = mm[k].mul(beta1).add(gk.ref.mul(1 - beta1));
      const vk = vv[k].mul(beta2).add(gk.ref.mul(gk).mul(1 - beta2));
      np2[k] = p[k].sub(mk.ref.mul(c1.ref).div(np.sqrt(vk.ref.mul(c2.ref)).add(eps)));
      nm[k] = mk;
      nv[k] = vk;
    }
    c1.dispose();
    c2.dispose();
    return [loss, np2 as Params, nm as Params, nv as Params];
  });
  let t = 0;
  const lr = 1e-3;
  const run = (): JArray => {
    t++;
    const c1 = np.array([lr / (1 - beta1 ** t)], { device }).reshape([]);
    const c2 = np.array([1 / (1 - beta2 ** t)], { device }).reshape([]);
    const [loss, p2, m2, v2] = step(params, m, v, x.ref, y.ref, c1, c2) as unknown as [JArray, Params, Params, Params];
    params = p2;
    m = m2;
    v = v2;
    return loss;
  };
  const dispose = () => {
    tree.dispose([params, m, v]);
    x.dispose();
    y.dispose();
    step.dispose();
  };
  return { step: run, dispose };
}

export async function createJax(device: JaxDevice): Promise<BackendAdapter> {
  const jax = await initJax(device);
  const { numpy: np, lax, jit, grad } = jax;
  const arr = (values: Float32Array, shape: number[]) => np.array(values, { shape, device });
  /** `op` consumes its arguments; outputs are awaited with blockUntilReady (lazy arrays would skip work otherwise). */
  const opRunner = (inputs: JArray[], op: (...a: JArray[]) => JArray | JArray[], fn: { dispose(): void }): OpRunner => ({
    async run(reps) {
      const outs: JArray[] = [];
      for (let i = 0; i < reps; i++) {
        const r = op(...inputs.map((a) => a.ref));
        outs.push(...(Array.isArray(r) ? r : [r]));
      }
      await jax.blockUntilReady(outs);
      outs.forEach((a) => a.dispose());
    },
    dispose: () => {
      inputs.forEach((a) => a.dispose());
      fn.dispose();
    },
  });
  let detail = device as string;
  if (device === 'webgpu') {
    try {
      const info = (jax.getWebGPUDevice() as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
      if (info) detail += ` (${[info.vendor, info.architecture].filter(Boolean).join(' ')})`;
    } catch {
      // adapter info is cosmetic
    }
  }
  return {
    id: device === 'webgpu' ? 'jax-webgpu' : 'jax-wasm',
    activate: async () => {
      jax.defaultDevice(device);
    },
    describe: () => `jax-js ${detail}`,

    async gemm({ m, k, n }: GemmSpec) {
      const mm = jit((a: JArray, b: JArray) => np.matmul(a, b));
      return opRunner([arr(randomArray(m * k, 1), [m, k]), arr(randomArray(k * n, 2), [k, n])], mm, mm);
    },

    async conv({ n, h, w, cin, f, cout }: ConvSpec, withGrad: boolean) {
      const x = arr(nhwcToNchw(randomArray(n * h * w * cin, 3), n, h, w, cin), [n, cin, h, w]);
      const wt = arr(hwioToOihw(randomArray(f * f * cin * cout, 4, 0.1), f, f, cin, cout), [cout, cin, f, f]);
      const fwd = (a: JArray, b: JArray) => lax.conv(a, b, [1, 1], 'SAME');
      const fn = withGrad ? jit((a: JArray, b: JArray) => grad((aa: JArray, bb: JArray) => fwd(aa, bb).sum(), { argnums: [0, 1] })(a, b) as JArray[]) : jit(fwd);
      return opRunner([x, wt], fn as (...a: JArray[]) => JArray | JArray[], fn);
    },

    async pool({ n, h, w, c, size }: PoolSpec, withGrad: boolean) {
      const x = arr(nhwcToNchw(randomArray(n * h * w * c, 5), n, h, w, c), [n, c, h, w]);
      const fwd = (a: JArray) => lax.reduceWindow(a, np.max, [size, size], [size, size]);
      const fn = withGrad ? jit((a: JArray) => grad((aa: JArray) => fwd(aa).sum())(a) as JArray) : jit(fwd);
      return opRunner([x], fn as (...a: JArray[]) => JArray, fn);
    },

    async train(data: TrainData): Promise<TrainRunner> {
      const net = jaxLenet(jax, device, data);
      return {
        steps: (reps, settle = false) =>
          timeSteps(reps, settle, {
            step: net.step,
            read: async (loss: JArray) => (await loss.ref.data())[0], // data() consumes a reference; keep ours for dispose()
            dispose: (loss) => loss.dispose(),
          }),
        dispose: net.dispose,
      };
    },
  };
}

/** For the cold-start frame. */
export async function jaxColdStep(device: JaxDevice, data: TrainData): Promise<{ initMs: number; loss: number }> {
  const t0 = performance.now();
  const jax = await initJax(device);
  const initMs = performance.now() - t0;
  const net = jaxLenet(jax, device, data);
  const loss = (await net.step().data())[0];
  return { initMs, loss };
}
