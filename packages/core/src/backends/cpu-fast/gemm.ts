// Fast CPU GEMM: c[M,N] (+)= op(a)·op(b) on Float32Array, cache-blocked with packed panels and a
// register-blocked micro-kernel. Scratch (the packed panels) lives in module-level buffers that grow
// as needed, so steady-state calls allocate nothing.

let packA = new Float32Array(0);
let packB = new Float32Array(0);
const edgeTile = new Float64Array(64);

function writeEdge(
  t: Float64Array,
  nrFull: number,
  c: Float32Array,
  ci: number,
  ldc: number,
  mr: number,
  nr: number,
  store: boolean,
): void {
  for (let i = 0; i < mr; i++) {
    const ti = i * nrFull;
    const row = ci + i * ldc;
    if (store) for (let j = 0; j < nr; j++) c[row + j] = t[ti + j];
    else for (let j = 0; j < nr; j++) c[row + j] += t[ti + j];
  }
}
function kernel4x4(
  kc: number,
  A: Float32Array,
  pa: number,
  ars: number,
  acs: number,
  B: Float32Array,
  pb: number,
  bcs: number,
  c: Float32Array,
  ci: number,
  ldc: number,
  mr: number,
  nr: number,
  store: boolean,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const o1 = ars;
  const o2 = 2 * ars;
  const o3 = 3 * ars;
  for (let k = 0; k < kc; k++) {
    const a0 = A[pa];
    const a1 = A[pa + o1];
    const a2 = A[pa + o2];
    const a3 = A[pa + o3];
    const b0 = B[pb];
    const b1 = B[pb + 1];
    const b2 = B[pb + 2];
    const b3 = B[pb + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    pa += acs;
    pb += bcs;
  }
  if (mr === 4 && nr === 4) {
    if (store) {
      c[ci] = c00; c[ci + 1] = c01; c[ci + 2] = c02; c[ci + 3] = c03;
      ci += ldc;
      c[ci] = c10; c[ci + 1] = c11; c[ci + 2] = c12; c[ci + 3] = c13;
      ci += ldc;
      c[ci] = c20; c[ci + 1] = c21; c[ci + 2] = c22; c[ci + 3] = c23;
      ci += ldc;
      c[ci] = c30; c[ci + 1] = c31; c[ci + 2] = c32; c[ci + 3] = c33;
    } else {
      c[ci] += c00; c[ci + 1] += c01; c[ci + 2] += c02; c[ci + 3] += c03;
      ci += ldc;
      c[ci] += c10; c[ci + 1] += c11; c[ci + 2] += c12; c[ci + 3] += c13;
      ci += ldc;
      c[ci] += c20; c[ci + 1] += c21; c[ci + 2] += c22; c[ci + 3] += c23;
      ci += ldc;
      c[ci] += c30; c[ci + 1] += c31; c[ci + 2] += c32; c[ci + 3] += c33;
    }
  } else {
    const t = edgeTile;
    t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
    t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
    t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
    t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
    writeEdge(t, 4, c, ci, ldc, mr, nr, store);
  }
}

function kernel4x8(
  kc: number,
  A: Float32Array,
  pa: number,
  ars: number,
  acs: number,
  B: Float32Array,
  pb: number,
  bcs: number,
  c: Float32Array,
  ci: number,
  ldc: number,
  mr: number,
  nr: number,
  store: boolean,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0, c34 = 0, c35 = 0, c36 = 0, c37 = 0;
  const o1 = ars;
  const o2 = 2 * ars;
  const o3 = 3 * ars;
  for (let k = 0; k < kc; k++) {
    const a0 = A[pa];
    const a1 = A[pa + o1];
    const a2 = A[pa + o2];
    const a3 = A[pa + o3];
    const b0 = B[pb];
    const b1 = B[pb + 1];
    const b2 = B[pb + 2];
    const b3 = B[pb + 3];
    const b4 = B[pb + 4];
    const b5 = B[pb + 5];
    const b6 = B[pb + 6];
    const b7 = B[pb + 7];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3; c04 += a0 * b4; c05 += a0 * b5; c06 += a0 * b6; c07 += a0 * b7;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3; c14 += a1 * b4; c15 += a1 * b5; c16 += a1 * b6; c17 += a1 * b7;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3; c24 += a2 * b4; c25 += a2 * b5; c26 += a2 * b6; c27 += a2 * b7;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3; c34 += a3 * b4; c35 += a3 * b5; c36 += a3 * b6; c37 += a3 * b7;
    pa += acs;
    pb += bcs;
  }
  if (mr === 4 && nr === 8) {
    if (store) {
      c[ci] = c00; c[ci + 1] = c01; c[ci + 2] = c02; c[ci + 3] = c03; c[ci + 4] = c04; c[ci + 5] = c05; c[ci + 6] = c06; c[ci + 7] = c07;
      ci += ldc;
      c[ci] = c10; c[ci + 1] = c11; c[ci + 2] = c12; c[ci + 3] = c13; c[ci + 4] = c14; c[ci + 5] = c15; c[ci + 6] = c16; c[ci + 7] = c17;
      ci += ldc;
      c[ci] = c20; c[ci + 1] = c21; c[ci + 2] = c22; c[ci + 3] = c23; c[ci + 4] = c24; c[ci + 5] = c25; c[ci + 6] = c26; c[ci + 7] = c27;
      ci += ldc;
      c[ci] = c30; c[ci + 1] = c31; c[ci + 2] = c32; c[ci + 3] = c33; c[ci + 4] = c34; c[ci + 5] = c35; c[ci + 6] = c36; c[ci + 7] = c37;
    } else {
      c[ci] += c00; c[ci + 1] += c01; c[ci + 2] += c02; c[ci + 3] += c03; c[ci + 4] += c04; c[ci + 5] += c05; c[ci + 6] += c06; c[ci + 7] += c07;
      ci += ldc;
      c[ci] += c10; c[ci + 1] += c11; c[ci + 2] += c12; c[ci + 3] += c13; c[ci + 4] += c14; c[ci + 5] += c15; c[ci + 6] += c16; c[ci + 7] += c17;
      ci += ldc;
      c[ci] += c20; c[ci + 1] += c21; c[ci + 2] += c22; c[ci + 3] += c23; c[ci + 4] += c24; c[ci + 5] += c25; c[ci + 6] += c26; c[ci + 7] += c27;
      ci += ldc;
      c[ci] += c30; c[ci + 1] += c31; c[ci + 2] += c32; c[ci + 3] += c33; c[ci + 4] += c34; c[ci + 5] += c35; c[ci + 6] += c36; c[ci + 7] += c37;
    }
  } else {
    const t = edgeTile;
    t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03; t[4] = c04; t[5] = c05; t[6] = c06; t[7] = c07;
    t[8] = c10; t[9] = c11; t[10] = c12; t[11] = c13; t[12] = c14; t[13] = c15; t[14] = c16; t[15] = c17;
    t[16] = c20; t[17] = c21; t[18] = c22; t[19] = c23; t[20] = c24; t[21] = c25; t[22] = c26; t[23] = c27;
    t[24] = c30; t[25] = c31; t[26] = c32; t[27] = c33; t[28] = c34; t[29] = c35; t[30] = c36; t[31] = c37;
    writeEdge(t, 8, c, ci, ldc, mr, nr, store);
  }
}

function kernel8x4(
  kc: number,
  A: Float32Array,
  pa: number,
  ars: number,
  acs: number,
  B: Float32Array,
  pb: number,
  bcs: number,
  c: Float32Array,
  ci: number,
  ldc: number,
  mr: number,
  nr: number,
  store: boolean,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0, c40 = 0, c41 = 0, c42 = 0, c43 = 0, c50 = 0, c51 = 0, c52 = 0, c53 = 0, c60 = 0, c61 = 0, c62 = 0, c63 = 0, c70 = 0, c71 = 0, c72 = 0, c73 = 0;
  const o1 = ars;
  const o2 = 2 * ars;
  const o3 = 3 * ars;
  const o4 = 4 * ars;
  const o5 = 5 * ars;
  const o6 = 6 * ars;
  const o7 = 7 * ars;
  for (let k = 0; k < kc; k++) {
    const a0 = A[pa];
    const a1 = A[pa + o1];
    const a2 = A[pa + o2];
    const a3 = A[pa + o3];
    const a4 = A[pa + o4];
    const a5 = A[pa + o5];
    const a6 = A[pa + o6];
    const a7 = A[pa + o7];
    const b0 = B[pb];
    const b1 = B[pb + 1];
    const b2 = B[pb + 2];
    const b3 = B[pb + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    c40 += a4 * b0; c41 += a4 * b1; c42 += a4 * b2; c43 += a4 * b3;
    c50 += a5 * b0; c51 += a5 * b1; c52 += a5 * b2; c53 += a5 * b3;
    c60 += a6 * b0; c61 += a6 * b1; c62 += a6 * b2; c63 += a6 * b3;
    c70 += a7 * b0; c71 += a7 * b1; c72 += a7 * b2; c73 += a7 * b3;
    pa += acs;
    pb += bcs;
  }
  if (mr === 8 && nr === 4) {
    if (store) {
      c[ci] = c00; c[ci + 1] = c01; c[ci + 2] = c02; c[ci + 3] = c03;
      ci += ldc;
      c[ci] = c10; c[ci + 1] = c11; c[ci + 2] = c12; c[ci + 3] = c13;
      ci += ldc;
      c[ci] = c20; c[ci + 1] = c21; c[ci + 2] = c22; c[ci + 3] = c23;
      ci += ldc;
      c[ci] = c30; c[ci + 1] = c31; c[ci + 2] = c32; c[ci + 3] = c33;
      ci += ldc;
      c[ci] = c40; c[ci + 1] = c41; c[ci + 2] = c42; c[ci + 3] = c43;
      ci += ldc;
      c[ci] = c50; c[ci + 1] = c51; c[ci + 2] = c52; c[ci + 3] = c53;
      ci += ldc;
      c[ci] = c60; c[ci + 1] = c61; c[ci + 2] = c62; c[ci + 3] = c63;
      ci += ldc;
      c[ci] = c70; c[ci + 1] = c71; c[ci + 2] = c72; c[ci + 3] = c73;
    } else {
      c[ci] += c00; c[ci + 1] += c01; c[ci + 2] += c02; c[ci + 3] += c03;
      ci += ldc;
      c[ci] += c10; c[ci + 1] += c11; c[ci + 2] += c12; c[ci + 3] += c13;
      ci += ldc;
      c[ci] += c20; c[ci + 1] += c21; c[ci + 2] += c22; c[ci + 3] += c23;
      ci += ldc;
      c[ci] += c30; c[ci + 1] += c31; c[ci + 2] += c32; c[ci + 3] += c33;
      ci += ldc;
      c[ci] += c40; c[ci + 1] += c41; c[ci + 2] += c42; c[ci + 3] += c43;
      ci += ldc;
      c[ci] += c50; c[ci + 1] += c51; c[ci + 2] += c52; c[ci + 3] += c53;
      ci += ldc;
      c[ci] += c60; c[ci + 1] += c61; c[ci + 2] += c62; c[ci + 3] += c63;
      ci += ldc;
      c[ci] += c70; c[ci + 1] += c71; c[ci + 2] += c72; c[ci + 3] += c73;
    }
  } else {
    const t = edgeTile;
    t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
    t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
    t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
    t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
    t[16] = c40; t[17] = c41; t[18] = c42; t[19] = c43;
    t[20] = c50; t[21] = c51; t[22] = c52; t[23] = c53;
    t[24] = c60; t[25] = c61; t[26] = c62; t[27] = c63;
    t[28] = c70; t[29] = c71; t[30] = c72; t[31] = c73;
    writeEdge(t, 4, c, ci, ldc, mr, nr, store);
  }
}

function kernel3x8(
  kc: number,
  A: Float32Array,
  pa: number,
  ars: number,
  acs: number,
  B: Float32Array,
  pb: number,
  bcs: number,
  c: Float32Array,
  ci: number,
  ldc: number,
  mr: number,
  nr: number,
  store: boolean,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0;
  const o1 = ars;
  const o2 = 2 * ars;
  for (let k = 0; k < kc; k++) {
    const a0 = A[pa];
    const a1 = A[pa + o1];
    const a2 = A[pa + o2];
    const b0 = B[pb];
    const b1 = B[pb + 1];
    const b2 = B[pb + 2];
    const b3 = B[pb + 3];
    const b4 = B[pb + 4];
    const b5 = B[pb + 5];
    const b6 = B[pb + 6];
    const b7 = B[pb + 7];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3; c04 += a0 * b4; c05 += a0 * b5; c06 += a0 * b6; c07 += a0 * b7;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3; c14 += a1 * b4; c15 += a1 * b5; c16 += a1 * b6; c17 += a1 * b7;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3; c24 += a2 * b4; c25 += a2 * b5; c26 += a2 * b6; c27 += a2 * b7;
    pa += acs;
    pb += bcs;
  }
  if (mr === 3 && nr === 8) {
    if (store) {
      c[ci] = c00; c[ci + 1] = c01; c[ci + 2] = c02; c[ci + 3] = c03; c[ci + 4] = c04; c[ci + 5] = c05; c[ci + 6] = c06; c[ci + 7] = c07;
      ci += ldc;
      c[ci] = c10; c[ci + 1] = c11; c[ci + 2] = c12; c[ci + 3] = c13; c[ci + 4] = c14; c[ci + 5] = c15; c[ci + 6] = c16; c[ci + 7] = c17;
      ci += ldc;
      c[ci] = c20; c[ci + 1] = c21; c[ci + 2] = c22; c[ci + 3] = c23; c[ci + 4] = c24; c[ci + 5] = c25; c[ci + 6] = c26; c[ci + 7] = c27;
    } else {
      c[ci] += c00; c[ci + 1] += c01; c[ci + 2] += c02; c[ci + 3] += c03; c[ci + 4] += c04; c[ci + 5] += c05; c[ci + 6] += c06; c[ci + 7] += c07;
      ci += ldc;
      c[ci] += c10; c[ci + 1] += c11; c[ci + 2] += c12; c[ci + 3] += c13; c[ci + 4] += c14; c[ci + 5] += c15; c[ci + 6] += c16; c[ci + 7] += c17;
      ci += ldc;
      c[ci] += c20; c[ci + 1] += c21; c[ci + 2] += c22; c[ci + 3] += c23; c[ci + 4] += c24; c[ci + 5] += c25; c[ci + 6] += c26; c[ci + 7] += c27;
    }
  } else {
    const t = edgeTile;
    t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03; t[4] = c04; t[5] = c05; t[6] = c06; t[7] = c07;
    t[8] = c10; t[9] = c11; t[10] = c12; t[11] = c13; t[12] = c14; t[13] = c15; t[14] = c16; t[15] = c17;
    t[16] = c20; t[17] = c21; t[18] = c22; t[19] = c23; t[20] = c24; t[21] = c25; t[22] = c26; t[23] = c27;
    writeEdge(t, 8, c, ci, ldc, mr, nr, store);
  }
}


/** Packs rows [i0, i0 + mr) × k [pc, pc + kc) of op(a) into dst at off as kc × 4 (k-major), zero-padded. */
function packPanelA_4x4(
  a: Float32Array, transA: boolean, M: number, K: number,
  i0: number, mr: number, pc: number, kc: number, dst: Float32Array, off: number,
): void {
  if (!transA) {
    for (let r = 0; r < mr; r++) {
      let src = (i0 + r) * K + pc;
      let d = off + r;
      for (let k = 0; k < kc; k++) {
        dst[d] = a[src++];
        d += 4;
      }
    }
  } else {
    let src = pc * M + i0;
    let d = off;
    if (mr === 4) {
      for (let k = 0; k < kc; k++) {
        dst[d] = a[src];
        dst[d + 1] = a[src + 1];
        dst[d + 2] = a[src + 2];
        dst[d + 3] = a[src + 3];
        src += M;
        d += 4;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < mr; r++) dst[d + r] = a[src + r];
        src += M;
        d += 4;
      }
    }
  }
  for (let r = mr; r < 4; r++) {
    let d = off + r;
    for (let k = 0; k < kc; k++) {
      dst[d] = 0;
      d += 4;
    }
  }
}

/** Packs k [pc, pc + kc) × columns [j0, j0 + nr) of op(b) into dst at off as kc × 4 (k-major), zero-padded. */
function packPanelB_4x4(
  b: Float32Array, transB: boolean, N: number, K: number,
  j0: number, nr: number, pc: number, kc: number, dst: Float32Array, off: number,
): void {
  if (!transB) {
    let src = pc * N + j0;
    let d = off;
    if (nr === 4) {
      for (let k = 0; k < kc; k++) {
        dst[d] = b[src];
        dst[d + 1] = b[src + 1];
        dst[d + 2] = b[src + 2];
        dst[d + 3] = b[src + 3];
        src += N;
        d += 4;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let j = 0; j < nr; j++) dst[d + j] = b[src + j];
        src += N;
        d += 4;
      }
    }
  } else {
    for (let j = 0; j < nr; j++) {
      let src = (j0 + j) * K + pc;
      let d = off + j;
      for (let k = 0; k < kc; k++) {
        dst[d] = b[src++];
        d += 4;
      }
    }
  }
  for (let j = nr; j < 4; j++) {
    let d = off + j;
    for (let k = 0; k < kc; k++) {
      dst[d] = 0;
      d += 4;
    }
  }
}

export function gemm_4x4(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  accumulate = false,
  MC = 128,
  KC = 256,
  NC = 1024,
  TA = 16,
  TB = 32,
): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) c.fill(0, 0, M * N);
    return;
  }
  const mcMax = Math.min(MC, M);
  const kcMax = Math.min(KC, K);
  const ncMax = Math.min(NC, N);
  // Pack A when each A panel is reused across enough column panels; pack B when it is transposed or
  // its rows are far apart. Otherwise the kernel reads full panels in place (edge panels are packed).
  const doPackA = N > TA;
  const doPackB = transB || N > TB;
  const needA = (doPackA ? Math.ceil(mcMax / 4) : 1) * 4 * kcMax;
  const needB = (doPackB ? Math.ceil(ncMax / 4) : 1) * 4 * kcMax;
  if (packA.length < needA) packA = new Float32Array(needA);
  if (packB.length < needB) packB = new Float32Array(needB);
  const ars = transA ? 1 : K;
  const acs = transA ? M : 1;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      const store = pc === 0 && !accumulate;
      if (doPackB) {
        for (let jr = 0, off = 0; jr < nc; jr += 4, off += kc * 4) {
          packPanelB_4x4(b, transB, N, K, jc + jr, Math.min(4, nc - jr), pc, kc, packB, off);
        }
      } else if (nc % 4 !== 0) {
        const jr = nc - (nc % 4);
        packPanelB_4x4(b, transB, N, K, jc + jr, nc - jr, pc, kc, packB, 0);
      }
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        if (doPackA) {
          for (let ir = 0, off = 0; ir < mc; ir += 4, off += kc * 4) {
            packPanelA_4x4(a, transA, M, K, ic + ir, Math.min(4, mc - ir), pc, kc, packA, off);
          }
        } else if (mc % 4 !== 0) {
          const ir = mc - (mc % 4);
          packPanelA_4x4(a, transA, M, K, ic + ir, mc - ir, pc, kc, packA, 0);
        }
        for (let jr = 0; jr < nc; jr += 4) {
          const nr = Math.min(4, nc - jr);
          let B = b;
          let pb = pc * N + jc + jr;
          let bcs = N;
          if (doPackB) {
            B = packB;
            pb = (jr / 4) * kc * 4;
            bcs = 4;
          } else if (nr < 4) {
            B = packB;
            pb = 0;
            bcs = 4;
          }
          for (let ir = 0; ir < mc; ir += 4) {
            const mr = Math.min(4, mc - ir);
            const ci = (ic + ir) * N + jc + jr;
            if (doPackA) {
              kernel4x4(kc, packA, (ir / 4) * kc * 4, 1, 4, B, pb, bcs, c, ci, N, mr, nr, store);
            } else if (mr < 4) {
              kernel4x4(kc, packA, 0, 1, 4, B, pb, bcs, c, ci, N, mr, nr, store);
            } else {
              const pa = transA ? pc * M + ic + ir : (ic + ir) * K + pc;
              kernel4x4(kc, a, pa, ars, acs, B, pb, bcs, c, ci, N, mr, nr, store);
            }
          }
        }
      }
    }
  }
}


/** Packs rows [i0, i0 + mr) × k [pc, pc + kc) of op(a) into dst at off as kc × 4 (k-major), zero-padded. */
function packPanelA_4x8(
  a: Float32Array, transA: boolean, M: number, K: number,
  i0: number, mr: number, pc: number, kc: number, dst: Float32Array, off: number,
): void {
  if (!transA) {
    for (let r = 0; r < mr; r++) {
      let src = (i0 + r) * K + pc;
      let d = off + r;
      for (let k = 0; k < kc; k++) {
        dst[d] = a[src++];
        d += 4;
      }
    }
  } else {
    let src = pc * M + i0;
    let d = off;
    if (mr === 4) {
      for (let k = 0; k < kc; k++) {
        dst[d] = a[src];
        dst[d + 1] = a[src + 1];
        dst[d + 2] = a[src + 2];
        dst[d + 3] = a[src + 3];
        src += M;
        d += 4;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < mr; r++) dst[d + r] = a[src + r];
        src += M;
        d += 4;
      }
    }
  }
  for (let r = mr; r < 4; r++) {
    let d = off + r;
    for (let k = 0; k < kc; k++) {
      dst[d] = 0;
      d += 4;
    }
  }
}

/** Packs k [pc, pc + kc) × columns [j0, j0 + nr) of op(b) into dst at off as kc × 8 (k-major), zero-padded. */
function packPanelB_4x8(
  b: Float32Array, transB: boolean, N: number, K: number,
  j0: number, nr: number, pc: number, kc: number, dst: Float32Array, off: number,
): void {
  if (!transB) {
    let src = pc * N + j0;
    let d = off;
    if (nr === 8) {
      for (let k = 0; k < kc; k++) {
        dst[d] = b[src];
        dst[d + 1] = b[src + 1];
        dst[d + 2] = b[src + 2];
        dst[d + 3] = b[src + 3];
        dst[d + 4] = b[src + 4];
        dst[d + 5] = b[src + 5];
        dst[d + 6] = b[src + 6];
        dst[d + 7] = b[src + 7];
        src += N;
        d += 8;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let j = 0; j < nr; j++) dst[d + j] = b[src + j];
        src += N;
        d += 8;
      }
    }
  } else {
    for (let j = 0; j < nr; j++) {
      let src = (j0 + j) * K + pc;
      let d = off + j;
      for (let k = 0; k < kc; k++) {
        dst[d] = b[src++];
        d += 8;
      }
    }
  }
  for (let j = nr; j < 8; j++) {
    let d = off + j;
    for (let k = 0; k < kc; k++) {
      dst[d] = 0;
      d += 8;
    }
  }
}

export function gemm_4x8(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  accumulate = false,
  MC = 128,
  KC = 256,
  NC = 1024,
  TA = 16,
  TB = 32,
): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) c.fill(0, 0, M * N);
    return;
  }
  const mcMax = Math.min(MC, M);
  const kcMax = Math.min(KC, K);
  const ncMax = Math.min(NC, N);
  // Pack A when each A panel is reused across enough column panels; pack B when it is transposed or
  // its rows are far apart. Otherwise the kernel reads full panels in place (edge panels are packed).
  const doPackA = N > TA;
  const doPackB = transB || N > TB;
  const needA = (doPackA ? Math.ceil(mcMax / 4) : 1) * 4 * kcMax;
  const needB = (doPackB ? Math.ceil(ncMax / 8) : 1) * 8 * kcMax;
  if (packA.length < needA) packA = new Float32Array(needA);
  if (packB.length < needB) packB = new Float32Array(needB);
  const ars = transA ? 1 : K;
  const acs = transA ? M : 1;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      const store = pc === 0 && !accumulate;
      if (doPackB) {
        for (let jr = 0, off = 0; jr < nc; jr += 8, off += kc * 8) {
          packPanelB_4x8(b, transB, N, K, jc + jr, Math.min(8, nc - jr), pc, kc, packB, off);
        }
      } else if (nc % 8 !== 0) {
        const jr = nc - (nc % 8);
        packPanelB_4x8(b, transB, N, K, jc + jr, nc - jr, pc, kc, packB, 0);
      }
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        if (doPackA) {
          for (let ir = 0, off = 0; ir < mc; ir += 4, off += kc * 4) {
            packPanelA_4x8(a, transA, M, K, ic + ir, Math.min(4, mc - ir), pc, kc, packA, off);
          }
        } else if (mc % 4 !== 0) {
          const ir = mc - (mc % 4);
          packPanelA_4x8(a, transA, M, K, ic + ir, mc - ir, pc, kc, packA, 0);
        }
        for (let jr = 0; jr < nc; jr += 8) {
          const nr = Math.min(8, nc - jr);
          let B = b;
          let pb = pc * N + jc + jr;
          let bcs = N;
          if (doPackB) {
            B = packB;
            pb = (jr / 8) * kc * 8;
            bcs = 8;
          } else if (nr < 8) {
            B = packB;
            pb = 0;
            bcs = 8;
          }
          for (let ir = 0; ir < mc; ir += 4) {
            const mr = Math.min(4, mc - ir);
            const ci = (ic + ir) * N + jc + jr;
            if (doPackA) {
              kernel4x8(kc, packA, (ir / 4) * kc * 4, 1, 4, B, pb, bcs, c, ci, N, mr, nr, store);
            } else if (mr < 4) {
              kernel4x8(kc, packA, 0, 1, 4, B, pb, bcs, c, ci, N, mr, nr, store);
            } else {
              const pa = transA ? pc * M + ic + ir : (ic + ir) * K + pc;
              kernel4x8(kc, a, pa, ars, acs, B, pb, bcs, c, ci, N, mr, nr, store);
            }
          }
        }
      }
    }
  }
}


/** Packs rows [i0, i0 + mr) × k [pc, pc + kc) of op(a) into dst at off as kc × 8 (k-major), zero-padded. */
function packPanelA_8x4(
  a: Float32Array, transA: boolean, M: number, K: number,
  i0: number, mr: number, pc: number, kc: number, dst: Float32Array, off: number,
): void {
  if (!transA) {
    for (let r = 0; r < mr; r++) {
      let src = (i0 + r) * K + pc;
      let d = off + r;
      for (let k = 0; k < kc; k++) {
        dst[d] = a[src++];
        d += 8;
      }
    }
  } else {
    let src = pc * M + i0;
    let d = off;
    if (mr === 8) {
      for (let k = 0; k < kc; k++) {
        dst[d] = a[src];
        dst[d + 1] = a[src + 1];
        dst[d + 2] = a[src + 2];
        dst[d + 3] = a[src + 3];
        dst[d + 4] = a[src + 4];
        dst[d + 5] = a[src + 5];
        dst[d + 6] = a[src + 6];
        dst[d + 7] = a[src + 7];
        src += M;
        d += 8;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < mr; r++) dst[d + r] = a[src + r];
        src += M;
        d += 8;
      }
    }
  }
  for (let r = mr; r < 8; r++) {
    let d = off + r;
    for (let k = 0; k < kc; k++) {
      dst[d] = 0;
      d += 8;
    }
  }
}

/** Packs k [pc, pc + kc) × columns [j0, j0 + nr) of op(b) into dst at off as kc × 4 (k-major), zero-padded. */
function packPanelB_8x4(
  b: Float32Array, transB: boolean, N: number, K: number,
  j0: number, nr: number, pc: number, kc: number, dst: Float32Array, off: number,
): void {
  if (!transB) {
    let src = pc * N + j0;
    let d = off;
    if (nr === 4) {
      for (let k = 0; k < kc; k++) {
        dst[d] = b[src];
        dst[d + 1] = b[src + 1];
        dst[d + 2] = b[src + 2];
        dst[d + 3] = b[src + 3];
        src += N;
        d += 4;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let j = 0; j < nr; j++) dst[d + j] = b[src + j];
        src += N;
        d += 4;
      }
    }
  } else {
    for (let j = 0; j < nr; j++) {
      let src = (j0 + j) * K + pc;
      let d = off + j;
      for (let k = 0; k < kc; k++) {
        dst[d] = b[src++];
        d += 4;
      }
    }
  }
  for (let j = nr; j < 4; j++) {
    let d = off + j;
    for (let k = 0; k < kc; k++) {
      dst[d] = 0;
      d += 4;
    }
  }
}

export function gemm_8x4(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  accumulate = false,
  MC = 128,
  KC = 256,
  NC = 1024,
  TA = 16,
  TB = 32,
): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) c.fill(0, 0, M * N);
    return;
  }
  const mcMax = Math.min(MC, M);
  const kcMax = Math.min(KC, K);
  const ncMax = Math.min(NC, N);
  // Pack A when each A panel is reused across enough column panels; pack B when it is transposed or
  // its rows are far apart. Otherwise the kernel reads full panels in place (edge panels are packed).
  const doPackA = N > TA;
  const doPackB = transB || N > TB;
  const needA = (doPackA ? Math.ceil(mcMax / 8) : 1) * 8 * kcMax;
  const needB = (doPackB ? Math.ceil(ncMax / 4) : 1) * 4 * kcMax;
  if (packA.length < needA) packA = new Float32Array(needA);
  if (packB.length < needB) packB = new Float32Array(needB);
  const ars = transA ? 1 : K;
  const acs = transA ? M : 1;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      const store = pc === 0 && !accumulate;
      if (doPackB) {
        for (let jr = 0, off = 0; jr < nc; jr += 4, off += kc * 4) {
          packPanelB_8x4(b, transB, N, K, jc + jr, Math.min(4, nc - jr), pc, kc, packB, off);
        }
      } else if (nc % 4 !== 0) {
        const jr = nc - (nc % 4);
        packPanelB_8x4(b, transB, N, K, jc + jr, nc - jr, pc, kc, packB, 0);
      }
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        if (doPackA) {
          for (let ir = 0, off = 0; ir < mc; ir += 8, off += kc * 8) {
            packPanelA_8x4(a, transA, M, K, ic + ir, Math.min(8, mc - ir), pc, kc, packA, off);
          }
        } else if (mc % 8 !== 0) {
          const ir = mc - (mc % 8);
          packPanelA_8x4(a, transA, M, K, ic + ir, mc - ir, pc, kc, packA, 0);
        }
        for (let jr = 0; jr < nc; jr += 4) {
          const nr = Math.min(4, nc - jr);
          let B = b;
          let pb = pc * N + jc + jr;
          let bcs = N;
          if (doPackB) {
            B = packB;
            pb = (jr / 4) * kc * 4;
            bcs = 4;
          } else if (nr < 4) {
            B = packB;
            pb = 0;
            bcs = 4;
          }
          for (let ir = 0; ir < mc; ir += 8) {
            const mr = Math.min(8, mc - ir);
            const ci = (ic + ir) * N + jc + jr;
            if (doPackA) {
              kernel8x4(kc, packA, (ir / 8) * kc * 8, 1, 8, B, pb, bcs, c, ci, N, mr, nr, store);
            } else if (mr < 8) {
              kernel8x4(kc, packA, 0, 1, 8, B, pb, bcs, c, ci, N, mr, nr, store);
            } else {
              const pa = transA ? pc * M + ic + ir : (ic + ir) * K + pc;
              kernel8x4(kc, a, pa, ars, acs, B, pb, bcs, c, ci, N, mr, nr, store);
            }
          }
        }
      }
    }
  }
}


/** Packs rows [i0, i0 + mr) × k [pc, pc + kc) of op(a) into dst at off as kc × 3 (k-major), zero-padded. */
function packPanelA_3x8(
  a: Float32Array, transA: boolean, M: number, K: number,
  i0: number, mr: number, pc: number, kc: number, dst: Float32Array, off: number,
): void {
  if (!transA) {
    for (let r = 0; r < mr; r++) {
      let src = (i0 + r) * K + pc;
      let d = off + r;
      for (let k = 0; k < kc; k++) {
        dst[d] = a[src++];
        d += 3;
      }
    }
  } else {
    let src = pc * M + i0;
    let d = off;
    if (mr === 3) {
      for (let k = 0; k < kc; k++) {
        dst[d] = a[src];
        dst[d + 1] = a[src + 1];
        dst[d + 2] = a[src + 2];
        src += M;
        d += 3;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < mr; r++) dst[d + r] = a[src + r];
        src += M;
        d += 3;
      }
    }
  }
  for (let r = mr; r < 3; r++) {
    let d = off + r;
    for (let k = 0; k < kc; k++) {
      dst[d] = 0;
      d += 3;
    }
  }
}

/** Packs k [pc, pc + kc) × columns [j0, j0 + nr) of op(b) into dst at off as kc × 8 (k-major), zero-padded. */
function packPanelB_3x8(
  b: Float32Array, transB: boolean, N: number, K: number,
  j0: number, nr: number, pc: number, kc: number, dst: Float32Array, off: number,
): void {
  if (!transB) {
    let src = pc * N + j0;
    let d = off;
    if (nr === 8) {
      for (let k = 0; k < kc; k++) {
        dst[d] = b[src];
        dst[d + 1] = b[src + 1];
        dst[d + 2] = b[src + 2];
        dst[d + 3] = b[src + 3];
        dst[d + 4] = b[src + 4];
        dst[d + 5] = b[src + 5];
        dst[d + 6] = b[src + 6];
        dst[d + 7] = b[src + 7];
        src += N;
        d += 8;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let j = 0; j < nr; j++) dst[d + j] = b[src + j];
        src += N;
        d += 8;
      }
    }
  } else {
    for (let j = 0; j < nr; j++) {
      let src = (j0 + j) * K + pc;
      let d = off + j;
      for (let k = 0; k < kc; k++) {
        dst[d] = b[src++];
        d += 8;
      }
    }
  }
  for (let j = nr; j < 8; j++) {
    let d = off + j;
    for (let k = 0; k < kc; k++) {
      dst[d] = 0;
      d += 8;
    }
  }
}

export function gemm_3x8(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  accumulate = false,
  MC = 128,
  KC = 256,
  NC = 1024,
  TA = 16,
  TB = 32,
): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) c.fill(0, 0, M * N);
    return;
  }
  const mcMax = Math.min(MC, M);
  const kcMax = Math.min(KC, K);
  const ncMax = Math.min(NC, N);
  // Pack A when each A panel is reused across enough column panels; pack B when it is transposed or
  // its rows are far apart. Otherwise the kernel reads full panels in place (edge panels are packed).
  const doPackA = N > TA;
  const doPackB = transB || N > TB;
  const needA = (doPackA ? Math.ceil(mcMax / 3) : 1) * 3 * kcMax;
  const needB = (doPackB ? Math.ceil(ncMax / 8) : 1) * 8 * kcMax;
  if (packA.length < needA) packA = new Float32Array(needA);
  if (packB.length < needB) packB = new Float32Array(needB);
  const ars = transA ? 1 : K;
  const acs = transA ? M : 1;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      const store = pc === 0 && !accumulate;
      if (doPackB) {
        for (let jr = 0, off = 0; jr < nc; jr += 8, off += kc * 8) {
          packPanelB_3x8(b, transB, N, K, jc + jr, Math.min(8, nc - jr), pc, kc, packB, off);
        }
      } else if (nc % 8 !== 0) {
        const jr = nc - (nc % 8);
        packPanelB_3x8(b, transB, N, K, jc + jr, nc - jr, pc, kc, packB, 0);
      }
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        if (doPackA) {
          for (let ir = 0, off = 0; ir < mc; ir += 3, off += kc * 3) {
            packPanelA_3x8(a, transA, M, K, ic + ir, Math.min(3, mc - ir), pc, kc, packA, off);
          }
        } else if (mc % 3 !== 0) {
          const ir = mc - (mc % 3);
          packPanelA_3x8(a, transA, M, K, ic + ir, mc - ir, pc, kc, packA, 0);
        }
        for (let jr = 0; jr < nc; jr += 8) {
          const nr = Math.min(8, nc - jr);
          let B = b;
          let pb = pc * N + jc + jr;
          let bcs = N;
          if (doPackB) {
            B = packB;
            pb = (jr / 8) * kc * 8;
            bcs = 8;
          } else if (nr < 8) {
            B = packB;
            pb = 0;
            bcs = 8;
          }
          for (let ir = 0; ir < mc; ir += 3) {
            const mr = Math.min(3, mc - ir);
            const ci = (ic + ir) * N + jc + jr;
            if (doPackA) {
              kernel3x8(kc, packA, (ir / 3) * kc * 3, 1, 3, B, pb, bcs, c, ci, N, mr, nr, store);
            } else if (mr < 3) {
              kernel3x8(kc, packA, 0, 1, 3, B, pb, bcs, c, ci, N, mr, nr, store);
            } else {
              const pa = transA ? pc * M + ic + ir : (ic + ir) * K + pc;
              kernel3x8(kc, a, pa, ars, acs, B, pb, bcs, c, ci, N, mr, nr, store);
            }
          }
        }
      }
    }
  }
}

