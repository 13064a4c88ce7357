// A short training run on real digits must cut the loss substantially (a real number, not a timing).
import { expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';
import { batches, sliceMnist, splitMnist, toFloat } from '../packages/core/src/data/mnist.js';
import { loadMnistNode } from '../packages/core/src/data/mnist-node.js';
import { buildMnistBinary } from '../packages/core/src/data/build-mnist.js';

it('LeNet on 320 MNIST digits: loss falls by more than half and training accuracy passes 80%', async () => {
  buildMnistBinary();
  await f.setBackend('cpu');
  const { train } = splitMnist(await loadMnistNode());
  const digits = sliceMnist(train, 0, 320);
  const model = f.nn.lenet({ seed: 3 });
  const optimizer = new f.optim.Adam({ lr: 0.002 });
  const all = toFloat(digits);
  const x = f.tensor(all.images, [digits.count, 28, 28, 1]);
  const y = f.tensor(all.labels, [digits.count]);
  const lossOf = async () => {
    const loss = f.softmaxCrossEntropy(model.forward(x), y);
    const value = (await loss.data())[0];
    loss.dispose();
    return value;
  };
  const before = await lossOf();
  for (let epoch = 0; epoch < 4; epoch++) {
    for (const batch of batches(digits, { batchSize: 32, seed: 1, epoch })) {
      const bx = f.tensor(batch.images, [batch.size, 28, 28, 1]);
      const by = f.tensor(batch.labels, [batch.size]);
      model.trainStep(bx, by, optimizer).dispose();
      bx.dispose();
      by.dispose();
    }
  }
  const after = await lossOf();
  expect(before).toBeGreaterThan(1.5); // about ln 10 for an untrained 10-way classifier
  expect(after).toBeLessThan(before * 0.5);
  expect(await model.evaluate(x, y)).toBeGreaterThan(0.8);
});
