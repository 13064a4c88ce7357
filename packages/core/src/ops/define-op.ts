// What an op is: a shape rule that validates, an obviously-correct reference on host arrays, and a
// backward written in terms of other ops, so any backend that runs the forward ops runs training.
import type { Tensor } from '../tensor.js';
import type { HostArray, TensorSpec } from '../types.js';

export interface BackwardContext<A> {
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
  attrs: A;
}

export interface OpDef<A> {
  name: string;
  /** Validates the inputs and attributes (throwing FiltroError) and returns the output specs. */
  outputs(inputs: readonly TensorSpec[], attrs: A): TensorSpec[];
  /** Plain loops, no cleverness: the oracle every other path is checked against. */
  reference(inputs: readonly HostArray[], inputSpecs: readonly TensorSpec[], attrs: A, outputSpecs: readonly TensorSpec[]): HostArray[];
  /** Gradients of the inputs given the gradients of the outputs (null where no gradient flows). */
  backward?(grads: readonly (Tensor | null)[], ctx: BackwardContext<A>): (Tensor | null)[];
  /** Output 0 shares input 0's storage (a reshape): no copy, no kernel. */
  view?: boolean;
  /**
   * [output, input] pairs: the output may be computed in place, in that input's storage, when the
   * caller of realize() donates the input (an optimizer update overwriting the parameter).
   */
  inPlace?: readonly (readonly [output: number, input: number])[];
}

export function defineOp<A>(def: OpDef<A>): OpDef<A> {
  return def;
}
