// ConvNetJS 0.3 (plain JS, one example at a time): the training row only, with its own LeNet-like
// net built to the same shapes as filtro's LeNet (conv 5×5×8 pad 2 relu → pool 2 → conv 5×5×16 pad 2
// relu → pool 2 → fc 128 relu → softmax 10). ConvNetJS 0.3 has no Adam: SGD with momentum 0.9, the
// weights updated once per 64 examples (batch_size 64). A "step" is 64 trainer.train() calls.
import type { BackendAdapter, TrainData, TrainRunner } from './types.ts';

type ConvNetJs = typeof import('convnetjs').default;

async function loadConvnet(): Promise<ConvNetJs> {
  const mod = (await import('convnetjs')) as unknown as { default?: ConvNetJs } & ConvNetJs;
  const lib = mod.default ?? mod;
  if (typeof lib?.Net !== 'function') throw new Error('convnetjs did not load (no Net constructor)');
  return lib;
}

export function convnetLenet(cn: ConvNetJs, data: TrainData) {
  const net = new cn.Net();
  net.makeLayers([
    { type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
    { type: 'conv', sx: 5, filters: 8, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 5, filters: 16, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'fc', num_neurons: 128, activation: 'relu' },
    { type: 'softmax', num_classes: 10 },
  ]);
  const trainer = new cn.Trainer(net, { method: 'sgd', learning_rate: 0.01, momentum: 0.9, batch_size: data.batch, l2_decay: 0 });
  // ConvNetJS volumes are [sx, sy, depth] with index (sx·y + x)·depth + d: the same order as NHWC.
  const vols = Array.from({ length: data.batch }, (_, i) => {
    const v = new cn.Vol(28, 28, 1, 0);
    for (let j = 0; j < 784; j++) v.w[j] = data.images[i * 784 + j];
    return v;
  });
  const step = (): number => {
    let loss = 0;
    for (let i = 0; i < data.batch; i++) loss += trainer.train(vols[i], data.labels[i]).loss;
    return loss / data.batch;
  };
  return { step };
}

export async function createConvnet(): Promise<BackendAdapter> {
  const cn = await loadConvnet();
  return {
    id: 'convnetjs',
    activate: async () => {},
    describe: () => 'ConvNetJS (plain JS)',
    async train(data: TrainData): Promise<TrainRunner> {
      const net = convnetLenet(cn, data);
      return {
        async steps(reps) {
          let loss = 0;
          for (let i = 0; i < reps; i++) loss = net.step();
          // Everything ran on the main thread: there is no "host part" apart from the work.
          return { hostMs: [], loss };
        },
        dispose: () => {},
      };
    },
  };
}

export async function convnetColdStep(data: TrainData): Promise<{ initMs: number; loss: number }> {
  const t0 = performance.now();
  const cn = await loadConvnet();
  const initMs = performance.now() - t0;
  return { initMs, loss: convnetLenet(cn, data).step() };
}
