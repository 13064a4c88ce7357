// filtro on its two backends, through the public API only (@filtro/core).
import * as f from '@filtro/core';
import type { Tensor } from '@filtro/core';
import { randomArray } from './data.ts';
import { timeSteps } from './timing.ts';
import type { BackendAdapter, ConvSpec, GemmSpec, OpRunner, PoolSpec, TrainData, TrainRunner } from './types.ts';

/** One element of `t` (a 1-element readback), computed in the same plan as `t` itself. */
function firstElement(t: Tensor): Tensor {
  return f.slice(f.reshape(t, [-1]), 0, 1);
}

/** Realizes `outputs` (each one plan = one submit on webgpu), keeping only the last for the readback. */
async function finish(last: Tensor[]): Promise<void> {
  const probe = firstElement(last[0]);
  f.realize([...last, probe]);
  await probe.data();
  probe.dispose();
}

/** Runs `once` reps times, one plan each, waiting for the GPU only after the last; frees `inputs` on dispose. */
function repeating(once: () => Tensor[], inputs: Tensor[]): OpRunner {
  return {
    async run(reps) {
      for (let i = 0; i < reps - 1; i++) {
        const outs = once();
        f.realize(outs);
        outs.forEach((t) => t.dispose());
      }
      const outs = once();
      await finish(outs);
      outs.forEach((t) => t.dispose());
    },
    dispose: () => inputs.forEach((t) => t.dispose()),
  };
}

export async function createFiltro(backend: 'webgpu' | 'cpu'): Promise<BackendAdapter> {
  const info = await f.setBackend(backend);
  const activate = async () => {
    await f.setBackend(backend);
  };
  return {
    id: backend === 'webgpu' ? 'filtro-webgpu' : 'filtro-cpu',
    activate,
    describe: () => info.description,

    async gemm({ m, k, n }: GemmSpec): Promise<OpRunner> {
      const a = f.tensor(randomArray(m * k, 1), [m, k]);
      const b = f.tensor(randomArray(k * n, 2), [k, n]);
      return repeating(() => [f.matmul(a, b)], [a, b]);
    },

    async conv({ n, h, w, cin, f: fs, cout }: ConvSpec, withGrad: boolean): Promise<OpRunner> {
      const x = f.tensor(randomArray(n * h * w * cin, 3), [n, h, w, cin]);
      const wt = f.tensor(randomArray(fs * fs * cin * cout, 4, 0.1), [fs, fs, cin, cout]);
      const once = (): Tensor[] => {
        if (!withGrad) return [f.conv2d(x, wt, { padding: 'same' })];
        const { value, grads } = f.valueAndGrads((xx: Tensor, ww: Tensor) => f.sum(f.conv2d(xx, ww, { padding: 'same' })))(x, wt);
        return [grads[1], grads[0], value];
      };
      return repeating(once, [x, wt]);
    },

    async pool({ n, h, w, c, size }: PoolSpec, withGrad: boolean): Promise<OpRunner> {
      const x = f.tensor(randomArray(n * h * w * c, 5), [n, h, w, c]);
      const once = (): Tensor[] => {
        if (!withGrad) return [f.maxPool2d(x, { size, stride: size })];
        const { value, grads } = f.valueAndGrads((xx: Tensor) => f.sum(f.maxPool2d(xx, { size, stride: size })))(x);
        return [grads[0], value];
      };
      return repeating(once, [x]);
    },

    async train(data: TrainData): Promise<TrainRunner> {
      const model = f.nn.lenet({ seed: 0 });
      const optimizer = new f.optim.Adam({ lr: 1e-3 });
      const x = f.tensor(data.images, [data.batch, 28, 28, 1]);
      const y = f.tensor(data.labels, [data.batch]);
      let perStep: Record<string, number> | undefined;
      return {
        async steps(reps, settle = false) {
          const before = f.stats();
          const result = await timeSteps(reps, settle, {
            step: () => model.trainStep(x, y, optimizer),
            read: async (loss: Tensor) => (await loss.data())[0],
            dispose: (loss) => loss.dispose(),
          });
          const after = f.stats();
          perStep = {
            submits: (after.submits - before.submits) / reps,
            dispatches: (after.dispatches - before.dispatches) / reps,
            buffersCreated: (after.buffersCreated - before.buffersCreated) / reps,
            pipelinesCompiled: (after.pipelinesCompiled - before.pipelinesCompiled) / reps,
            readbacks: (after.readbacks - before.readbacks) / reps,
          };
          return result;
        },
        counters: () => perStep,
        dispose: () => {
          model.dispose();
          optimizer.dispose();
          x.dispose();
          y.dispose();
        },
      };
    },
  };
}

/** For the cold-start frame: model, optimizer and data, then one step to completion. */
export async function filtroColdStep(backend: 'webgpu' | 'cpu', data: TrainData): Promise<{ initMs: number; loss: number }> {
  const t0 = performance.now();
  await f.setBackend(backend);
  const initMs = performance.now() - t0;
  const model = f.nn.lenet({ seed: 0 });
  const optimizer = new f.optim.Adam({ lr: 1e-3 });
  await model.compile(optimizer, { batchSize: data.batch }); // every pipeline at once (a no-op on cpu)
  const x = f.tensor(data.images, [data.batch, 28, 28, 1]);
  const y = f.tensor(data.labels, [data.batch]);
  const loss = (await model.trainStep(x, y, optimizer).data())[0];
  return { initMs, loss };
}
