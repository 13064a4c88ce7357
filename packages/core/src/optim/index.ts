// f.optim: optimizers.
export { Adam } from './adam.js';
export type { AdamOptions } from './adam.js';
export { Optimizer } from './optimizer.js';
export type { StepCheck } from './optimizer.js';
export type { HealthRecord, NonFiniteStep, NumericsGuard } from './numerics-guard.js';
export { SGD } from './sgd.js';
export type { SgdOptions } from './sgd.js';
