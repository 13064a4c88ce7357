// Window geometries shared by the im2col/conv and pooling tests: odd sizes, 1×1 to 7×7 and
// non-square windows, strides 1–3 (different per axis), padding 0–2 (asymmetric), batch 1–5,
// channels 1–33.

import { windowDims, type WindowDims } from '../../packages/kernels/src/index.js';

export interface Case {
  n: number; h: number; w: number; c: number;
  fh: number; fw: number;
  s: [number, number];
  /** top, left, bottom, right */
  p: [number, number, number, number];
}

export const CASES: Case[] = [
  { n: 1, h: 6, w: 6, c: 1, fh: 3, fw: 3, s: [1, 1], p: [0, 0, 0, 0] },     // lecture: 6×6, 3×3 → 4×4
  { n: 2, h: 10, w: 10, c: 3, fh: 2, fw: 2, s: [1, 1], p: [0, 0, 0, 0] },   // lecture: 10×10×3, 2×2
  { n: 1, h: 6, w: 6, c: 1, fh: 3, fw: 3, s: [3, 3], p: [0, 0, 0, 0] },     // lecture: stride 3 → 2×2
  { n: 1, h: 4, w: 4, c: 2, fh: 3, fw: 3, s: [1, 1], p: [1, 1, 1, 1] },     // lecture: padding 1 → 4×4
  { n: 1, h: 6, w: 6, c: 2, fh: 3, fw: 3, s: [2, 2], p: [0, 0, 0, 0] },     // 2.5 floors to 2
  { n: 3, h: 7, w: 5, c: 4, fh: 7, fw: 7, s: [1, 1], p: [0, 1, 0, 1] },     // 7×7
  { n: 5, h: 5, w: 7, c: 33, fh: 1, fw: 1, s: [1, 1], p: [0, 0, 0, 0] },    // 1×1, pointwise
  { n: 2, h: 5, w: 5, c: 7, fh: 1, fw: 1, s: [2, 2], p: [0, 0, 0, 0] },     // 1×1, strided
  { n: 2, h: 9, w: 11, c: 5, fh: 3, fw: 2, s: [2, 3], p: [1, 2, 0, 1] },    // non-square, asymmetric
  { n: 4, h: 8, w: 8, c: 16, fh: 5, fw: 5, s: [2, 2], p: [2, 2, 2, 2] },
  { n: 1, h: 3, w: 13, c: 9, fh: 1, fw: 3, s: [1, 3], p: [2, 0, 2, 1] },    // padding 2 around 1×3
  { n: 2, h: 12, w: 7, c: 3, fh: 4, fw: 3, s: [3, 1], p: [1, 1, 2, 1] },
  { n: 3, h: 16, w: 15, c: 8, fh: 3, fw: 3, s: [1, 1], p: [1, 1, 1, 1] },   // a typical 'same' layer
  { n: 1, h: 4, w: 9, c: 2, fh: 2, fw: 2, s: [1, 1], p: [0, 0, 0, 0] },
  { n: 2, h: 5, w: 16, c: 8, fh: 3, fw: 3, s: [1, 1], p: [1, 1, 1, 1] },    // direct dx: 8 pixels a thread
  { n: 1, h: 5, w: 10, c: 3, fh: 5, fw: 5, s: [1, 1], p: [2, 2, 2, 2] },
  { n: 2, h: 6, w: 3, c: 9, fh: 3, fw: 2, s: [1, 2], p: [1, 0, 1, 1] },     // direct dx: 4 pixels a thread
];

export function dims(k: Case): WindowDims {
  return windowDims({
    batch: k.n, inHeight: k.h, inWidth: k.w, channels: k.c,
    windowHeight: k.fh, windowWidth: k.fw, strideHeight: k.s[0], strideWidth: k.s[1],
    padTop: k.p[0], padLeft: k.p[1], padBottom: k.p[2], padRight: k.p[3],
  });
}

export const label = (k: Case) =>
  `${k.n}×${k.h}×${k.w}×${k.c} window ${k.fh}×${k.fw} stride ${k.s.join(',')} pad ${k.p.join(',')}`;

/** Calls fn(n, oh, ow, fh, fw, h, w) for every in-bounds (output, window cell) pair. */
export function forEachTap(
  d: WindowDims,
  fn: (n: number, oh: number, ow: number, fh: number, fw: number, h: number, w: number) => void,
): void {
  for (let n = 0; n < d.batch; n++)
    for (let oh = 0; oh < d.outHeight; oh++)
      for (let ow = 0; ow < d.outWidth; ow++)
        for (let fh = 0; fh < d.windowHeight; fh++)
          for (let fw = 0; fw < d.windowWidth; fw++) {
            const h = oh * d.strideHeight - d.padTop + fh;
            const w = ow * d.strideWidth - d.padLeft + fw;
            if (h >= 0 && h < d.inHeight && w >= 0 && w < d.inWidth) fn(n, oh, ow, fh, fw, h, w);
          }
}
