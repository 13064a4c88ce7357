// A training step recorded once and replayed (on backends that can capture: webgpu). A replay
// writes the step's per-step scalars (learning rate, bias corrections, step number), copies the
// batch into the recorded inputs, submits the recorded dispatches and copies the loss (and any
// other outputs the step was built with, such as predictions) out: no
// graph, autograd, lowering or cache lookups on the main thread, and no GPU object created.
//
// A recording is only kept when replaying it is exactly the step it recorded: every parameter and
// optimizer state (and the finite check's record) was updated in place, and the plan read nothing
// but those, the batch and the per-step scalars. Each replay first checks that those tensors
// still hold the same storage (a restored checkpoint, a new device or another optimizer forces a
// new recording).
import { Allocation } from '../allocation.js';
import type { Backend, CapturedPlan, Storage } from '../backends/backend.js';
import { currentBackend } from '../backends/registry.js';
import { tensor } from '../ops/create.js';
import type { NonFinitePolicy } from '../ops/finite-check.js';
import type { Optimizer, StepPlan } from '../optim/optimizer.js';
import { planInputs, realize } from '../scheduler.js';
import { liveStats } from '../stats.js';
import { Tensor } from '../tensor.js';
import { bytesOf } from '../types.js';
import type { HostArray } from '../types.js';

/**
 * Builds the lazy loss and gradients of a batch (Sequential's forward, loss and backward), and the
 * other `outputs` a step returns beside its loss (computed from the batch before the update).
 */
export type StepBuilder = (x: Tensor, labels: Tensor) => { loss: Tensor; params: Tensor[]; grads: Tensor[]; outputs: Tensor[] };

const storageOf = (t: Tensor): Storage => t.allocation!.storage;

function emptyLike(t: Tensor): Tensor {
  return tensor(t.dtype === 'int32' ? new Int32Array(t.size) : new Float32Array(t.size), t.shape);
}

function sameSpec(a: Tensor, b: Tensor): boolean {
  return a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

export class CapturedStep {
  private disposed = false;

  private constructor(
    private readonly backend: Backend,
    private readonly optimizer: Optimizer,
    private readonly policy: NonFinitePolicy,
    private readonly plan: CapturedPlan,
    /** The recorded batch and labels, which each replay overwrites. */
    private readonly x: Tensor,
    private readonly labels: Tensor,
    private readonly loss: Tensor,
    /** The recorded other outputs, copied out beside the loss by each replay. */
    private readonly outputs: Tensor[],
    private readonly perStep: StepPlan['perStep'],
    /** Ops per replay, for Stats.dispatches. */
    private readonly nodeCount: number,
    /** Parameters, optimizer states and the finite check's record, with the storage recorded for each. */
    private persistent: [Tensor, Storage][] = [],
  ) {}

  /**
   * Takes one training step by recording it and running the recording once. Returns its loss and
   * other outputs (`results`, in the builder's order) and, when the recording can be replayed for
   * later steps, the capture; null where the backend cannot capture (nothing was done then).
   */
  static record(
    build: StepBuilder,
    x: Tensor,
    labels: Tensor,
    optimizer: Optimizer,
    policy: NonFinitePolicy,
  ): { results: Tensor[]; captured: CapturedStep | null } | null {
    const backend = currentBackend();
    if (!backend.capture) return null;
    const xIn = emptyLike(x);
    const labelsIn = emptyLike(labels);
    let loss: Tensor | undefined;
    let outputs: Tensor[] = [];
    let plan: StepPlan | undefined;
    let recorded: CapturedPlan | null = null;
    let captured: CapturedStep | undefined;
    let params: Tensor[];
    let donated: Set<Storage>;
    let inputs: Storage[];
    let results: Tensor[];
    optimizer.steps++;
    try {
      const step = build(xIn, labelsIn);
      ({ loss, params, outputs } = step);
      const stepPlan = (plan = optimizer.plan(params, step.grads, { loss, onNonFinite: policy }));
      const targets = [loss, ...outputs, ...stepPlan.targets];
      inputs = planInputs(targets).map(storageOf);
      donated = new Set(stepPlan.donated.map(storageOf));
      const dispatches = liveStats.dispatches;
      recorded = backend.capture(() => realize(targets, { donated: stepPlan.donated }));
      // Nothing ran yet: the run below counts the plan.
      const nodeCount = liveStats.dispatches - dispatches;
      liveStats.dispatches = dispatches;
      liveStats.submits--;
      if (!recorded) throw new Error('internal: a training step recorded no work');
      captured = new CapturedStep(backend, optimizer, policy, recorded, xIn, labelsIn, loss, outputs, stepPlan.perStep, nodeCount);
      results = captured.run(x, labels, false);
    } catch (e) {
      optimizer.steps--;
      plan?.abandon();
      if (captured) captured.dispose();
      else {
        recorded?.dispose();
        for (const t of [xIn, labelsIn, loss, ...outputs, ...(plan?.perStep.map((p) => p.tensor) ?? [])]) t?.dispose();
      }
      throw e;
    }
    plan.commit();
    const replayable = captured.adoptPersistent(params, donated, inputs);
    if (!replayable) captured.dispose();
    return { results, captured: replayable ? captured : null };
  }

  /** True when `step(x, labels)` may replay this recording for the model's next step (the batch must be realized). */
  matches(x: Tensor, labels: Tensor, optimizer: Optimizer, policy: NonFinitePolicy): boolean {
    return (
      !this.disposed &&
      this.backend === currentBackend() &&
      !this.backend.isLost?.() &&
      optimizer === this.optimizer &&
      policy === this.policy &&
      sameSpec(x, this.x) &&
      sameSpec(labels, this.labels) &&
      [x, labels].every((t) => !t.isDisposed && t.allocation?.backend === this.backend) &&
      this.persistent.every(([t, storage]) => !t.isDisposed && t.allocation?.storage === storage)
    );
  }

  /** One training step by replay (check matches() first). Returns the loss and other outputs, as record() does. */
  step(x: Tensor, labels: Tensor): Tensor[] {
    this.optimizer.steps++;
    try {
      const results = this.run(x, labels, true);
      liveStats.stepsReplayed++;
      return results;
    } catch (e) {
      this.optimizer.steps--;
      throw e;
    }
  }

  /** Frees the recording and the tensors it owns. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.plan.dispose();
    for (const t of [this.x, this.labels, this.loss, ...this.outputs, ...this.perStep.map((p) => p.tensor)]) t.dispose();
    this.persistent = [];
  }

  private run(x: Tensor, labels: Tensor, writePerStep: boolean): Tensor[] {
    const writes: { into: Storage; data: HostArray }[] = writePerStep ? this.perStep.map((p) => ({ into: storageOf(p.tensor), data: p.values() })) : [];
    const copies = [x, labels].map((from, i) => {
      const into = i === 0 ? this.x : this.labels;
      return { from: storageOf(from), into: storageOf(into), bytes: bytesOf(into) };
    });
    const recorded = [this.loss, ...this.outputs];
    const storages = this.plan.replay(writes, copies, recorded.map((t) => ({ from: storageOf(t), bytes: bytesOf(t) })));
    liveStats.dispatches += this.nodeCount;
    liveStats.submits++;
    for (const [t] of this.persistent) t.overwritten();
    return recorded.map((t, i) => {
      const copy = new Tensor({ shape: t.shape, dtype: t.dtype }, null);
      copy.setAllocation(new Allocation(this.backend, storages[i], bytesOf(t)));
      return copy;
    });
  }

  /**
   * After commit: notes the storage of every parameter, optimizer state and the check's record, and
   * says whether a replay is the same step. It is when the updates all worked in place (each of
   * those tensors kept a donated storage, and every donated storage is still one of theirs) and the
   * plan read nothing else than them, the batch and the per-step scalars.
   */
  private adoptPersistent(params: readonly Tensor[], donated: ReadonlySet<Storage>, inputs: readonly Storage[]): boolean {
    const ours = new Set(params);
    const states = this.optimizer.stateTensors().filter((s) => ours.has(s.param)).map((s) => s.tensor);
    const record = this.optimizer.numerics.current;
    const persistent = [...params, ...states, ...(record ? [record] : [])];
    if (persistent.some((t) => !t.isRealized)) return false;
    this.persistent = persistent.map((t): [Tensor, Storage] => [t, storageOf(t)]);
    const kept = new Set(this.persistent.map(([, s]) => s));
    if (kept.size !== donated.size || [...kept].some((s) => !donated.has(s))) return false;
    const recordedInputs = new Set([this.x, this.labels, ...this.perStep.map((p) => p.tensor)].map(storageOf));
    return inputs.every((s) => kept.has(s) || recordedInputs.has(s));
  }
}
