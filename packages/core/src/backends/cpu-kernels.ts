// The fast cpu path: blocked im2col + GEMM for the heavy ops, checked against each op's reference.
import type { HostArray, TensorSpec } from '../types.js';

type Kernel = (inputs: HostArray[], inputSpecs: readonly TensorSpec[], attrs: unknown, outputSpecs: readonly TensorSpec[]) => HostArray[];

export const fastKernels = new Map<string, Kernel>();
