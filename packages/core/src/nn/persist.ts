// Saving a model's weights and architecture as safetensors, and rebuilding a model from them.
// The architecture travels as JSON in the file's metadata under 'filtro.architecture'.
import { FiltroError, fail } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '../io/safetensors.js';
import { fromHost } from '../ops/create.js';
import { assign } from '../tensor.js';
import { AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d, ReLU } from './layers.js';
import type { Layer } from './layers.js';
import { Sequential } from './sequential.js';

const ARCHITECTURE_KEY = 'filtro.architecture';

interface Architecture {
  format: 1;
  inputShape: number[];
  seed: number;
  layers: { kind: string; config: Record<string, unknown> }[];
}

const layerKinds: Record<string, (config: never) => Layer> = {
  Conv2d: (c) => new Conv2d(c),
  MaxPool2d: (c) => new MaxPool2d(c),
  AvgPool2d: (c) => new AvgPool2d(c),
  Dense: (c) => new Dense(c),
  Flatten: () => new Flatten(),
  ReLU: () => new ReLU(),
};

/** The model's weights (read back from the device) and architecture as safetensors bytes. */
export async function saveModel(model: Sequential): Promise<Uint8Array> {
  const named = model.namedParameters();
  const tensors = await Promise.all(
    named.map(async ([name, t]) => ({ name, dtype: 'F32' as const, shape: [...t.shape], data: (await t.data()) as Float32Array })),
  );
  const architecture: Architecture = {
    format: 1,
    inputShape: [...model.inputShape],
    seed: model.seed,
    layers: model.layers.map((l) => ({ kind: l.kind, config: l.config })),
  };
  return encodeSafetensors(tensors, { [ARCHITECTURE_KEY]: JSON.stringify(architecture) });
}

/** Rebuilds a model saved by saveModel(). Checks everything before changing anything. */
export function loadModel(bytes: Uint8Array): Sequential {
  let file;
  try {
    file = decodeSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) fail('nn.load', e.message);
    throw e;
  }
  const text = file.metadata[ARCHITECTURE_KEY];
  if (text === undefined) fail('nn.load', `the file has no '${ARCHITECTURE_KEY}' metadata: it was not saved by filtro`);
  let arch: Architecture;
  try {
    arch = JSON.parse(text) as Architecture;
  } catch {
    return fail('nn.load', `the '${ARCHITECTURE_KEY}' metadata is not valid JSON`);
  }
  if (arch?.format !== 1 || !Array.isArray(arch.layers)) fail('nn.load', `unsupported architecture format ${JSON.stringify(arch?.format)}`);
  let model: Sequential;
  try {
    const layers = arch.layers.map(({ kind, config }, i) => {
      const make = layerKinds[kind];
      if (!make) fail('nn.load', `layer ${i} has unknown kind '${kind}'`);
      return make(config as never);
    });
    model = new Sequential(layers, { inputShape: arch.inputShape, seed: arch.seed });
  } catch (e) {
    if (e instanceof FiltroError) fail('nn.load', `the architecture is invalid: ${e.message}`);
    throw e;
  }
  const named = model.namedParameters();
  const expected = new Set(named.map(([n]) => n));
  for (const name of file.tensors.keys()) if (!expected.has(name)) fail('nn.load', `the file has tensor '${name}', which the architecture does not have`);
  for (const [name, t] of named) {
    const saved = file.tensors.get(name);
    if (!saved) fail('nn.load', `the file lacks tensor '${name}'`);
    if (saved.dtype !== 'F32' || saved.shape.join(',') !== t.shape.join(',')) {
      fail('nn.load', `tensor '${name}' is ${saved.dtype} [${saved.shape}] but the architecture needs F32 [${t.shape}]`);
    }
  }
  for (const [name, t] of named) assign(t, fromHost(file.tensors.get(name)!.data as Float32Array, t));
  return model;
}
