// The cpu backend: runs each op on typed arrays at once. conv2d, its gradients and matmul take the
// im2col + GEMM path of cpu-fast/ (GEMM on WebAssembly SIMD where available), sums over leading
// axes a direct loop; every other op runs its reference loops.
import type { OpDef } from '../ops/define-op.js';
import type { HostArray, TensorSpec } from '../types.js';
import type { Backend, Storage } from './backend.js';
import { fastKernels } from './cpu-kernels.js';
import { simdGemmAvailable } from './cpu-fast/gemm-simd.js';

let fastPath = true;

/** Tests switch the fast path off to run every op on its reference loops (the oracle). */
export function setCpuFastPath(enabled: boolean): void {
  fastPath = enabled;
}

export const cpuBackend: Backend = {
  name: 'cpu',
  info: () => ({
    name: 'cpu',
    description: simdGemmAvailable() ? 'cpu (JavaScript, GEMM on WebAssembly SIMD, main thread)' : 'cpu (JavaScript, main thread)',
  }),
  upload: (data: HostArray) => data.slice(),
  run(op: OpDef<unknown>, inputs: Storage[], inputSpecs: readonly TensorSpec[], attrs: unknown, outputSpecs: readonly TensorSpec[]): Storage[] {
    const arrays = inputs as HostArray[];
    const fast = fastPath ? fastKernels.get(op.name) : undefined;
    return fast ? fast(arrays, inputSpecs, attrs as never, outputSpecs) : op.reference(arrays, inputSpecs, attrs, outputSpecs);
  },
  release: () => {},
  flush: () => {},
  read: async (storage: Storage) => (storage as HostArray).slice(),
};
