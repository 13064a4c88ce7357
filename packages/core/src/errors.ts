// One error type for bad input, always naming the function, the shapes and the rule broken.
import type { TensorSpec } from './types.js';
import { formatShape } from './types.js';

export class FiltroError extends Error {
  override name = 'FiltroError';
}

/** Throws `fn: message`. */
export function fail(fn: string, message: string): never {
  throw new FiltroError(`${fn}: ${message}`);
}

export function describe(spec: TensorSpec): string {
  return `${spec.dtype} ${formatShape(spec.shape)}`;
}

export function checkRank(fn: string, arg: string, spec: TensorSpec, rank: number, meaning: string): void {
  if (spec.shape.length !== rank) {
    fail(fn, `${arg} must have rank ${rank} (${meaning}), got ${describe(spec)}`);
  }
}

export function checkDType(fn: string, arg: string, spec: TensorSpec, dtype: TensorSpec['dtype']): void {
  if (spec.dtype !== dtype) fail(fn, `${arg} must be ${dtype}, got ${describe(spec)}`);
}

export function checkInt(fn: string, arg: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(fn, `${arg} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

export function checkNumber(fn: string, arg: string, value: unknown, rule: (v: number) => boolean, ruleText: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !rule(value)) {
    fail(fn, `${arg} must be a finite number ${ruleText}, got ${String(value)}`);
  }
  return value;
}

/** A number or an [h, w] pair, each an integer ≥ min. */
export function checkPair(fn: string, arg: string, value: unknown, min: number): [number, number] {
  if (typeof value === 'number') {
    checkInt(fn, arg, value, min);
    return [value, value];
  }
  if (Array.isArray(value) && value.length === 2) {
    return [checkInt(fn, `${arg}[0]`, value[0], min), checkInt(fn, `${arg}[1]`, value[1], min)];
  }
  return fail(fn, `${arg} must be an integer ≥ ${min} or a pair [height, width], got ${JSON.stringify(value)}`);
}

/** Rejects option names a function does not know, so a typo is not silently ignored. */
export function checkOptions(fn: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail(fn, `options must be an object, got ${JSON.stringify(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) fail(fn, `unknown option '${key}' (known: ${known.join(', ')})`);
  }
}
