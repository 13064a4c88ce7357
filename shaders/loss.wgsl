// loss.wgsl: softmax over the last axis, and softmax cross-entropy with its gradient fused.
// Lowered to by: softmax, softmaxCrossEntropy (forward and backward). f32 logits, rows of C.
//
// Bindings (group 0):
//   softmax_last:        0 x read [rows,C]   1 y rw [rows,C]   2 u
//   softmax_xent_index:  0 logits read [N,C] 1 labels read i32 [N]   2 dloss read [1]
//                        3 loss rw [1]       4 dlogits rw [N,C]      5 u
//   softmax_xent_prob:   as softmax_xent_index, with labels f32 [N,C] (target probabilities)
// Uniform Params: rows (N), cols (C), flags (softmax_xent_*: XENT_LOSS, XENT_GRAD: which outputs
//   to write, the other binding may be any buffer; XENT_DLOSS: scale the gradient by dloss[0],
//   otherwise by 1). Flags rather than overrides: the forward (loss) and backward (gradient)
//   passes share one pipeline, one fewer to compile at start-up, for a branch per row on 64×10.
// Overrides: WG (power of two).
// Math, per row with m = max_j l_j and s = Σ_j exp(l_j − m) (max-subtracted, so stable for any
//   magnitude; exp never overflows and s ≥ 1):
//   loss_row = Σ_j t_j·((m − l_j) + log s)      (index labels: t is one-hot at y, so m − l_y + log s)
//   loss     = mean over rows;   dlogits = (softmax − t) · dloss / N.
//   An index label outside [0, C) makes the loss NaN (and its gradient row the softmax).
// Grid: softmax_last: one thread per row, linear. softmax_xent_*: ONE workgroup; its threads
//   stride over rows for the gradient, and its first thread sums the row losses in row order
//   (deterministic). No workgroup barrier, so no tree: on SwiftShader a single barrier made this
//   pipeline 2.5-3× slower to compile (about 70 ms more at start-up), and a classifier's loss
//   (LeNet: 64 rows of 10) is small work for one thread.

struct Params { rows: u32, cols: u32, flags: u32, _pad: u32 }

override WG: u32 = 256u;
const XENT_LOSS = 1u;
const XENT_GRAD = 2u;
const XENT_DLOSS = 4u;

@group(0) @binding(0) var<storage, read> sm_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> sm_y: array<f32>;
@group(0) @binding(2) var<uniform> sm_u: Params;

@compute @workgroup_size(WG)
fn softmax_last(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) li: u32) {
  let row = linear_workgroup(wid, nwg) * WG + li;
  if (row >= sm_u.rows) { return; }
  let base = row * sm_u.cols;
  var m = F32_LOWEST;
  for (var j = 0u; j < sm_u.cols; j++) { m = max(m, sm_x[base + j]); }
  var s = 0.0;
  for (var j = 0u; j < sm_u.cols; j++) { s += exp(sm_x[base + j] - m); }
  for (var j = 0u; j < sm_u.cols; j++) { sm_y[base + j] = exp(sm_x[base + j] - m) / s; }
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> label_index: array<i32>;
@group(0) @binding(1) var<storage, read> label_prob: array<f32>;
@group(0) @binding(2) var<storage, read> dloss: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<uniform> u: Params;

fn row_max(base: u32) -> f32 {
  var m = F32_LOWEST;
  for (var j = 0u; j < u.cols; j++) { m = max(m, logits[base + j]); }
  return m;
}

fn row_sum_exp(base: u32, m: f32) -> f32 {
  var s = 0.0;
  for (var j = 0u; j < u.cols; j++) { s += exp(logits[base + j] - m); }
  return s;
}

fn grad_scale() -> f32 {
  var g = 1.0 / f32(u.rows);
  if ((u.flags & XENT_DLOSS) != 0u) { g *= dloss[0]; }
  return g;
}

fn index_row_loss(row: u32) -> f32 {
  let base = row * u.cols;
  let m = row_max(base);
  let y = label_index[row];
  if (y < 0 || u32(y) >= u.cols) { return quiet_nan(u.rows & 0u); } // the label is out of range
  return (m - logits[base + u32(y)]) + log(row_sum_exp(base, m));
}

fn prob_row_loss(row: u32) -> f32 {
  let base = row * u.cols;
  let m = row_max(base);
  let log_s = log(row_sum_exp(base, m));
  var l = 0.0;
  for (var j = 0u; j < u.cols; j++) { l += label_prob[base + j] * ((m - logits[base + j]) + log_s); }
  return l;
}

@compute @workgroup_size(WG)
fn softmax_xent_index(@builtin(local_invocation_index) li: u32) {
  if ((u.flags & XENT_GRAD) != 0u) {
    let scale = grad_scale();
    for (var row = li; row < u.rows; row += WG) {
      let base = row * u.cols;
      let m = row_max(base);
      let s = row_sum_exp(base, m);
      let y = label_index[row];
      for (var j = 0u; j < u.cols; j++) {
        let t = select(0.0, 1.0, i32(j) == y);
        dlogits[base + j] = (exp(logits[base + j] - m) / s - t) * scale;
      }
    }
  }
  if ((u.flags & XENT_LOSS) != 0u && li == 0u) {
    var total = 0.0;
    for (var row = 0u; row < u.rows; row++) { total += index_row_loss(row); }
    loss[0] = total / f32(u.rows);
  }
}

@compute @workgroup_size(WG)
fn softmax_xent_prob(@builtin(local_invocation_index) li: u32) {
  if ((u.flags & XENT_GRAD) != 0u) {
    let scale = grad_scale();
    for (var row = li; row < u.rows; row += WG) {
      let base = row * u.cols;
      let m = row_max(base);
      let s = row_sum_exp(base, m);
      for (var j = 0u; j < u.cols; j++) {
        dlogits[base + j] = (exp(logits[base + j] - m) / s - label_prob[base + j]) * scale;
      }
    }
  }
  if ((u.flags & XENT_LOSS) != 0u && li == 0u) {
    var total = 0.0;
    for (var row = 0u; row < u.rows; row++) { total += prob_row_loss(row); }
    loss[0] = total / f32(u.rows);
  }
}
