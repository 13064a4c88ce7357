// Adam: per-weight step sizes from running means of the gradient and its square, bias-corrected.
import { checkNumber, checkOptions } from '../errors.js';
import { apply } from '../graph.js';
import { adamUpdateOp } from '../ops/optimizer-updates.js';
import type { Tensor } from '../tensor.js';
import { Optimizer } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam extends Optimizer {
  readonly kind = 'Adam';
  readonly slotNames = ['m', 'v'] as const;
  /** Learning rate; may be changed between steps (a schedule). */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;

  constructor(options: AdamOptions = {}) {
    super();
    checkOptions('Adam', options, ['lr', 'beta1', 'beta2', 'eps']);
    this.lr = checkNumber('Adam', 'lr', options.lr ?? 1e-3, (x) => x > 0, '> 0');
    this.beta1 = checkNumber('Adam', 'beta1', options.beta1 ?? 0.9, (x) => x >= 0 && x < 1, 'in [0, 1)');
    this.beta2 = checkNumber('Adam', 'beta2', options.beta2 ?? 0.999, (x) => x >= 0 && x < 1, 'in [0, 1)');
    this.eps = checkNumber('Adam', 'eps', options.eps ?? 1e-8, (x) => x > 0, '> 0');
  }

  config(): Record<string, number> {
    return { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps };
  }

  /** [lr, 1 − beta1^t, 1 − beta2^t] for step t = `steps`: the bias corrections in float64, then rounded to float32. */
  protected hyperparameters(): Float32Array {
    return Float32Array.of(this.lr, 1 - this.beta1 ** this.steps, 1 - this.beta2 ** this.steps);
  }

  protected update(param: Tensor, grad: Tensor, hyper: Tensor, gate?: Tensor): Tensor[] {
    const inputs = [param, grad, this.state('m', param), this.state('v', param), hyper];
    return apply(adamUpdateOp, gate ? [...inputs, gate] : inputs, { beta1: this.beta1, beta2: this.beta2, eps: this.eps });
  }
}
