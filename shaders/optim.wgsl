// optim.wgsl: in-place optimizer updates, so parameters never leave the GPU. f32.
// Lowered to by: optim.SGD (with or without momentum) and optim.Adam.
//
// Bindings (group 0):
//   sgd_step:          0 p rw  1 g read  2 gate read                     3 u
//   sgd_momentum_step: 0 p rw  1 g read  2 gate read  3 v rw             4 u
//   adam_step:         0 p rw  1 g read  2 gate read  3 m rw  4 v rw     5 u
// Uniform Params: n, lr, momentum (SGD) | beta1, beta2, eps, t (Adam: step number, from 1),
//   weight_decay (L2: g ← g + weight_decay·p before the update).
// Updates:  SGD:       p −= lr·g
//           momentum:  v = momentum·v + g;  p −= lr·v
//           Adam:      m = b1·m + (1 − b1)·g;  v = b2·v + (1 − b2)·g²;
//                      p −= lr · (m / (1 − b1^t)) / (sqrt(v / (1 − b2^t)) + eps)
// Gate (override GATED): the update runs only where gate[0] == −1 (the finite check's verdict, see
//   finite.wgsl); otherwise p and the state are left as they are. Without GATED the gate binding
//   is a placeholder and never decides anything.
// Overrides: WG, GATED. Grid: one thread per parameter, linear.

struct SgdParams { n: u32, lr: f32, momentum: f32, weight_decay: f32 }
struct AdamParams {
  n: u32, lr: f32, beta1: f32, beta2: f32,
  eps: f32, t: f32, weight_decay: f32, _pad: u32,
}

override WG: u32 = 64u;
override GATED: bool = false;

@group(0) @binding(0) var<storage, read_write> p: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> gate: array<i32>;
@group(0) @binding(3) var<storage, read_write> state0: array<f32>;
@group(0) @binding(4) var<storage, read_write> state1: array<f32>;
@group(0) @binding(3) var<uniform> sgd_u: SgdParams;
@group(0) @binding(4) var<uniform> sgdm_u: SgdParams;
@group(0) @binding(5) var<uniform> adam_u: AdamParams;

// True when the gate holds this update back (every thread reads the same word).
fn held() -> bool {
  return GATED && gate[0] != -1;
}

@compute @workgroup_size(WG)
fn sgd_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * WG + li;
  if (i >= sgd_u.n || held()) { return; }
  let grad = g[i] + sgd_u.weight_decay * p[i];
  p[i] -= sgd_u.lr * grad;
}

@compute @workgroup_size(WG)
fn sgd_momentum_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * WG + li;
  if (i >= sgdm_u.n || held()) { return; }
  let grad = g[i] + sgdm_u.weight_decay * p[i];
  let v = sgdm_u.momentum * state0[i] + grad;
  state0[i] = v;
  p[i] -= sgdm_u.lr * v;
}

@compute @workgroup_size(WG)
fn adam_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * WG + li;
  let u = adam_u;
  if (i >= u.n || held()) { return; }
  let grad = g[i] + u.weight_decay * p[i];
  let m = u.beta1 * state0[i] + (1.0 - u.beta1) * grad;
  let v = u.beta2 * state1[i] + (1.0 - u.beta2) * grad * grad;
  state0[i] = m;
  state1[i] = v;
  let m_hat = m / (1.0 - pow(u.beta1, u.t));
  let v_hat = v / (1.0 - pow(u.beta2, u.t));
  p[i] -= u.lr * m_hat / (sqrt(v_hat) + u.eps);
}
