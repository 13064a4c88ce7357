// @filtro/kernels: the WebGPU runtime (device, buffer pool, pipeline cache, steps) and one wrapper
// per WGSL kernel family in shaders/. Knows buffers and dims, never tensors or autograd.

export const KERNELS_VERSION = '0.1.0';

export { createGpu, Gpu, type CreateGpuOptions } from './gpu.js';
export { acquireDevice, DEFAULT_SOFTWARE_ICD, REQUESTED_LIMITS, type AdapterInfo, type DeviceOptions } from './device.js';
export { BufferPool, GpuOutOfMemoryError, formatBytes, sizeClass, STORAGE_USAGE, UNIFORM_USAGE, READBACK_USAGE, type BufferPoolOptions } from './buffer-pool.js';
export { PipelineCache, type CachedPipeline } from './pipeline-cache.js';
export { Step, type DispatchArgs, type PipelineNeed, type StepHost, type Tuning } from './encoder.js';
export { Recording, type BufferCopy, type ReplayIO } from './recording.js';
export { defineKernel, type BindingKind, type Constants, type KernelDef } from './kernel.js';
export { UniformWriter, uniforms } from './uniforms.js';
export { foldGrid, groupsFor } from './grid.js';
export { newCounters, type Counters } from './counters.js';
export { loadShaderSources, shaderSourcesFromBundler, shaderSourcesFromFiles, type ShaderSources } from './shader-source.js';
export { windowDims, type WindowDims } from './window.js';

export * from './gemm.js';
export * from './im2col.js';
export * from './conv2d.js';
export * from './reduce.js';
export * from './pool.js';
export * from './elementwise.js';
export * from './loss.js';
export * from './optim.js';
export * from './finite.js';
