// pnpm bench: one LeNet training step (batch 64, Adam) on filtro's cpu backend vs TensorFlow.js 4.22's
// pure-JS cpu backend doing the same step in this process. Rounds alternate between the two so a
// drifting machine affects both alike; the figure to quote is the ratio of medians from one run.
import * as f from '@filtro/core';

// TensorFlow.js prints a banner recommending its native Node backend; this bench is about its JS one.
const { log } = console;
console.log = () => {};
const tf = await import('@tensorflow/tfjs');
console.log = log;

const batch = Number(process.env.BENCH_BATCH ?? 64);
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const stepsPerRound = Number(process.env.BENCH_STEPS ?? 3);

const images = Float32Array.from({ length: batch * 28 * 28 }, (_, i) => ((i * 7919) % 256) / 255);
const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);

function filtroStepper() {
  const model = f.nn.lenet({ seed: 0 });
  const optimizer = new f.optim.Adam({ lr: 1e-3 });
  const x = f.tensor(images, [batch, 28, 28, 1]);
  const y = f.tensor(labels, [batch]);
  return async () => {
    const loss = model.trainStep(x, y, optimizer);
    const value = (await loss.data())[0];
    loss.dispose();
    return value;
  };
}

async function tfjsStepper() {
  await tf.setBackend('cpu');
  const he = (shape, fanIn) => tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn)));
  const w1 = he([5, 5, 1, 8], 25), b1 = tf.variable(tf.zeros([8]));
  const w2 = he([5, 5, 8, 16], 200), b2 = tf.variable(tf.zeros([16]));
  const w3 = he([784, 128], 784), b3 = tf.variable(tf.zeros([128]));
  const w4 = tf.variable(tf.randomUniform([128, 10], -0.2, 0.2)), b4 = tf.variable(tf.zeros([10]));
  const optimizer = tf.train.adam(1e-3);
  const x = tf.tensor4d(images, [batch, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
  return async () => {
    const loss = optimizer.minimize(() => {
      // The same net as f.nn.lenet(): 'same' convolutions, 28→14→7, 7·7·16 = 784 features.
      let h = tf.relu(tf.add(tf.conv2d(x, w1, 1, 'same'), b1));
      h = tf.maxPool(h, 2, 2, 'valid');
      h = tf.relu(tf.add(tf.conv2d(h, w2, 1, 'same'), b2));
      h = tf.maxPool(h, 2, 2, 'valid');
      h = tf.relu(tf.add(tf.matMul(tf.reshape(h, [batch, 784]), w3), b3));
      return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(h, w4), b4));
    }, true);
    const value = (await loss.data())[0];
    loss.dispose();
    return value;
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeRound(step) {
  const start = performance.now();
  for (let i = 0; i < stepsPerRound; i++) await step();
  return (performance.now() - start) / stepsPerRound;
}

const runners = { filtro: filtroStepper(), tfjs: await tfjsStepper() };
for (const step of Object.values(runners)) for (let i = 0; i < 2; i++) await step(); // warm-up
const times = { filtro: [], tfjs: [] };
for (let r = 0; r < rounds; r++) for (const [name, step] of Object.entries(runners)) times[name].push(await timeRound(step));

const ms = { filtro: median(times.filtro), tfjs: median(times.tfjs) };
const rows = Object.entries(ms).map(([name, t]) => ({
  library: name === 'filtro' ? 'filtro cpu' : 'TensorFlow.js 4.22 cpu',
  'ms/step (median)': t.toFixed(1),
  'min–max': `${Math.min(...times[name]).toFixed(1)}–${Math.max(...times[name]).toFixed(1)}`,
  'images/s': Math.round((batch * 1000) / t),
}));
console.table(rows);
const ratio = ms.tfjs / ms.filtro;
console.log(`LeNet step, batch ${batch}: filtro cpu is ${ratio.toFixed(2)}× TensorFlow.js cpu (target ≥ 1: ${ratio >= 1 ? 'met' : 'not met'})`);
console.log(JSON.stringify({ batch, rounds, stepsPerRound, msPerStep: ms, ratio }));
