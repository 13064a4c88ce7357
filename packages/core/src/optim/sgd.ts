// Stochastic gradient descent, with optional momentum (v = μ·v + g; p −= lr·v).
import { checkNumber, checkOptions } from '../errors.js';
import { apply } from '../graph.js';
import { zeros } from '../ops/create.js';
import { sgdUpdateOp } from '../ops/optimizer-updates.js';
import type { Tensor } from '../tensor.js';
import { Optimizer } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
}

export class SGD extends Optimizer {
  /** Learning rate; may be changed between steps (a schedule). */
  lr: number;
  readonly momentum: number;
  private readonly velocity = new Map<Tensor, Tensor>();

  constructor(options: SgdOptions) {
    super();
    checkOptions('SGD', options, ['lr', 'momentum']);
    this.lr = checkNumber('SGD', 'lr', options?.lr, (v) => v > 0, '> 0');
    this.momentum = checkNumber('SGD', 'momentum', options.momentum ?? 0, (v) => v >= 0 && v < 1, 'in [0, 1)');
  }

  protected update(param: Tensor, grad: Tensor): Tensor[] {
    const attrs = { lr: this.lr, momentum: this.momentum };
    if (this.momentum === 0) return apply(sgdUpdateOp, [param, grad], attrs);
    let v = this.velocity.get(param);
    if (!v) this.velocity.set(param, (v = zeros(param.shape)));
    return apply(sgdUpdateOp, [param, grad, v], attrs);
  }

  dispose(): void {
    for (const v of this.velocity.values()) v.dispose();
    this.velocity.clear();
  }

  protected commit(param: Tensor, [v]: Tensor[]): void {
    if (v) assignState(this.velocity, param, v);
  }
}

/** Replaces a state tensor, giving the old one's storage back. */
export function assignState(states: Map<Tensor, Tensor>, param: Tensor, next: Tensor): void {
  states.get(param)?.dispose();
  states.set(param, next);
}
