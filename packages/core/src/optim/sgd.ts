// Stochastic gradient descent, with optional momentum (v = μ·v + g; p −= lr·v).
import { checkNumber, checkOptions } from '../errors.js';
import { apply } from '../graph.js';
import { sgdUpdateOp } from '../ops/optimizer-updates.js';
import type { Tensor } from '../tensor.js';
import { Optimizer } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
}

export class SGD extends Optimizer {
  readonly kind = 'SGD';
  readonly slotNames: readonly string[];
  /** Learning rate; may be changed between steps (a schedule). */
  lr: number;
  readonly momentum: number;

  constructor(options: SgdOptions) {
    super();
    checkOptions('SGD', options, ['lr', 'momentum']);
    this.lr = checkNumber('SGD', 'lr', options?.lr, (v) => v > 0, '> 0');
    this.momentum = checkNumber('SGD', 'momentum', options.momentum ?? 0, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.slotNames = this.momentum === 0 ? [] : ['velocity'];
  }

  config(): Record<string, number> {
    return { lr: this.lr, momentum: this.momentum };
  }

  /** [lr]. */
  protected hyperparameters(): Float32Array {
    return Float32Array.of(this.lr);
  }

  protected update(param: Tensor, grad: Tensor, hyper: Tensor, gate?: Tensor): Tensor[] {
    const inputs = this.momentum === 0 ? [param, grad, hyper] : [param, grad, this.state('velocity', param), hyper];
    return apply(sgdUpdateOp, gate ? [...inputs, gate] : inputs, { momentum: this.momentum });
  }
}
