// @filtro/core: the public API (DESIGN.md §5).
export { Tensor } from './tensor.js';
export type { DType, HostArray, TensorSpec } from './types.js';
export { FiltroError } from './errors.js';
export { stats } from './stats.js';
export type { Stats } from './stats.js';
export { backendInfo, getBackend, setBackend } from './backends/registry.js';
export type { AdapterInfo, BackendInfo, BackendName } from './backends/backend.js';
export { realize } from './scheduler.js';
export { gradients, valueAndGrads } from './autograd.js';

export { ones, scalar, tensor, zeros } from './ops/create.js';
export { conv2d } from './ops/conv2d.js';
export type { Conv2dOptions, Padding } from './ops/conv2d.js';
export { avgPool2d, maxPool2d } from './ops/pool.js';
export type { PoolOptions } from './ops/pool.js';
export { matmul } from './ops/matmul.js';
export type { MatmulOptions } from './ops/matmul.js';
export { add, div, mul, sub } from './ops/binary.js';
export { exp, log, neg, relu, sigmoid, sqrt, tanh } from './ops/unary.js';
export { flatten, reshape } from './ops/reshape.js';
export { broadcastTo, mean, sum } from './ops/reduce.js';
export { scale } from './ops/scale.js';
export { softmax } from './ops/softmax.js';
export { softmaxCrossEntropy } from './ops/softmax-cross-entropy.js';
export { argmax } from './ops/argmax.js';
export { slice } from './ops/slice.js';
export { firstNonFinite, stepHealth } from './ops/finite-check.js';
export type { NonFinitePolicy, StepHealthAttrs } from './ops/finite-check.js';

export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
