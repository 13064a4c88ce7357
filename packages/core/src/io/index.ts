// Environment-neutral io exports.
export * from './safetensors.js';
