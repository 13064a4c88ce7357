// matmul: C[M,N] = op(A)·op(B), where op transposes when asked (A stored [K,M], B stored [N,K]).
// Backward for C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC; the transposed cases are the same identities
// read through the flags, so no transpose is ever materialised.
import { checkDType, checkOptions, checkRank, describe, fail } from '../errors.js';
import { apply1 } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { defineOp } from './define-op.js';

interface MatmulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

export const matmulOp = defineOp<MatmulAttrs>({
  name: 'matmul',
  outputs([a, b], { transposeA, transposeB }) {
    checkRank('matmul', 'a', a, 2, 'a matrix');
    checkRank('matmul', 'b', b, 2, 'a matrix');
    checkDType('matmul', 'a', a, 'float32');
    checkDType('matmul', 'b', b, 'float32');
    const [m, ka] = transposeA ? [a.shape[1], a.shape[0]] : a.shape;
    const [kb, n] = transposeB ? [b.shape[1], b.shape[0]] : b.shape;
    if (ka !== kb) {
      fail('matmul', `inner sizes must agree: a ${describe(a)}${transposeA ? 'ᵀ' : ''} has ${ka} columns, b ${describe(b)}${transposeB ? 'ᵀ' : ''} has ${kb} rows`);
    }
    return [{ shape: [m, n], dtype: 'float32' }];
  },
  reference([a, b], [as, bs], { transposeA, transposeB }, [out]) {
    const [m, n] = out.shape;
    const k = transposeA ? as.shape[0] : as.shape[1];
    const c = new Float32Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += (transposeA ? a[p * m + i] : a[i * k + p]) * (transposeB ? b[j * k + p] : b[p * n + j]);
        c[i * n + j] = acc;
      }
    return [c];
  },
  backward([dy], { inputs: [a, b], attrs: { transposeA: ta, transposeB: tb } }) {
    const g = dy!;
    const da = ta ? matmul(b, g, { transposeA: tb, transposeB: true }) : matmul(g, b, { transposeB: !tb });
    const db = tb ? matmul(g, a, { transposeA: true, transposeB: ta }) : matmul(a, g, { transposeA: !ta });
    return [da, db];
  },
});

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

/** Matrix product of two rank-2 tensors. */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  checkOptions('matmul', options, ['transposeA', 'transposeB']);
  return apply1(matmulOp, [a, b], { transposeA: options.transposeA === true, transposeB: options.transposeB === true });
}
