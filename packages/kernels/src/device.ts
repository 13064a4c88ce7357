// Finds a WebGPU adapter and device: navigator.gpu in a browser, Dawn (npm "webgpu") in Node.
// In Node a hardware adapter is tried first; failing that, Dawn is pointed at a software Vulkan
// driver (SwiftShader) through VK_ICD_FILENAMES.

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A guess: SwiftShader, llvmpipe, lavapipe, WARP or a fallback adapter. */
  isSoftware: boolean;
  /** 'browser' (navigator.gpu), 'dawn-node', or 'external' (a device passed to createGpu). */
  backend: 'browser' | 'dawn-node' | 'external';
  /** In Node, the Vulkan ICD file Dawn was pointed at, if any. */
  vulkanIcd?: string;
}

export interface DeviceOptions {
  powerPreference?: GPUPowerPreference;
  /** Node only: skip the hardware attempt and go straight to the software ICD. */
  forceSoftware?: boolean;
  /** Request the 'subgroups' feature where the adapter has it, for kernels to use (default true). */
  subgroups?: boolean;
}

export interface AcquiredDevice {
  device: GPUDevice;
  adapter: GPUAdapter;
  info: AdapterInfo;
  /** Kept alive with the device (Dawn's GPU instance must outlive it). */
  instance: GPU;
}

/** Limits requested at the adapter's maximum: the kernels' buffers and workgroups depend on them. */
export const REQUESTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxTextureDimension2D',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxBindGroups',
  'maxBindingsPerBindGroup',
] as const;

export const DEFAULT_SOFTWARE_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export async function acquireDevice(options: DeviceOptions = {}): Promise<AcquiredDevice> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  let found: { adapter: GPUAdapter; instance: GPU; backend: AdapterInfo['backend']; icd?: string };
  if (nav?.gpu) {
    const adapter = await nav.gpu.requestAdapter({ powerPreference: options.powerPreference });
    if (!adapter) {
      throw new Error(
        'filtro: navigator.gpu returned no adapter. WebGPU may be disabled or unsupported here; ' +
          'try a current Chrome/Edge (or enable WebGPU in chrome://flags).',
      );
    }
    found = { adapter, instance: nav.gpu, backend: 'browser' };
  } else if (isNode) {
    found = { ...(await nodeAdapter(options)), backend: 'dawn-node' };
  } else {
    throw new Error('filtro: WebGPU is not available (no navigator.gpu, and not Node).');
  }
  const { adapter } = found;
  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) {
    const value = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const requiredFeatures: GPUFeatureName[] = options.subgroups !== false && adapter.features.has('subgroups') ? ['subgroups'] : [];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'filtro' });
  return { device, adapter, instance: found.instance, info: describe(adapter, found.backend, found.icd) };
}

async function nodeAdapter(options: DeviceOptions): Promise<{ adapter: GPUAdapter; instance: GPU; icd?: string }> {
  let dawn: typeof import('webgpu');
  try {
    const name = 'webgpu';  // in a variable so browser bundlers leave it alone
    dawn = (await import(/* @vite-ignore */ name)) as typeof import('webgpu');
  } catch (e) {
    throw new Error(`filtro: cannot load the npm package "webgpu" (Dawn for Node): ${(e as Error).message}`);
  }
  // Dawn's WebGPU classes and constants (GPUBufferUsage, …) as globals, without replacing any.
  for (const [k, v] of Object.entries(dawn.globals as Record<string, unknown>)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const tried: string[] = [];
  const request = async (label: string) => {
    const instance = dawn.create([]);
    const adapter = await instance.requestAdapter({ powerPreference: options.powerPreference });
    tried.push(`${label}: ${adapter ? 'ok' : 'no adapter'}`);
    return adapter ? { adapter, instance } : undefined;
  };
  const preset = process.env.VK_ICD_FILENAMES;
  if (preset) {
    const got = await request(`Dawn with VK_ICD_FILENAMES=${preset} (set by the caller)`);
    if (got) return { ...got, icd: preset };
  } else {
    if (!options.forceSoftware) {
      const got = await request('Dawn, hardware adapters (no VK_ICD_FILENAMES)');
      if (got) return got;
    }
    const fsName = 'node:fs';
    const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs');
    const icd = process.env.FILTRO_VK_ICD || DEFAULT_SOFTWARE_ICD;
    if (fs.existsSync(icd)) {
      process.env.VK_ICD_FILENAMES = icd;  // read by the Vulkan loader when Dawn creates an instance
      const got = await request(`Dawn with VK_ICD_FILENAMES=${icd}`);
      if (got) return { ...got, icd };
      delete process.env.VK_ICD_FILENAMES;
    } else {
      tried.push(`software Vulkan ICD ${icd}: file not found`);
    }
  }
  throw new Error(
    `filtro: no WebGPU adapter found in Node. Tried:\n  - ${tried.join('\n  - ')}\n` +
      'Fix: install a software Vulkan driver (Debian/Ubuntu: `apt-get install chromium libvulkan1`, ' +
      `which provides ${DEFAULT_SOFTWARE_ICD}), or set FILTRO_VK_ICD (or VK_ICD_FILENAMES) to a ` +
      'Vulkan ICD json, e.g. SwiftShader\'s vk_swiftshader_icd.json.',
  );
}

function describe(adapter: GPUAdapter, backend: AdapterInfo['backend'], icd?: string): AdapterInfo {
  const i = adapter.info ?? ({} as GPUAdapterInfo);
  const info = {
    vendor: i.vendor ?? '',
    architecture: i.architecture ?? '',
    device: i.device ?? '',
    description: i.description ?? '',
  };
  const fallback = (i as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const text = Object.values(info).join(' ');
  const isSoftware = fallback || /swiftshader|llvmpipe|lavapipe|warp|software|basic render/i.test(text);
  return { ...info, isSoftware, backend, ...(icd ? { vulkanIcd: icd } : {}) };
}
