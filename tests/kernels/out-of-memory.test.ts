// A device out of memory (simulated: a wrapped Dawn device refuses buffers above 16 MiB): the next
// submit rejects naming the sizes, the pool is trimmed, the refused buffer is never reused, and the
// runtime keeps working. Steady-state steps push no out-of-memory error scope.

import { afterAll, describe, expect, it } from 'vitest';
import { acquireDevice, fill, formatBytes, GpuOutOfMemoryError } from '../../packages/kernels/src/index.js';
import { readF32, run, simulateOutOfMemory, useGpu } from './helpers.js';

const MiB = 2 ** 20;
const acquired = await acquireDevice();
const sim = simulateOutOfMemory(acquired.device, 16 * MiB);
const ctx = useGpu({ device: sim.device });
afterAll(() => acquired.device.destroy());

describe('out of memory', () => {
  it('formats sizes', () => {
    expect([100, 3 * 1024, 512 * MiB, 1.2 * 2 ** 30].map(formatBytes)).toEqual(['100 bytes', '3.0 KiB', '512.0 MiB', '1.2 GiB']);
  });

  it('the next submit and its reads reject with the sizes; the pool is trimmed; a later step that fits works', async () => {
    const { gpu } = ctx;
    const c = gpu.counters;
    // Something live and something pooled when the large buffer is asked for.
    const held = gpu.buffer(4 * MiB, 'held');
    for (const b of [gpu.buffer(MiB), gpu.buffer(MiB)]) gpu.release(b);
    const [live, pooled] = [c.bytesLive, c.bytesPooled];
    expect(pooled).toBeGreaterThanOrEqual(2 * MiB);

    const big = gpu.buffer(24 * MiB, 'activations 3×2048×1024');
    expect(sim.refused).toEqual([24 * MiB]);
    const step = gpu.step('too big');
    fill(step, { y: big }, 6 * MiB, 1);
    const read = step.read(big, 16);
    const submitted = step.submit();
    const message =
      `filtro: out of GPU memory creating a 24.0 MiB buffer (activations 3×2048×1024) with ${formatBytes(live)} live and ` +
      `${formatBytes(pooled)} pooled (maxBufferSize ${formatBytes(gpu.limits.maxBufferSize)}); free tensors (dispose) or use a smaller batch`;
    await expect(submitted).rejects.toThrow(message);
    await expect(read).rejects.toThrow(message);
    const error = await submitted.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuOutOfMemoryError);
    expect(error).toMatchObject({ bytes: 24 * MiB, size: 24 * MiB, bytesLive: live, bytesPooled: pooled, deviceMessage: expect.stringMatching(/simulated/) });
    expect(gpu.pool.lastOutOfMemory).toBe(error);
    expect(c.outOfMemoryErrors).toBe(1);

    // Trimmed: the 1 MiB buffers are gone (only the failed step's 256-byte readback buffer came back
    // since), so the next 1 MiB buffer is a new one; the refused buffer is destroyed, never pooled.
    expect(c.bytesPooled).toBeLessThan(MiB);
    const pooledNow = c.bytesPooled;
    gpu.release(big);
    expect(c.bytesPooled).toBe(pooledNow);
    const createdBefore = c.buffersCreated;
    const y = gpu.buffer(MiB);
    expect(c.buffersCreated).toBe(createdBefore + 1);

    // A step that fits works, and its submit does not report the old failure again.
    await run(gpu, (s) => fill(s, { y }, 1024, 2.5));
    expect([...(await readF32(gpu, y, 4))]).toEqual([2.5, 2.5, 2.5, 2.5]);
    expect(c.outOfMemoryErrors).toBe(1);
    for (const b of [y, held]) gpu.release(b);
  });

  it('a steady-state step creates no buffer and pushes no out-of-memory scope', async () => {
    const { gpu } = ctx;
    const y = gpu.buffer(4096);
    const once = () => run(gpu, (s) => fill(s, { y }, 1024, 1));
    await once();
    const [scopes, created] = [sim.oomScopes, gpu.counters.buffersCreated];
    await once();
    await once();
    expect(sim.oomScopes).toBe(scopes);
    expect(gpu.counters.buffersCreated).toBe(created);
    gpu.release(y);
  });
});
