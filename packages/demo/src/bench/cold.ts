// Cold start: page load → first finished LeNet training step, in fresh iframes per library
// (bench.html?cold=<backend>), so module loading, backend/device creation, pipeline compilation and
// JIT tracing all count; generating the batch (data loading) is timed and subtracted. The clock is
// the frame's own performance.now(), which starts at its navigation.
//
// Before the measured frame, a "prime" frame (…&prime=1) imports the same modules without creating
// any device or running anything: the dev server then has them transformed and the HTTP cache has
// them, as for a returning visitor, alike for every library, and no GPU pipeline is compiled early.
import { lenetData } from './data.ts';
import type { BackendId } from './types.ts';

export interface ColdMessage {
  type: 'filtro-bench-cold';
  id: BackendId;
  prime: boolean;
  ok: boolean;
  error?: string;
  /** Navigation → first step finished, minus data generation (ms). */
  totalMs?: number;
  /** Navigation → this module running (HTML, entry script). */
  scriptMs?: number;
  importMs?: number;
  initMs?: number;
  stepMs?: number;
  dataMs?: number;
  loss?: number;
}

/** Imports the library's module graph only (prime frames). */
async function importOnly(id: BackendId): Promise<void> {
  switch (id) {
    case 'filtro-webgpu':
      await import('./filtro.ts');
      // The webgpu backend is loaded on demand by setBackend; load its modules too (no device).
      await import('../../../core/src/backends/webgpu.ts');
      return;
    case 'filtro-cpu':
      await import('./filtro.ts');
      return;
    case 'tfjs-webgpu':
      await Promise.all([import('./tfjs.ts'), import('@tensorflow/tfjs'), import('@tensorflow/tfjs-backend-webgpu')]);
      return;
    case 'tfjs-webgl':
    case 'tfjs-cpu':
      await Promise.all([import('./tfjs.ts'), import('@tensorflow/tfjs')]);
      return;
    case 'tfjs-wasm':
      await Promise.all([import('./tfjs.ts'), import('@tensorflow/tfjs'), import('@tensorflow/tfjs-backend-wasm')]);
      return;
    case 'jax-webgpu':
    case 'jax-wasm':
      await Promise.all([import('./jax.ts'), import('@jax-js/jax')]);
      return;
    case 'convnetjs':
      await Promise.all([import('./convnet.ts'), import('convnetjs')]);
      return;
  }
}

async function firstStep(id: BackendId): Promise<Omit<ColdMessage, 'type' | 'id' | 'prime' | 'ok' | 'scriptMs' | 'totalMs'>> {
  let t = performance.now();
  const data = lenetData(64);
  const dataMs = performance.now() - t;
  t = performance.now();
  let step: () => Promise<{ initMs: number; loss: number }>;
  switch (id) {
    case 'filtro-webgpu':
    case 'filtro-cpu': {
      const m = await import('./filtro.ts');
      step = () => m.filtroColdStep(id === 'filtro-webgpu' ? 'webgpu' : 'cpu', data);
      break;
    }
    case 'tfjs-webgpu':
    case 'tfjs-webgl':
    case 'tfjs-wasm':
    case 'tfjs-cpu': {
      const m = await import('./tfjs.ts');
      step = () => m.tfjsColdStep(id.slice(5) as 'webgpu' | 'webgl' | 'wasm' | 'cpu', data);
      break;
    }
    case 'jax-webgpu':
    case 'jax-wasm': {
      const m = await import('./jax.ts');
      step = () => m.jaxColdStep(id === 'jax-webgpu' ? 'webgpu' : 'wasm', data);
      break;
    }
    case 'convnetjs': {
      const m = await import('./convnet.ts');
      step = () => m.convnetColdStep(data);
      break;
    }
  }
  const importMs = performance.now() - t;
  t = performance.now();
  const { initMs, loss } = await step();
  const stepMs = performance.now() - t - initMs;
  return { dataMs, importMs, initMs, stepMs, loss };
}

/** Runs inside the iframe: measures and posts a ColdMessage to the parent page. */
export async function runColdFrame(id: BackendId, prime: boolean): Promise<void> {
  const scriptMs = performance.now();
  let message: ColdMessage;
  try {
    if (prime) {
      await importOnly(id);
      message = { type: 'filtro-bench-cold', id, prime, ok: true, scriptMs };
    } else {
      const r = await firstStep(id);
      const totalMs = performance.now() - r.dataMs!;
      if (!Number.isFinite(r.loss)) throw new Error(`first step gave loss ${r.loss}`);
      message = { type: 'filtro-bench-cold', id, prime, ok: true, scriptMs, totalMs, ...r };
    }
  } catch (e) {
    message = { type: 'filtro-bench-cold', id, prime, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  document.body.textContent = JSON.stringify(message);
  parent.postMessage(message, location.origin);
}

/** Parent side: loads bench.html?cold=<id> in a fresh iframe and waits for its message. */
export function coldFrame(host: HTMLElement, id: BackendId, prime: boolean, timeoutMs: number): Promise<ColdMessage> {
  return new Promise((resolve, reject) => {
    const frame = document.createElement('iframe');
    frame.className = 'cold-frame';
    frame.title = `cold start ${id}`;
    const done = (fn: () => void) => {
      clearTimeout(timer);
      window.removeEventListener('message', onMessage);
      frame.remove();
      fn();
    };
    const onMessage = (event: MessageEvent) => {
      const m = event.data as ColdMessage;
      if (event.source !== frame.contentWindow || m?.type !== 'filtro-bench-cold' || m.id !== id || m.prime !== prime) return;
      done(() => resolve(m));
    };
    const timer = setTimeout(() => done(() => reject(new Error(`no result from the cold-start frame after ${timeoutMs / 1000} s`))), timeoutMs);
    window.addEventListener('message', onMessage);
    const url = new URL(location.href);
    url.search = '';
    url.searchParams.set('cold', id);
    if (prime) url.searchParams.set('prime', '1');
    frame.src = url.toString();
    host.appendChild(frame);
  });
}
