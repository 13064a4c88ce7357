// Reading a model's record of non-finite training steps (one readback, when asked): under 'stop' a
// non-finite step becomes a FiltroError naming the step and the tensor; under 'skip' the skipped
// updates are counted. See optim/numerics-guard.ts for the record and how it gates the updates.
import { fail } from '../errors.js';
import type { HealthRecord } from '../optim/numerics-guard.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Sequential } from './sequential.js';

export interface NumericsReport {
  /** Updates not applied so far (non-finite steps; under 'stop' also every step after the first). */
  skipped: number;
  /** How many of those were added since the previous check. */
  newlySkipped: number;
  /** The latest step whose loss or a gradient was not finite, with that tensor's name. */
  lastBad: { step: number; tensor: string } | null;
}

/** 'the loss' for tensor 0; 'the gradient of conv2d_1.weight' for the others (in parameter order). */
export function checkedTensorName(model: Sequential, index: number): string {
  if (index === 0) return 'the loss';
  const name = model.namedParameters()[index - 1]?.[0];
  return `the gradient of ${name ?? `parameter ${index - 1}`}`;
}

/**
 * The record read from the device, with names. Throws a FiltroError (naming `fn`) if training
 * stopped on a non-finite step; otherwise reports the skipped updates.
 */
export function numericsReport(model: Sequential, record: HealthRecord, fn: string): NumericsReport {
  if (record.stopped) {
    const { step, tensor } = record.stopped;
    fail(
      fn,
      `step ${step}: ${checkedTensorName(model, tensor)} is not finite (NaN or ±Inf), so its update was not applied, ` +
        `nor any after it (onNonFinite 'stop'); the parameters hold their values from before step ${step}. ` +
        `Use onNonFinite 'skip' to skip such steps and go on`,
    );
  }
  const lastBad = record.lastBad && { step: record.lastBad.step, tensor: checkedTensorName(model, record.lastBad.tensor) };
  return { skipped: record.skipped, newlySkipped: record.newlySkipped, lastBad };
}

/** Reads `optimizer`'s record of checked steps on `model` (one readback); see numericsReport. */
export async function checkNumerics(model: Sequential, optimizer: Optimizer): Promise<NumericsReport> {
  return numericsReport(model, await optimizer.numerics.read(), 'checkNumerics');
}
