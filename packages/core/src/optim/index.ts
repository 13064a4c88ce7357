// f.optim: optimizers.
export { Adam } from './adam.js';
export type { AdamOptions } from './adam.js';
export { Optimizer } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SgdOptions } from './sgd.js';
