// Saving a model (weights + architecture, optionally the optimizer's state and training progress)
// as safetensors, and rebuilding it. Metadata keys: 'filtro.architecture', 'filtro.optimizer',
// 'filtro.progress' (JSON). Loading checks everything against the file before allocating or
// changing anything, so a bad file leaves no half-loaded model.
import { FiltroError, fail } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '../io/safetensors.js';
import type { DecodedTensor, SafetensorsInput } from '../io/safetensors.js';
import { tensor } from '../ops/create.js';
import type { Tensor } from '../tensor.js';
import { Adam } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { SGD } from '../optim/sgd.js';
import { AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d, ReLU } from './layers.js';
import type { Layer } from './layers.js';
import { Sequential } from './sequential.js';

const ARCHITECTURE = 'filtro.architecture';
const OPTIMIZER = 'filtro.optimizer';
const PROGRESS = 'filtro.progress';

interface Architecture {
  format: 1;
  inputShape: number[];
  seed: number;
  layers: { kind: string; config: Record<string, unknown> }[];
}

interface OptimizerRecord {
  kind: Optimizer['kind'];
  config: Record<string, number>;
  steps: number;
}

const layerKinds: Record<string, (config: never) => Layer> = {
  Conv2d: (c) => new Conv2d(c),
  MaxPool2d: (c) => new MaxPool2d(c),
  AvgPool2d: (c) => new AvgPool2d(c),
  Dense: (c) => new Dense(c),
  Flatten: () => new Flatten(),
  ReLU: () => new ReLU(),
};

export interface SaveOptions {
  /** Also save this optimizer's state (momentum, moments, step count) for resuming training. */
  optimizer?: Optimizer;
  /** Numbers to keep with the checkpoint, such as { epoch: 3 }. */
  progress?: Record<string, number>;
}

export interface Checkpoint {
  model: Sequential;
  /** The optimizer with its state, when the file has one. */
  optimizer: Optimizer | null;
  progress: Record<string, number>;
}

const stateName = (slot: string, param: string) => `optimizer.${slot}.${param}`;

/** Weights (read back from the device), architecture and optionally optimizer state as safetensors. */
export async function saveModel(model: Sequential, options: SaveOptions = {}): Promise<Uint8Array> {
  const named = model.namedParameters();
  const entries: [string, Tensor][] = [...named];
  const metadata: Record<string, string> = {
    [ARCHITECTURE]: JSON.stringify({
      format: 1,
      inputShape: [...model.inputShape],
      seed: model.seed,
      layers: model.layers.map((l) => ({ kind: l.kind, config: l.config })),
    } satisfies Architecture),
  };
  const { optimizer, progress } = options;
  if (optimizer) {
    const names = new Map(named.map(([name, t]) => [t, name]));
    for (const { slot, param, tensor: t } of optimizer.stateTensors()) {
      const name = names.get(param);
      if (!name) fail('save', `the optimizer holds state for a tensor that is not a parameter of this model`);
      entries.push([stateName(slot, name), t]);
    }
    metadata[OPTIMIZER] = JSON.stringify({ kind: optimizer.kind, config: optimizer.config(), steps: optimizer.steps } satisfies OptimizerRecord);
  }
  if (progress) metadata[PROGRESS] = JSON.stringify(progress);
  const tensors: SafetensorsInput[] = await Promise.all(
    entries.map(async ([name, t]) => ({ name, dtype: 'F32' as const, shape: [...t.shape], data: (await t.data()) as Float32Array })),
  );
  return encodeSafetensors(tensors, metadata);
}

function parseJson<T>(metadata: Record<string, string>, key: string): T | undefined {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fail('nn.load', `the '${key}' metadata is not valid JSON`);
  }
}

function decode(bytes: Uint8Array) {
  if (!(bytes instanceof Uint8Array)) fail('nn.load', `expects the file as a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  try {
    return decodeSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) fail('nn.load', e.message);
    throw e;
  }
}

function buildOptimizer(record: OptimizerRecord): Optimizer {
  if (!Number.isInteger(record?.steps) || record.steps < 0) fail('nn.load', `the optimizer's step count ${JSON.stringify(record?.steps)} is not a non-negative integer`);
  const make = { SGD: () => new SGD(record.config as never), Adam: () => new Adam(record.config as never) }[record.kind];
  if (!make) fail('nn.load', `unknown optimizer kind ${JSON.stringify(record.kind)}`);
  const optimizer = make();
  optimizer.steps = record.steps;
  return optimizer;
}

/** Rebuilds a model, and the optimizer with its state when saved, from saveModel() bytes. */
export function loadCheckpoint(bytes: Uint8Array): Checkpoint {
  const file = decode(bytes);
  const arch = parseJson<Architecture>(file.metadata, ARCHITECTURE);
  if (arch === undefined) fail('nn.load', `the file has no '${ARCHITECTURE}' metadata: it was not saved by filtro`);
  if (arch?.format !== 1 || !Array.isArray(arch.layers)) fail('nn.load', `unsupported architecture format ${JSON.stringify(arch?.format)}`);
  const record = parseJson<OptimizerRecord>(file.metadata, OPTIMIZER);
  const progress = parseJson<Record<string, number>>(file.metadata, PROGRESS) ?? {};

  const weights = new Map<string, DecodedTensor>();
  const states = new Map<string, DecodedTensor>();
  for (const [name, t] of file.tensors) {
    if (t.dtype !== 'F32') fail('nn.load', `tensor '${name}' is ${t.dtype}; filtro saves F32`);
    (name.startsWith('optimizer.') ? states : weights).set(name, t);
  }
  if (states.size && !record) fail('nn.load', `the file has optimizer state but no '${OPTIMIZER}' metadata`);
  let optimizer: Optimizer | null = null;
  let model: Sequential;
  try {
    const layers = arch.layers.map(({ kind, config }, i) => {
      const make = layerKinds[kind];
      if (!make) fail('nn.load', `layer ${i} has unknown kind '${kind}'`);
      return make(config as never);
    });
    optimizer = record ? buildOptimizer(record) : null;
    // Validate the optimizer state against the parameters' shapes before the model allocates.
    if (optimizer) checkStates(states, weights, optimizer);
    model = new Sequential(layers, { inputShape: arch.inputShape, seed: arch.seed, weights: weights as Map<string, { shape: number[]; data: Float32Array }> });
  } catch (e) {
    if (e instanceof FiltroError && !e.message.startsWith('nn.load')) fail('nn.load', `the file does not match its architecture: ${e.message}`);
    throw e;
  }
  if (optimizer) {
    for (const [name, param] of model.namedParameters()) {
      for (const slot of optimizer.slotNames) {
        const saved = states.get(stateName(slot, name));
        if (saved) optimizer.setState(slot, param, tensor(saved.data as Float32Array, [...saved.shape]));
      }
    }
  }
  return { model, optimizer, progress };
}

function checkStates(states: Map<string, DecodedTensor>, weights: Map<string, DecodedTensor>, optimizer: Optimizer): void {
  for (const [name, t] of states) {
    const match = /^optimizer\.([^.]+)\.(.+)$/.exec(name);
    const slot = match?.[1] ?? '';
    const param = weights.get(match?.[2] ?? '');
    if (!match || !optimizer.slotNames.includes(slot) || !param) fail('nn.load', `tensor '${name}' is not state of a ${optimizer.kind} optimizer for a saved parameter`);
    if (t.shape.join(',') !== param.shape.join(',')) fail('nn.load', `optimizer state '${name}' is [${t.shape}] but its parameter is [${param.shape}]`);
  }
}

/** Rebuilds a model from saveModel() bytes (any optimizer state in the file is ignored). */
export function loadModel(bytes: Uint8Array): Sequential {
  const { model, optimizer } = loadCheckpoint(bytes);
  optimizer?.dispose();
  return model;
}
