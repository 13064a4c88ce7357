// The lazy graph: applying an op validates its inputs at once and records a node; nothing runs
// until the scheduler realizes a tensor that depends on it.
import { fail } from './errors.js';
import { currentBackend } from './backends/registry.js';
import type { OpDef } from './ops/define-op.js';
import { Tensor } from './tensor.js';

export interface Node {
  op: OpDef<unknown>;
  inputs: readonly Tensor[];
  attrs: unknown;
  outputs: Tensor[];
}

/** Records `op(inputs)`; throws before recording anything if the inputs break the op's rules. */
export function apply<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A, fn: string = op.name): Tensor[] {
  const backend = currentBackend();
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) fail(fn, `input ${i} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
    t.assertUsable(fn);
    const owner = t.allocation?.backend;
    if (owner && owner !== backend) {
      if (owner.name === backend.name) fail(fn, `input ${i} was made on an earlier ${owner.name} device that has since been replaced (lost or reset); make it again`);
      fail(fn, `input ${i} lives on the ${owner.name} backend but the current backend is ${backend.name}; create tensors after setBackend()`);
    }
  });
  const specs = op.outputs(inputs, attrs);
  const node: Node = { op: op as OpDef<unknown>, inputs, attrs, outputs: [] };
  node.outputs = specs.map((s) => new Tensor(s, node));
  return node.outputs;
}

/** Convenience for the common single-output case. */
export function apply1<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A, fn: string = op.name): Tensor {
  return apply(op, inputs, attrs, fn)[0];
}
