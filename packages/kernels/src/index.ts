// @filtro/kernels: the WebGPU runtime and one wrapper per WGSL kernel family (see the WebGPU issue).
export const KERNELS_VERSION = '0.1.0';
