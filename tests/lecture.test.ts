// The worked examples of the lecture (DESIGN.md §1), exact values, on the cpu backend.
import { describe, expect, it } from 'vitest';
import * as f from '../packages/core/src/index.js';

const pool = [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]];
const asMap = (rows: number[][]) => f.tensor(rows.flat(), [1, rows.length, rows[0].length, 1]);
const range = (n: number, start = 1) => Array.from({ length: n }, (_, i) => start + i);

describe('lecture examples', () => {
  it('6×6×1 with one 3×3 filter, stride 1, no padding → 4×4; v1 = top-left patch · filter + b', async () => {
    const x = f.tensor(range(36), [1, 6, 6, 1]);
    const w = f.tensor([1, 0, -1, 2, 0, -2, 1, 0, -1], [3, 3, 1, 1]);
    const b = f.tensor([0.5], [1]);
    const y = f.conv2d(x, w, { bias: b });
    expect(y.shape).toEqual([1, 4, 4, 1]);
    const v = await y.data();
    // top-left patch rows [1,2,3],[7,8,9],[13,14,15]
    const v1 = 1 * 1 - 3 + 2 * 7 - 2 * 9 + 13 - 15 + 0.5;
    expect(v[0]).toBe(v1);
    expect(v.length).toBe(16);
  });

  it('10×10×3 with one 2×2×3 filter → 9×9×1 (12 weights + 1 bias)', () => {
    const model = new f.nn.Sequential([new f.nn.Conv2d({ filters: 1, kernelSize: 2 })], { inputShape: [10, 10, 3] });
    expect(model.outputShape).toEqual([9, 9, 1]);
    expect(model.parameters().map((p) => p.size)).toEqual([12, 1]);
  });

  it('10×10×3 with 5 filters of 2×2×3 → 9×9×5; 60 weights and 5 biases', () => {
    const model = new f.nn.Sequential([new f.nn.Conv2d({ filters: 5, kernelSize: 2 })], { inputShape: [10, 10, 3] });
    expect(model.outputShape).toEqual([9, 9, 5]);
    const text = model.summary(() => {});
    expect(text).toContain('[9,9,5]');
    expect(text).toContain('60 weights + 5 biases');
    expect(text).toContain('total parameters: 65');
  });

  it('6×6 with a 3×3 filter and stride 3 → 2×2', () => {
    const y = f.conv2d(f.zeros([1, 6, 6, 1]), f.zeros([3, 3, 1, 1]), { stride: 3 });
    expect(y.shape).toEqual([1, 2, 2, 1]);
  });

  it('4×4 with a 3×3 filter: padding 1 keeps 4×4, no padding gives 2×2', () => {
    expect(f.conv2d(f.zeros([1, 4, 4, 1]), f.zeros([3, 3, 1, 1]), { padding: 1 }).shape).toEqual([1, 4, 4, 1]);
    expect(f.conv2d(f.zeros([1, 4, 4, 1]), f.zeros([3, 3, 1, 1])).shape).toEqual([1, 2, 2, 1]);
    expect(f.conv2d(f.zeros([1, 4, 4, 1]), f.zeros([3, 3, 1, 1]), { padding: 'same' }).shape).toEqual([1, 4, 4, 1]);
  });

  it('max pool 2×2 stride 2 → [[6,8],[3,4]]', async () => {
    expect(Array.from(await f.maxPool2d(asMap(pool), { size: 2, stride: 2 }).data())).toEqual([6, 8, 3, 4]);
  });

  it('average pool 2×2 stride 2 → [[3.25,5.25],[2,2]]', async () => {
    expect(Array.from(await f.avgPool2d(asMap(pool), { size: [2, 2], stride: 2 }).data())).toEqual([3.25, 5.25, 2, 2]);
  });

  it('224×224×64 pooled 2×2 stride 2 → 112×112×64', () => {
    const model = new f.nn.Sequential([new f.nn.MaxPool2d({ size: 2, stride: 2 })], { inputShape: [224, 224, 64] });
    expect(model.outputShape).toEqual([112, 112, 64]);
  });

  it('flatten 3×4×5 → 60', async () => {
    const x = f.tensor(range(60, 0), [1, 3, 4, 5]);
    const y = f.flatten(x);
    expect(y.shape).toEqual([1, 60]);
    expect(Array.from(await y.data())).toEqual(range(60, 0));
  });

  it('6×6, F=3, S=2 floors 2.5 to 2 and the summary warns that the last row/column is never covered', () => {
    const model = new f.nn.Sequential([new f.nn.Conv2d({ filters: 1, kernelSize: 3, stride: 2 })], { inputShape: [6, 6, 1] });
    expect(model.outputShape).toEqual([2, 2, 1]);
    const text = model.summary(() => {});
    expect(text).toMatch(/warning: conv2d_1: stride 2 leaves the last 1 rows never covered/);
  });

  it('a filter larger than the padded input is an error naming the layer and the formula', () => {
    expect(() => new f.nn.Sequential([new f.nn.Conv2d({ filters: 1, kernelSize: 7 })], { inputShape: [4, 4, 1] })).toThrow(
      /layer 0 \(conv2d_1\).*floor\(\(4 − 7 \+ 0 \+ 0\) \/ 1\) \+ 1 = -2 must be ≥ 1/,
    );
  });
});
