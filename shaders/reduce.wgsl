// reduce.wgsl: sums over an axis and arg/max along the last axis, f32.
// Lowered to by: bias gradients (column sums of dY viewed as [M, N]), sum over axes, argmax for
// accuracy, max along the last axis.
//
// A sum over any set of contiguous axes is a sum over the middle axis of a view
// [outer, reduce, inner]: out[o, i] = Σ_r x[(o·reduce + r)·inner + i]. Column sums of [M, N] are
// outer = 1, reduce = M, inner = N; a full sum is outer = inner = 1.
//
// Bindings (group 0):
//   sum_axis_chunks:                0 x read  1 out rw [outer·chunks·inner]  2 u ReduceParams
//   argmax_last:                    0 x read  1 out rw i32 [rows]       2 u LastParams
//   max_last:                       0 x read  1 out rw [rows]           2 u LastParams
// ReduceParams: outer, reduce, inner, chunk. sum_axis_chunks sums each run of `chunk` consecutive
//   r (the last one shorter), chunks = max(ceil(reduce / chunk), 1) of them: out[o, c, i] =
//   Σ_{r in chunk c} x[(o·reduce + r)·inner + i]. chunk = reduce is the whole sum in one pass; a
//   long axis over few outputs takes two (kernels/src/reduce.ts), the second summing the chunks.
//   Two passes rather than a workgroup tree: no barrier, which on SwiftShader makes a pipeline
//   2-3× slower to compile, and the sums keep a fixed order (deterministic).
// LastParams: rows, cols.
// Override: WG (threads per workgroup).
// Grid: one thread per output, linear.
// argmax: the first index of the maximum wins ties (NaN handling is unspecified). A row of
// length 0 gives −1 (argmax) or the lowest f32 (max).

struct ReduceParams { outer: u32, reduce: u32, inner: u32, chunk: u32 }
struct LastParams { rows: u32, cols: u32, _pad0: u32, _pad1: u32 }

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> ru: ReduceParams;

@compute @workgroup_size(WG)
fn sum_axis_chunks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) li: u32) {
  let idx = linear_workgroup(wid, nwg) * WG + li;
  let chunks = max((ru.reduce + ru.chunk - 1u) / ru.chunk, 1u); // reduce = 0: one empty chunk, 0
  let per_outer = chunks * ru.inner;
  if (idx >= ru.outer * per_outer) { return; }
  let o = idx / per_outer;
  let c = (idx % per_outer) / ru.inner;
  let i = idx % ru.inner;
  let end = min(ru.reduce, (c + 1u) * ru.chunk);
  var sum = 0.0;
  for (var r = c * ru.chunk; r < end; r++) { sum += x[(o * ru.reduce + r) * ru.inner + i]; }
  out[idx] = sum;
}

@group(0) @binding(1) var<storage, read_write> out_i: array<i32>;
@group(0) @binding(2) var<uniform> lu: LastParams;

@compute @workgroup_size(WG)
fn argmax_last(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) li: u32) {
  let row = linear_workgroup(wid, nwg) * WG + li;
  if (row >= lu.rows) { return; }
  var best = F32_LOWEST;
  var arg = -1;
  for (var j = 0u; j < lu.cols; j++) {
    let v = x[row * lu.cols + j];
    if (arg < 0 || v > best) { best = v; arg = i32(j); }
  }
  out_i[row] = arg;
}

@compute @workgroup_size(WG)
fn max_last(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) li: u32) {
  let row = linear_workgroup(wid, nwg) * WG + li;
  if (row >= lu.rows) { return; }
  var best = F32_LOWEST;
  for (var j = 0u; j < lu.cols; j++) { best = max(best, x[row * lu.cols + j]); }
  out[row] = best;
}
