// Realizes tensors: orders the pending nodes they depend on, runs each once on the current backend,
// hands an intermediate's storage back right after its last reader ran (or was encoded), and ends
// with one flush, which is one submit on the GPU.
import { Allocation } from './allocation.js';
import { currentBackend } from './backends/registry.js';
import { fail } from './errors.js';
import type { Node } from './graph.js';
import { liveStats } from './stats.js';
import type { Tensor } from './tensor.js';
import { bytesOf } from './types.js';

/** Pending nodes that `targets` depend on, inputs before the nodes that read them. */
function pendingNodes(targets: readonly Tensor[]): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  const stack: { node: Node; next: number }[] = [];
  const visit = (t: Tensor) => {
    if (t.node && !seen.has(t.node)) {
      seen.add(t.node);
      stack.push({ node: t.node, next: 0 });
    }
  };
  for (const target of targets) {
    visit(target);
    while (stack.length) {
      const top = stack[stack.length - 1];
      if (top.next < top.node.inputs.length) visit(top.node.inputs[top.next++]);
      else order.push(stack.pop()!.node);
    }
  }
  return order;
}

/** The realized tensors that the pending work of `targets` reads (its inputs from outside the plan). */
export function planInputs(targets: readonly Tensor[]): Tensor[] {
  const inputs = new Set<Tensor>();
  for (const node of pendingNodes(targets)) for (const t of node.inputs) if (!t.node) inputs.add(t);
  return [...inputs];
}

export interface RealizeOptions {
  /**
   * Realized tensors whose values the caller will not read again (parameters an optimizer is about
   * to replace): an op that can work in place (OpDef.inPlace) may overwrite their storage, if no
   * other tensor shares it and no later op of the plan reads it.
   */
  donated?: readonly Tensor[];
}

/** Computes every target in one plan. Targets keep their storage; intermediates do not. */
export function realize(targets: readonly Tensor[], options: RealizeOptions = {}): void {
  for (const t of targets) t.assertUsable('realize');
  const nodes = pendingNodes(targets);
  if (nodes.length === 0) return;
  const backend = currentBackend();
  const wanted = new Set(targets);
  const donated = new Set(options.donated);
  const readers = new Map<Tensor, number>();
  for (const node of nodes) {
    for (const input of node.inputs) if (input.node || donated.has(input)) readers.set(input, (readers.get(input) ?? 0) + 1);
  }
  const produced = new Map<Tensor, Allocation>();

  /** The donated input storage each output of `node` may be computed in (see RealizeOptions). */
  const inPlaceTargets = (node: Node): (Allocation | undefined)[] | undefined => {
    if (!node.op.inPlace || donated.size === 0) return undefined;
    const into: (Allocation | undefined)[] = [];
    for (const [output, input] of node.op.inPlace) {
      const t = node.inputs[input];
      if (!t || output >= node.outputs.length) continue; // the op's optional input or output is absent
      const alloc = t.allocation;
      const lastReader = readers.get(t) === 1 && node.inputs.indexOf(t) === input && node.inputs.lastIndexOf(t) === input;
      if (donated.has(t) && lastReader && alloc?.exclusive && alloc.backend === backend && alloc.bytes === bytesOf(node.outputs[output])) {
        into[output] = alloc;
      }
    }
    return into;
  };

  const storageOf = (t: Tensor, op: string): Allocation => {
    const alloc = t.allocation ?? produced.get(t);
    if (!alloc) fail(op, `input tensor #${t.id} has no value (was it disposed while a result still depended on it?)`);
    if (alloc.backend !== backend) fail(op, `input tensor #${t.id} lives on the ${alloc.backend.name} backend, not ${backend.name}`);
    return alloc;
  };

  if (backend.check) for (const node of nodes) backend.check(node.op, node.inputs, node.attrs, node.outputs);
  try {
    for (const node of nodes) {
      const inputs = node.inputs.map((t) => storageOf(t, node.op.name));
      let allocs: Allocation[];
      if (node.op.view) {
        allocs = [inputs[0].retain()];
      } else {
        const into = inPlaceTargets(node);
        const storages = backend.run(node.op, inputs.map((a) => a.storage), node.inputs, node.attrs, node.outputs, into?.map((a) => a?.storage));
        liveStats.dispatches++;
        allocs = storages.map((s, i) => (into?.[i]?.storage === s ? into[i]!.retain() : new Allocation(backend, s, bytesOf(node.outputs[i]))));
      }
      node.outputs.forEach((out, i) => {
        if (wanted.has(out)) out.setAllocation(allocs[i]);
        else if (readers.has(out)) produced.set(out, allocs[i]);
        else allocs[i].release();
      });
      for (const input of node.inputs) {
        const left = readers.get(input);
        if (left === undefined) continue;
        readers.set(input, left - 1);
        if (left === 1 && produced.has(input)) {
          produced.get(input)!.release();
          produced.delete(input);
        }
      }
    }
  } finally {
    for (const alloc of produced.values()) alloc.release();
    backend.flush();
    liveStats.submits++;
  }
}
