// The geometry of a 2-D window (convolution patch or pooling window) over NHWC maps. The field
// names match WindowGeometry in packages/core/src/ops/conv-geometry.ts, so core passes its own
// object. The window at (oh, ow) starts at (oh·strideHeight − padTop, ow·strideWidth − padLeft).

import { needDims } from './check.js';
import { uniforms } from './uniforms.js';

export interface WindowDims {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  windowHeight: number;
  windowWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
  outHeight: number;
  outWidth: number;
}

/** outHeight/outWidth from the input, window, stride and padding (floor, as in DESIGN §1). */
export function windowDims(
  d: Omit<WindowDims, 'outHeight' | 'outWidth'> & { padBottom: number; padRight: number },
): WindowDims {
  const outHeight = Math.floor((d.inHeight + d.padTop + d.padBottom - d.windowHeight) / d.strideHeight) + 1;
  const outWidth = Math.floor((d.inWidth + d.padLeft + d.padRight - d.windowWidth) / d.strideWidth) + 1;
  const { padBottom: _b, padRight: _r, ...rest } = d;
  return { ...rest, outHeight, outWidth };
}

/** Validates and packs the Params struct shared by im2col.wgsl, pool.wgsl and conv.wgsl (which adds `extra` u32 fields after it). */
export function windowUniforms(d: WindowDims, what: string, ...extra: number[]): Uint8Array {
  needDims({ batch: d.batch, inHeight: d.inHeight, inWidth: d.inWidth, channels: d.channels, outHeight: d.outHeight, outWidth: d.outWidth, padTop: d.padTop, padLeft: d.padLeft }, what);
  needDims({ windowHeight: d.windowHeight, windowWidth: d.windowWidth, strideHeight: d.strideHeight, strideWidth: d.strideWidth }, what, 1);
  return uniforms()
    .u32(d.batch, d.inHeight, d.inWidth, d.channels)
    .u32(d.outHeight, d.outWidth, d.windowHeight, d.windowWidth)
    .u32(d.strideHeight, d.strideWidth, d.padTop, d.padLeft)
    .u32(...extra)
    .bytes();
}

export const inputSize = (d: WindowDims) => d.batch * d.inHeight * d.inWidth * d.channels;
export const outputSize = (d: WindowDims) => d.batch * d.outHeight * d.outWidth * d.channels;
