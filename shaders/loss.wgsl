// loss.wgsl: softmax over the last axis, and softmax cross-entropy with its gradient fused.
// Lowered to by: softmax, softmaxCrossEntropy (forward and backward). f32 logits, rows of C.
//
// Bindings (group 0):
//   softmax_last:        0 x read [rows,C]   1 y rw [rows,C]   2 u
//   softmax_xent_index:  0 logits read [N,C] 1 labels read i32 [N]   2 dloss read [1]
//                        3 loss rw [1]       4 dlogits rw [N,C]      5 u
//   softmax_xent_prob:   as softmax_xent_index, with labels f32 [N,C] (target probabilities)
// Uniform Params: rows (N), cols (C).
// Overrides: WRITE_LOSS, WRITE_GRAD (which outputs to write; the other binding may be any buffer),
//   HAS_DLOSS (scale the gradient by dloss[0]; otherwise by 1), WG (power of two).
// Math, per row with m = max_j l_j and s = Σ_j exp(l_j − m) (max-subtracted, so stable for any
//   magnitude; exp never overflows and s ≥ 1):
//   loss_row = Σ_j t_j·((m − l_j) + log s)      (index labels: t is one-hot at y, so m − l_y + log s)
//   loss     = mean over rows;   dlogits = (softmax − t) · dloss / N.
//   An index label outside [0, C) makes the loss NaN (and its gradient row the softmax).
// Grid: softmax_last: one thread per row, linear. softmax_xent_*: ONE workgroup; its threads
//   stride over rows and sum their row losses in a workgroup-memory tree (deterministic).

struct Params { rows: u32, cols: u32, _pad0: u32, _pad1: u32 }

override WG: u32 = 256u;
override WRITE_LOSS: bool = true;
override WRITE_GRAD: bool = true;
override HAS_DLOSS: bool = false;

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

var<workgroup> partial: array<f32, WG>;

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
  if (HAS_DLOSS) { g *= dloss[0]; }
  return g;
}

// Sums each thread's `mine` over the workgroup and writes the mean loss (thread 0).
fn finish_loss(li: u32, mine: f32) {
  partial[li] = mine;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { partial[li] += partial[li + s]; }
    workgroupBarrier();
  }
  if (WRITE_LOSS && li == 0u) { loss[0] = partial[0] / f32(u.rows); }
}

@compute @workgroup_size(WG)
fn softmax_xent_index(@builtin(local_invocation_index) li: u32) {
  let scale = grad_scale();
  var mine = 0.0;
  for (var row = li; row < u.rows; row += WG) {
    let base = row * u.cols;
    let m = row_max(base);
    let s = row_sum_exp(base, m);
    let y = label_index[row];
    if (y >= 0 && u32(y) < u.cols) {
      mine += (m - logits[base + u32(y)]) + log(s);
    } else {
      mine += quiet_nan(u.rows & 0u);                   // the label is out of range
    }
    if (WRITE_GRAD) {
      for (var j = 0u; j < u.cols; j++) {
        let t = select(0.0, 1.0, i32(j) == y);
        dlogits[base + j] = (exp(logits[base + j] - m) / s - t) * scale;
      }
    }
  }
  finish_loss(li, mine);
}

@compute @workgroup_size(WG)
fn softmax_xent_prob(@builtin(local_invocation_index) li: u32) {
  let scale = grad_scale();
  var mine = 0.0;
  for (var row = li; row < u.rows; row += WG) {
    let base = row * u.cols;
    let m = row_max(base);
    let s = row_sum_exp(base, m);
    let log_s = log(s);
    for (var j = 0u; j < u.cols; j++) {
      let t = label_prob[base + j];
      mine += t * ((m - logits[base + j]) + log_s);
      if (WRITE_GRAD) { dlogits[base + j] = (exp(logits[base + j] - m) / s - t) * scale; }
    }
  }
  finish_loss(li, mine);
}
