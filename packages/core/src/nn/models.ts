// Ready-made architectures.
import { Conv2d, Dense, Flatten, MaxPool2d } from './layers.js';
import { Sequential } from './sequential.js';

/**
 * A LeNet-style CNN for 28×28×1 digits: conv 5×5×8 relu → maxpool 2 → conv 5×5×16 relu → maxpool 2
 * → dense 128 relu → dense 10 (logits).
 */
export function lenet(options: { seed?: number; inputShape?: number[]; classes?: number } = {}): Sequential {
  return new Sequential(
    [
      new Conv2d({ filters: 8, kernelSize: 5, activation: 'relu' }),
      new MaxPool2d({ size: 2 }),
      new Conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }),
      new MaxPool2d({ size: 2 }),
      new Flatten(),
      new Dense({ units: 128, activation: 'relu' }),
      new Dense({ units: options.classes ?? 10 }),
    ],
    { inputShape: options.inputShape ?? [28, 28, 1], seed: options.seed ?? 0 },
  );
}
