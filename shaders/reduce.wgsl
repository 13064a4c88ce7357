// reduce.wgsl: sums over an axis and arg/max along the last axis, f32.
// Lowered to by: bias gradients (column sums of dY viewed as [M, N]), sum over axes, argmax for
// accuracy, max along the last axis.
//
// A sum over any set of contiguous axes is a sum over the middle axis of a view
// [outer, reduce, inner]: out[o, i] = Σ_r x[(o·reduce + r)·inner + i]. Column sums of [M, N] are
// outer = 1, reduce = M, inner = N; a full sum is outer = inner = 1.
//
// Bindings (group 0):
//   sum_axis_serial, sum_axis_tree: 0 x read  1 out rw [outer·inner]    2 u ReduceParams
//   argmax_last:                    0 x read  1 out rw i32 [rows]       2 u LastParams
//   max_last:                       0 x read  1 out rw [rows]           2 u LastParams
// ReduceParams: outer, reduce, inner. LastParams: rows, cols.
// Override: WG (threads per workgroup; sum_axis_tree needs a power of two).
// Grid: sum_axis_serial, argmax_last, max_last: one thread per output, linear.
//   sum_axis_tree: one workgroup per output; its threads stride over the reduced axis, then a
//   tree in workgroup memory (for long reductions with few outputs).
// argmax: the first index of the maximum wins ties (NaN handling is unspecified). A row of
// length 0 gives −1 (argmax) or the lowest f32 (max).

struct ReduceParams { outer: u32, reduce: u32, inner: u32, _pad: u32 }
struct LastParams { rows: u32, cols: u32, _pad0: u32, _pad1: u32 }

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> ru: ReduceParams;

@compute @workgroup_size(WG)
fn sum_axis_serial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) li: u32) {
  let idx = linear_workgroup(wid, nwg) * WG + li;
  if (idx >= ru.outer * ru.inner) { return; }
  let o = idx / ru.inner;
  let i = idx % ru.inner;
  var sum = 0.0;
  for (var r = 0u; r < ru.reduce; r++) { sum += x[(o * ru.reduce + r) * ru.inner + i]; }
  out[idx] = sum;
}

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn sum_axis_tree(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) li: u32) {
  let idx = linear_workgroup(wid, nwg);
  if (idx >= ru.outer * ru.inner) { return; }        // uniform per workgroup
  let o = idx / ru.inner;
  let i = idx % ru.inner;
  var sum = 0.0;
  for (var r = li; r < ru.reduce; r += WG) { sum += x[(o * ru.reduce + r) * ru.inner + i]; }
  partial[li] = sum;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { partial[li] += partial[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) { out[idx] = partial[0]; }
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
