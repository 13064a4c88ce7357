// Sequential: layers applied in order, with the training step, prediction and evaluation.
import { gradients } from '../autograd.js';
import { currentBackend } from '../backends/registry.js';
import { FiltroError, checkInt, checkOptions, fail } from '../errors.js';
import { argmax } from '../ops/argmax.js';
import { tensor } from '../ops/create.js';
import { checkNonFinitePolicy } from '../ops/finite-check.js';
import type { NonFinitePolicy } from '../ops/finite-check.js';
import { slice } from '../ops/slice.js';
import { softmaxCrossEntropy } from '../ops/softmax-cross-entropy.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Rng } from '../rng.js';
import { realize } from '../scheduler.js';
import { Tensor } from '../tensor.js';
import { formatShape, sizeOf } from '../types.js';
import { CapturedStep } from './captured-step.js';
import type { Layer, LayerShapeInfo } from './layers.js';
import { initialValues } from './init.js';
import { saveModel } from './persist.js';
import type { SaveOptions } from './persist.js';

export interface SequentialOptions {
  /** One example's shape: [H, W, C] for images. */
  inputShape: number[];
  /** Seeds the weight initialisation (default 0). */
  seed?: number;
  /**
   * Starting values by qualified name ('conv2d_1.weight') instead of the seeded initialisation
   * (loading a saved model). Every parameter must be given, with its exact shape.
   */
  weights?: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>;
}

export interface CompileOptions extends TrainStepOptions {
  /** Examples per training batch (pipelines may differ with the batch size). */
  batchSize: number;
  /** Called as each pipeline becomes ready. */
  onProgress?: (done: number, total: number) => void;
  /** Also compile what trainStepWithPredictions adds (the argmax of the outputs). */
  predictions?: boolean;
}

export interface TrainStepOptions {
  /** What a step whose loss or a gradient is NaN or ±Inf does: 'stop' (default) or 'skip' (see trainStep). */
  onNonFinite?: NonFinitePolicy;
}

interface BuiltLayer {
  layer: Layer;
  name: string;
  inputShape: number[];
  info: LayerShapeInfo;
}

export class Sequential {
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly seed: number;
  private readonly built: BuiltLayer[] = [];
  /** Recorded training steps by batch shape and policy (the full batch and an epoch's last, smaller one). */
  private readonly captures = new Map<string, CapturedStep>();

  constructor(readonly layers: Layer[], options: SequentialOptions) {
    checkOptions('Sequential', options, ['inputShape', 'seed', 'weights']);
    if (!Array.isArray(layers) || layers.length === 0) fail('Sequential', 'needs a non-empty array of layers');
    if (!options || !Array.isArray(options.inputShape) || options.inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
      fail('Sequential', `inputShape must be positive integers such as [28, 28, 1], got ${JSON.stringify(options?.inputShape)}`);
    }
    this.seed = options.seed ?? 0;
    this.inputShape = [...options.inputShape];
    const counts = new Map<string, number>();
    let shape = [...options.inputShape];
    layers.forEach((layer, i) => {
      const index = (counts.get(layer.kind) ?? 0) + 1;
      counts.set(layer.kind, index);
      const name = `${layer.kind.toLowerCase()}_${index}`;
      let info: LayerShapeInfo;
      try {
        info = layer.build(shape);
      } catch (e) {
        if (e instanceof FiltroError) fail('Sequential', `layer ${i} (${name}) with input [${shape}]: ${e.message}`);
        throw e;
      }
      this.built.push({ layer, name, inputShape: shape, info });
      shape = info.outputShape;
    });
    this.outputShape = shape;
    this.createParameters(options.weights);
  }

  /** Checks every given weight against the specs before allocating anything, then binds them. */
  private createParameters(weights: SequentialOptions['weights']): void {
    const specs = this.built.flatMap(({ name, info }) => (info.params ?? []).map((spec) => ({ qualified: `${name}.${spec.name}`, spec })));
    if (weights) {
      const known = new Set(specs.map((s) => s.qualified));
      for (const name of weights.keys()) if (!known.has(name)) fail('Sequential', `weights has '${name}', which the architecture does not have`);
      for (const { qualified, spec } of specs) {
        const given = weights.get(qualified);
        if (!given) fail('Sequential', `weights lacks '${qualified}'`);
        if (given.shape.join(',') !== spec.shape.join(',') || given.data.length !== spec.shape.reduce((a, b) => a * b, 1)) {
          fail('Sequential', `weight '${qualified}' is [${given.shape}] but the architecture needs [${spec.shape}]`);
        }
      }
    }
    const rng = new Rng(this.seed);
    for (const { layer, name, info } of this.built) {
      const params = (info.params ?? []).map((spec) => tensor(weights?.get(`${name}.${spec.name}`)!.data ?? initialValues(spec, rng), spec.shape));
      layer.bind(params);
    }
  }

  /** Parameters by qualified name ('conv2d_1.weight'), in layer order. */
  namedParameters(): [string, Tensor][] {
    return this.built.flatMap(({ layer, name }) => layer.parameters().map(([local, t]): [string, Tensor] => [`${name}.${local}`, t]));
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** The lazy forward pass of a batch [N, ...inputShape]. */
  forward(x: Tensor): Tensor {
    const want = this.inputShape;
    if (x.rank !== want.length + 1 || want.some((d, i) => x.shape[i + 1] !== d)) {
      fail('Sequential', `input must be [N, ${want.join(', ')}], got ${formatShape(x.shape)}`);
    }
    return this.built.reduce((h, { layer }) => layer.forward(h), x);
  }

  /** Runs the model on a batch now and returns its outputs (logits for the default head). */
  predict(x: Tensor): Tensor {
    const y = this.forward(x);
    realize([y]);
    return y;
  }

  /**
   * Forward, loss, backward and update, submitted together. Returns the (realized) loss; nothing is
   * read back. The loss and the gradients are checked on the device: a step where any is NaN or
   * ±Inf changes no parameter or optimizer state, and with onNonFinite 'stop' (default) no later
   * step does either. f.nn.checkNumerics (or Trainer.health) reads the verdict.
   */
  trainStep(x: Tensor, labels: Tensor, optimizer: Optimizer, options: TrainStepOptions = {}): Tensor {
    return this.step('trainStep', x, labels, optimizer, options, false)[0];
  }

  /**
   * trainStep that also returns the batch's predicted classes: int32 [N], the argmax of the model's
   * outputs before this step's update (what a training curve's batch accuracy counts). They come
   * from the same plan, in the same submit, and are recorded and replayed with it.
   */
  trainStepWithPredictions(x: Tensor, labels: Tensor, optimizer: Optimizer, options: TrainStepOptions = {}): { loss: Tensor; predictions: Tensor } {
    const [loss, predictions] = this.step('trainStepWithPredictions', x, labels, optimizer, options, true);
    return { loss, predictions };
  }

  private step(op: string, x: Tensor, labels: Tensor, optimizer: Optimizer, options: TrainStepOptions, predictions: boolean): Tensor[] {
    checkOptions(op, options, ['onNonFinite']);
    const onNonFinite = checkNonFinitePolicy(op, options.onNonFinite ?? 'stop');
    // Where the backend can record a plan (webgpu), the step is recorded once and replayed while the
    // batch shape, the optimizer and the parameters' storage stay the same (CapturedStep).
    const key = `${x?.dtype}[${x?.shape}] ${labels?.dtype}[${labels?.shape}] ${onNonFinite} ${predictions}`;
    const captured = this.captures.get(key);
    if (captured?.matches(x, labels, optimizer, onNonFinite)) return captured.step(x, labels);
    captured?.dispose();
    this.captures.delete(key);
    const build = (xx: Tensor, yy: Tensor) => this.lossAndGradients(xx, yy, predictions);
    if (this.canRecord(x, labels)) {
      const recorded = CapturedStep.record(build, x, labels, optimizer, onNonFinite);
      if (recorded) {
        if (recorded.captured) this.keepCapture(key, recorded.captured);
        return recorded.results;
      }
    }
    const { loss, params, grads, outputs } = build(x, labels);
    optimizer.step(params, grads, [loss, ...outputs], { loss, onNonFinite });
    return [loss, ...outputs];
  }

  /** A batch a recorded step can copy in: realized tensors of the current backend (others take the plain path, and its errors). */
  private canRecord(x: Tensor, labels: Tensor): boolean {
    const backend = currentBackend();
    return [x, labels].every((t) => t instanceof Tensor && !t.isDisposed && t.isRealized && t.allocation!.backend === backend);
  }

  private keepCapture(key: string, captured: CapturedStep): void {
    if (this.captures.size >= 2) {
      const [oldest] = this.captures.keys();
      this.captures.get(oldest)!.dispose();
      this.captures.delete(oldest);
    }
    this.captures.set(key, captured);
  }

  /**
   * Compiles every GPU pipeline a training step on batches of `batchSize` needs, in parallel and
   * ahead of time, so the first step does not compile them one by one. Nothing is run and no weight
   * changes; on cpu it resolves at once. Resolves with the number of pipelines.
   */
  async compile(optimizer: Optimizer, options: CompileOptions): Promise<number> {
    checkOptions('compile', options, ['batchSize', 'onNonFinite', 'onProgress', 'predictions']);
    const batchSize = checkInt('compile', 'batchSize', options?.batchSize, 1);
    const onNonFinite = checkNonFinitePolicy('compile', options.onNonFinite ?? 'stop');
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function') fail('compile', 'onProgress must be a function (done, total) => void');
    const backend = currentBackend();
    if (!backend.precompile) return 0;
    const x = tensor(new Float32Array(batchSize * sizeOf(this.inputShape)), [batchSize, ...this.inputShape]);
    const labels = tensor(new Int32Array(batchSize), [batchSize]);
    try {
      return await backend.precompile(() => {
        const { loss, params, grads, outputs } = this.lossAndGradients(x, labels, options.predictions === true);
        optimizer.steps++; // the step number and hyperparameters of the first real step
        try {
          const plan = optimizer.plan(params, grads, { loss, onNonFinite });
          try {
            realize([loss, ...outputs, ...plan.targets]);
          } finally {
            plan.abandon();
            for (const p of plan.perStep) p.tensor.dispose();
          }
        } finally {
          optimizer.steps--;
          for (const t of [loss, ...outputs]) t.dispose();
        }
      }, options.onProgress);
    } finally {
      x.dispose();
      labels.dispose();
    }
  }

  /** The step's loss and gradients, and with `predictions` the argmax of the outputs as `outputs`. */
  private lossAndGradients(x: Tensor, labels: Tensor, predictions = false): { loss: Tensor; params: Tensor[]; grads: Tensor[]; outputs: Tensor[] } {
    const logits = this.forward(x);
    const loss = softmaxCrossEntropy(logits, labels);
    const params = this.parameters();
    return { loss, params, grads: gradients(loss, params), outputs: predictions ? [argmax(logits)] : [] };
  }

  /** Fraction of examples whose largest output is the label, computed in batches. */
  async evaluate(x: Tensor, labels: Tensor, options: { batchSize?: number } = {}): Promise<number> {
    if (labels.dtype !== 'int32' || labels.rank !== 1 || labels.shape[0] !== x.shape[0]) {
      fail('evaluate', `labels must be int32 [${x.shape[0]}] class indices, got ${labels.dtype} ${formatShape(labels.shape)}`);
    }
    const batchSize = options.batchSize ?? 500;
    const truth = await labels.data();
    let correct = 0;
    for (let begin = 0; begin < x.shape[0]; begin += batchSize) {
      const size = Math.min(batchSize, x.shape[0] - begin);
      const batch = size === x.shape[0] ? x : slice(x, begin, size);
      const guesses = argmax(this.forward(batch));
      const predicted = await guesses.data();
      guesses.dispose();
      if (batch !== x) batch.dispose();
      for (let i = 0; i < size; i++) if (predicted[i] === truth[begin + i]) correct++;
    }
    return correct / x.shape[0];
  }

  /** Frees every parameter's storage; the model cannot be used afterwards. */
  dispose(): void {
    for (const c of this.captures.values()) c.dispose();
    this.captures.clear();
    for (const p of this.parameters()) p.dispose();
  }

  /**
   * Weights and architecture as safetensors bytes; f.nn.load() rebuilds the model. With
   * { optimizer, progress } it is a checkpoint that f.nn.loadCheckpoint() resumes exactly.
   */
  save(options?: SaveOptions): Promise<Uint8Array> {
    return saveModel(this, options);
  }

  /** Each layer's output shape and parameter count, with the size formula; printed and returned. */
  summary(print: (line: string) => void = console.log): string {
    const rows = [['layer', 'output', 'params', 'how'], ['input', formatShape(this.inputShape), '0', '']];
    let total = 0;
    const warnings: string[] = [];
    for (const { layer, name, info } of this.built) {
      const params = layer.parameters();
      const count = params.reduce((n, [, t]) => n + t.size, 0);
      total += count;
      const parts = params.map(([local, t]) => `${t.size} ${local === 'weight' ? 'weights' : 'biases'}`).join(' + ');
      rows.push([`${name} (${layer.kind})`, formatShape(info.outputShape), String(count), [info.formula, parts].filter(Boolean).join('; ')]);
      if (info.warning) warnings.push(`warning: ${name}: ${info.warning}`);
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const lines = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
    lines.push(`total parameters: ${total}`, ...warnings);
    const text = lines.join('\n');
    print(text);
    return text;
  }
}
