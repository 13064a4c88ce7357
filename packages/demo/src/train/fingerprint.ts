// A fingerprint of what training would continue from: the step, a hash of every weight and a hash of
// the optimizer's state (its step count and moments), read back from the backend. Two equal
// fingerprints mean bit-identical weights and optimizer state. The page publishes it as
// window.__trainDebug.fingerprint() for tests/e2e/checkpoint.e2e.test.ts; nothing else calls it.
import type * as f from '@filtro/core';

export interface Fingerprint {
  step: number;
  weights: string;
  optimizerSteps: number | null;
  optimizerState: string | null;
}

/** FNV-1a (32 bits) over the bytes of each array in turn, as 8 hex digits. */
function hashArrays(arrays: ArrayBufferView[]): string {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** Reads the tensors back; call it inside the trainer's GPU lock. */
export async function fingerprint(model: f.nn.Sequential, optimizer: f.optim.Optimizer | null, step: number): Promise<Fingerprint> {
  const weights = await Promise.all(model.parameters().map((t) => t.data()));
  // The state in the model's parameter order, so the hash does not depend on the optimizer's own order.
  const order = new Map(model.parameters().map((t, i) => [t, i]));
  const states = (optimizer?.stateTensors() ?? []).sort((a, b) => (order.get(a.param) ?? 0) - (order.get(b.param) ?? 0) || a.slot.localeCompare(b.slot));
  const stateData = await Promise.all(states.map((s) => s.tensor.data()));
  return {
    step,
    weights: hashArrays(weights),
    optimizerSteps: optimizer ? optimizer.steps : null,
    optimizerState: optimizer ? hashArrays(stateData) : null,
  };
}
