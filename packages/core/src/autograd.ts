// Reverse-mode differentiation over the lazy graph. Backward rules build new lazy nodes out of
// forward ops, so gradients run on whatever backend runs the forward pass.
import { fail } from './errors.js';
import type { Node } from './graph.js';
import { add } from './ops/binary.js';
import { fill } from './ops/fill.js';
import type { Tensor } from './tensor.js';

/** Nodes between `wrt` and `y`, each after every node it reads. Realized tensors are constants. */
function nodesOnPaths(y: Tensor, wrt: ReadonlySet<Tensor>): Node[] {
  const order: Node[] = [];
  const reaches = new Map<Node, boolean>();
  const visit = (node: Node): boolean => {
    const known = reaches.get(node);
    if (known !== undefined) return known;
    reaches.set(node, false);
    let any = false;
    for (const input of node.inputs) {
      if (wrt.has(input)) any = true;
      else if (input.node && input.dtype === 'float32' && visit(input.node)) any = true;
    }
    reaches.set(node, any);
    if (any) order.push(node);
    return any;
  };
  if (y.node && !wrt.has(y)) visit(y.node);
  return order;
}

/** Gradients of scalar `y` with respect to each of `wrt` (zeros where `y` does not depend on it). */
export function gradients(y: Tensor, wrt: readonly Tensor[]): Tensor[] {
  if (y.size !== 1 || y.dtype !== 'float32') fail('valueAndGrads', `the function must return a float32 scalar (a loss), got ${y.dtype} [${y.shape}]`);
  const targets = new Set(wrt);
  const grads = new Map<Tensor, Tensor>([[y, fill(y.shape, 1)]]);
  const accumulate = (t: Tensor, g: Tensor) => {
    const prev = grads.get(t);
    grads.set(t, prev ? add(prev, g) : g);
  };
  for (const node of nodesOnPaths(y, targets).reverse()) {
    const outGrads = node.outputs.map((o) => grads.get(o) ?? null);
    if (outGrads.every((g) => g === null)) continue;
    if (!node.op.backward) fail('valueAndGrads', `op '${node.op.name}' has no gradient, but the loss depends on it through a tensor being differentiated`);
    const inGrads = node.op.backward(outGrads, { inputs: node.inputs, outputs: node.outputs, attrs: node.attrs });
    node.inputs.forEach((input, i) => {
      const g = inGrads[i];
      if (g && input.dtype === 'float32') accumulate(input, g);
    });
  }
  return wrt.map((t) => grads.get(t) ?? fill(t.shape, 0));
}

/**
 * Wraps `fn` (tensors → scalar loss) so that calling it returns the loss and its gradients with
 * respect to every argument, in argument order. Both are lazy: realize or read them when needed.
 */
export function valueAndGrads<Args extends Tensor[]>(fn: (...args: Args) => Tensor) {
  return (...args: Args): { value: Tensor; grads: Tensor[] } => {
    const value = fn(...args);
    return { value, grads: gradients(value, args) };
  };
}
