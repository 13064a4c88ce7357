// Shader text reaches every environment identically: the Vite/vitest glob, the Node file reader,
// and plain `node` importing dist/ (when built). Every family has its header; every wrapper's
// entry point exists and every kernel compiles without errors.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as kernels from '../../packages/kernels/src/index.js';
import type { KernelDef } from '../../packages/kernels/src/index.js';
import { useGpu } from './helpers.js';

const ctx = useGpu();
const dist = fileURLToPath(new URL('../../packages/kernels/dist/shader-source.js', import.meta.url));

/** Every KernelDef exported by the package (the *_KERNELS tables and FINITE_KERNEL). */
function allKernels(): KernelDef[] {
  const out: KernelDef[] = [];
  const visit = (v: unknown) => {
    if (v && typeof v === 'object' && 'family' in v && 'entry' in v && 'bindings' in v) out.push(v as KernelDef);
    else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) Object.values(v).forEach(visit);
  };
  for (const [name, v] of Object.entries(kernels)) if (/KERNELS?$/.test(name)) visit(v);
  return out;
}

describe('shader sources', () => {
  it('the bundler (vitest) path and the file path return the same text', async () => {
    const inlined = kernels.shaderSourcesFromBundler();
    expect(inlined, 'vitest should inline shaders via import.meta.glob').toBeDefined();
    const files = await kernels.shaderSourcesFromFiles();
    expect(Object.keys(files).sort()).toEqual(Object.keys(inlined!).sort());
    expect(files).toEqual(inlined);
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['common', 'gemm', 'im2col', 'conv', 'reduce', 'pool', 'elementwise', 'loss', 'optim', 'finite']));
  });

  it.skipIf(!existsSync(dist))('plain node importing dist/ reads the same text', async () => {
    const script = `import(${JSON.stringify(dist)}).then(async (m) => process.stdout.write(JSON.stringify(await m.loadShaderSources())))`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(await kernels.shaderSourcesFromFiles());
  });

  it('every family opens with a header comment (purpose, bindings, grid)', async () => {
    const files = await kernels.shaderSourcesFromFiles();
    for (const [family, text] of Object.entries(files)) {
      expect(text.startsWith(`// ${family}.wgsl: `), family).toBe(true);
      if (['common', 'subgroups', 'no_subgroups'].includes(family)) continue; // preludes: no kernels
      const header = text.slice(0, text.search(/^[^/\n]/m));
      expect(header, family).toMatch(/Bindings/);
      expect(header, family).toMatch(/Grid/);
      expect(header, family).toMatch(/Lowered to by/);
    }
  });

  it('every wrapper entry point exists and compiles (async warm-up)', async () => {
    const { gpu } = ctx;
    const files = await kernels.shaderSourcesFromFiles();
    const list = allKernels();
    expect(list.length).toBeGreaterThanOrEqual(20);
    for (const k of list) expect(files[k.family], k.family).toMatch(new RegExp(`fn ${k.entry}\\(`));
    await Promise.all(list.map((k) => gpu.pipelines.warm(k)));
  });
});
