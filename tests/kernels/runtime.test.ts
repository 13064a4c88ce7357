// The runtime: adapter info and limits, buffer pool reuse and counters, one submit per step,
// uniform arena, readbacks, WGSL compile errors with their log, argument checks, device loss.

import { describe, expect, it } from 'vitest';
import {
  acquireDevice, createGpu, defineKernel, fill, REQUESTED_LIMITS, sizeClass, unary, UNIFORM_USAGE,
} from '../../packages/kernels/src/index.js';
import { random, readF32, run, useGpu } from './helpers.js';

const ctx = useGpu();
const rand = random(8);

describe('device', () => {
  it('reports adapter info and requests the adapter limits', () => {
    const { gpu } = ctx;
    const { info } = gpu;
    for (const k of ['vendor', 'architecture', 'device', 'description'] as const) expect(typeof info[k]).toBe('string');
    expect(info.backend).toBe('dawn-node');
    if (/swiftshader/i.test(`${info.architecture} ${info.description}`)) expect(info.isSoftware).toBe(true);
    console.info('filtro kernels adapter:', JSON.stringify(info));
    const adapterLimits = gpu.source!.adapter.limits as unknown as Record<string, number>;
    const deviceLimits = gpu.device.limits as unknown as Record<string, number>;
    for (const name of REQUESTED_LIMITS) expect(deviceLimits[name], name).toBe(adapterLimits[name]);
  });
});

describe('no adapter', () => {
  it('says what was tried and how to fix it', async () => {
    const saved = { icd: process.env.VK_ICD_FILENAMES, filtro: process.env.FILTRO_VK_ICD };
    delete process.env.VK_ICD_FILENAMES;
    process.env.FILTRO_VK_ICD = '/nonexistent/vk_icd.json';
    try {
      await expect(acquireDevice({ forceSoftware: true })).rejects.toThrow(
        /no WebGPU adapter found in Node[^]*\/nonexistent\/vk_icd\.json: file not found[^]*apt-get install chromium libvulkan1[^]*FILTRO_VK_ICD/,
      );
    } finally {
      if (saved.icd !== undefined) process.env.VK_ICD_FILENAMES = saved.icd;
      if (saved.filtro !== undefined) process.env.FILTRO_VK_ICD = saved.filtro;
      else delete process.env.FILTRO_VK_ICD;
    }
  });
});

describe('buffer pool', () => {
  it('size classes', () => {
    expect([1, 256, 257, 1000, 1024, 1025, 1280, 1281, 5000].map(sizeClass)).toEqual(
      [256, 256, 512, 1024, 1024, 1280, 1280, 1536, 5120],
    );
    for (let b = 1; b < 1e6; b = Math.ceil(b * 1.37)) {
      const s = sizeClass(b);
      expect(s).toBeGreaterThanOrEqual(b);
      expect(s % 256).toBe(0);
      expect(s <= 256 || s < b * 1.25 + 256).toBe(true);
    }
  });

  it('reuses a released buffer: buffersCreated stays flat', () => {
    const { gpu } = ctx;
    const c = gpu.counters;
    const a = gpu.buffer(3000);
    const created = c.buffersCreated;
    const live = c.bytesLive;
    gpu.release(a);
    expect(c.bytesLive).toBe(live - a.size);
    const pooled = c.bytesPooled;
    const b = gpu.buffer(2900);             // same size class
    expect(b).toBe(a);
    expect(c.buffersCreated).toBe(created);
    expect(c.bytesPooled).toBe(pooled - a.size);
    expect(c.bytesLive).toBe(live);
    const u = gpu.pool.acquire(3000, UNIFORM_USAGE);   // other usage: another list
    expect(u).not.toBe(b);
    gpu.pool.release(u);
    gpu.release(b);
    expect(() => gpu.release(b)).toThrow(/released twice/);
  });
});

describe('steps', () => {
  it('records several dispatches and submits once; steady state creates nothing', async () => {
    const { gpu } = ctx;
    const c = gpu.counters;
    const n = 100;
    const x = gpu.upload(rand(n));
    const y = gpu.buffer(n * 4);
    const z = gpu.buffer(n * 4);
    const record = () => {
      const step = gpu.step('three');
      unary(step, 'relu', { x, y }, n);
      unary(step, 'neg', { x: y, y: z }, n);
      fill(step, { y: x }, n, 1);
      expect(step.dispatchCount).toBe(3);
      return step;
    };
    await record().submit();   // warm: pipelines and the uniform buffer now exist
    const before = { ...c };
    await record().submit();
    expect(c.submits - before.submits).toBe(1);
    expect(c.dispatches - before.dispatches).toBe(3);
    expect(c.buffersCreated - before.buffersCreated).toBe(0);
    expect(c.pipelinesCompiled - before.pipelinesCompiled).toBe(0);
    expect(c.bytesLive).toBe(before.bytesLive);
    expect([...(await readF32(gpu, x, 3))]).toEqual([1, 1, 1]);
    expect(c.readbacks - before.readbacks).toBe(1);
    expect(c.submits - before.submits).toBe(2);   // a readback is its own submit
    for (const b of [x, y, z]) gpu.release(b);
  });

  it('gives each dispatch its own uniforms (arena growth) and reads within the step', async () => {
    const { gpu } = ctx;
    const count = 40;   // 40 × 256-byte slots outgrow the initial arena
    const outs = Array.from({ length: count }, () => gpu.buffer(4 * 5));
    const step = gpu.step('many');
    outs.forEach((y, i) => fill(step, { y }, 5, i + 0.5));
    const reads = outs.map((y) => step.read(y, 20));
    const submits = gpu.counters.submits;
    await step.submit();
    expect(gpu.counters.submits - submits).toBe(1);
    const data = await Promise.all(reads);
    data.forEach((d, i) => expect([...new Float32Array(d)]).toEqual(new Array(5).fill(i + 0.5)));
    outs.forEach((b) => gpu.release(b));
  });

  it('releases temporaries after submit, and refuses a second submit', async () => {
    const { gpu } = ctx;
    const live = gpu.counters.bytesLive;
    const step = gpu.step();
    const t = step.temporary(1000);
    fill(step, { y: t }, 250, 2);
    expect(gpu.counters.bytesLive).toBeGreaterThan(live);
    await step.submit();
    expect(gpu.counters.bytesLive).toBe(live);
    expect(() => step.submit()).toThrow(/already submitted/);
  });

  it('checks buffer sizes and dims in the wrappers', async () => {
    const { gpu } = ctx;
    const small = gpu.buffer(16);
    const step = gpu.step();
    expect(() => unary(step, 'relu', { x: small, y: small }, 1000)).toThrow(/needs 4000 bytes/);
    expect(() => fill(step, { y: small }, 2.5, 0)).toThrow(/integer/);
    await step.submit();
    gpu.release(small);
  });
});

describe('pipeline cache', () => {
  it('a WGSL compile error surfaces with the family name and the compile log', async () => {
    const { gpu } = ctx;
    gpu.pipelines.setFamilySource('broken', [
      '// broken.wgsl: a test family',
      '@group(0) @binding(0) var<storage, read_write> y: array<f32>;',
      '@compute @workgroup_size(1) fn main() { y[0] = undefined_name; }',
    ].join('\n'));
    const kernel = defineKernel('broken', 'main', ['write']);
    const step = gpu.step();
    step.dispatch(kernel, { buffers: [gpu.scratch(0)], workgroups: 1 });
    const error = await step.submit().then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/WGSL compile error in shader family "broken"/);
    expect(error?.message).toMatch(/broken\.wgsl:3:\d+: .*undefined_name/);   // line of the family file
    await expect(gpu.pipelines.warm(kernel, { X: 1 })).rejects.toThrow(/shader family "broken"/);
    // Once known, later steps fail fast without submitting.
    const again = gpu.step();
    again.dispatch(kernel, { buffers: [gpu.scratch(0)], workgroups: 1 });
    const submits = gpu.counters.submits;
    await expect(again.submit()).rejects.toThrow(/broken/);
    expect(gpu.counters.submits).toBe(submits);
  });

  it('an unknown override or entry point is an error naming the pipeline', async () => {
    const { gpu } = ctx;
    const step = gpu.step();
    step.dispatch(defineKernel('elementwise', 'fill', ['write', 'uniform']), {
      buffers: [gpu.scratch(0)], uniforms: new Uint8Array(16), constants: { NOT_AN_OVERRIDE: 1 }, workgroups: 1,
    });
    await expect(step.submit()).rejects.toThrow(/elementwise\/fill.*NOT_AN_OVERRIDE/s);
    expect(() => gpu.step().dispatch(defineKernel('nope', 'main', []), { buffers: [], workgroups: 1 })).toThrow(/no WGSL family "nope"/);
  });

  it('caches by key and warms asynchronously', async () => {
    const { gpu } = ctx;
    const kernel = defineKernel('elementwise', 'unary', ['read', 'write', 'uniform']);
    const compiled = gpu.counters.pipelinesCompiled;
    const p = await gpu.pipelines.warm(kernel, { OP: 7, WG: 128 });
    expect(gpu.counters.pipelinesCompiled).toBe(compiled + 1);
    expect(gpu.pipelines.get(kernel, { WG: 128, OP: 7 })).toBe(p);   // key ignores constant order
    expect(gpu.counters.pipelinesCompiled).toBe(compiled + 1);
  });
});

describe('device loss', () => {
  it('refuses work after the device is lost, and after destroy()', async () => {
    const other = await createGpu();
    const buffer = other.buffer(64);
    other.device.destroy();   // what a lost device looks like to the runtime
    await other.device.lost;
    await new Promise((r) => setTimeout(r, 0));
    expect(other.lost?.reason).toBe('destroyed');
    expect(() => other.step()).toThrow(/device was lost/);
    expect(() => other.buffer(16)).toThrow(/device was lost/);
    await expect(other.read(buffer, 64)).rejects.toThrow(/device was lost/);

    const third = await createGpu();
    const step = third.step();
    third.destroy();
    expect(() => step.submit()).toThrow(/destroyed/);
    expect(() => third.step()).toThrow(/destroyed/);
  });
});

describe('error scopes', () => {
  it('run() resolves only when the step validated', async () => {
    const { gpu } = ctx;
    const b = gpu.buffer(16);
    // Reading past the end of a buffer is a validation error: it must reject, not pass silently.
    await expect(run(gpu, (s) => void s.read(b, 4096).catch(() => {}))).rejects.toThrow(/validation/);
    gpu.release(b);
  });
});
