// Which backend runs ops now. cpu is always there; webgpu is added by the WebGPU backend.
import { fail } from '../errors.js';
import type { Backend, BackendInfo, BackendName } from './backend.js';
import { cpuBackend } from './cpu.js';

type Factory = () => Promise<Backend>;

const factories = new Map<BackendName, Factory>([
  ['cpu', async () => cpuBackend],
  // Loaded on demand so cpu-only programs never load the GPU runtime.
  ['webgpu', async () => (await import('./webgpu.js')).createWebgpuBackend()],
]);
const instances = new Map<BackendName, Backend>([['cpu', cpuBackend]]);
let current: Backend = cpuBackend;

/** @internal Makes a backend available to setBackend(). */
export function registerBackend(name: BackendName, factory: Factory): void {
  factories.set(name, factory);
}

export function currentBackend(): Backend {
  return current;
}

/** Chooses the backend for tensors and ops created from now on. Throws clearly when unavailable. */
export async function setBackend(name: BackendName): Promise<BackendInfo> {
  const factory = factories.get(name);
  if (!factory) fail('setBackend', `unknown or unavailable backend '${name}' (available: ${[...factories.keys()].join(', ')})`);
  let backend = instances.get(name);
  if (!backend) {
    backend = await factory();
    instances.set(name, backend);
  }
  current = backend;
  return backend.info();
}

/**
 * Drops the backend's instance (its device is gone, say) and makes a fresh one current. Tensors
 * made on the old instance cannot be used on the new one.
 */
export async function resetBackend(name: BackendName): Promise<BackendInfo> {
  const old = instances.get(name);
  instances.delete(name);
  try {
    old?.destroy?.();
  } catch {
    // A lost device may refuse even to be destroyed; it is being dropped either way.
  }
  return setBackend(name);
}

export function getBackend(): BackendName {
  return current.name;
}

/** Which backend is active and, for webgpu, which adapter. */
export function backendInfo(): BackendInfo {
  return current.info();
}
