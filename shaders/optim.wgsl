// optim.wgsl: in-place optimizer updates, so parameters never leave the GPU. f32.
// Lowered to by: the sgdUpdate and adamUpdate ops (optim.SGD, with or without momentum, and
// optim.Adam).
//
// Bindings (group 0):
//   sgd_step:          0 p rw  1 g read  2 gate read  3 hyper read                      4 u
//   sgd_momentum_step: 0 p rw  1 g read  2 gate read  3 hyper read  4 v rw              5 u
//   adam_step:         0 p rw  1 g read  2 gate read  3 hyper read  4 m rw  5 v rw      6 u
// Hyper (f32, the values that change from step to step, so a recorded step replays with buffer
//   writes only): SGD [lr]; Adam [lr, c1, c2] with the bias corrections c1 = 1 − b1^t and
//   c2 = 1 − b2^t for step t (from 1), computed on the host.
// Uniform Params: n, momentum (SGD) | beta1, beta2, eps (Adam), weight_decay (L2: g ← g +
//   weight_decay·p before the update).
// Updates:  SGD:       p −= lr·g
//           momentum:  v = momentum·v + g;  p −= lr·v
//           Adam:      m = b1·m + (1 − b1)·g;  v = b2·v + (1 − b2)·g²;
//                      p −= lr · (m / c1) / (sqrt(v / c2) + eps)
// Gate (override GATED): the update runs only where gate[0] == −1 (the finite check's verdict, see
//   finite.wgsl); otherwise p and the state are left as they are. Without GATED the gate binding
//   is a placeholder and never decides anything.
// Overrides: WG, GATED. Grid: one thread per PER_THREAD consecutive parameters, linear.

struct SgdParams { n: u32, momentum: f32, weight_decay: f32, _pad: u32 }
struct AdamParams { n: u32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32, _pad0: u32, _pad1: u32, _pad2: u32 }

override WG: u32 = 64u;
override GATED: bool = false;

@group(0) @binding(0) var<storage, read_write> p: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> gate: array<i32>;
@group(0) @binding(3) var<storage, read> hyper: array<f32>;
@group(0) @binding(4) var<storage, read_write> state0: array<f32>;
@group(0) @binding(5) var<storage, read_write> state1: array<f32>;
@group(0) @binding(4) var<uniform> sgd_u: SgdParams;
@group(0) @binding(5) var<uniform> sgdm_u: SgdParams;
@group(0) @binding(6) var<uniform> adam_u: AdamParams;

// Parameters a thread updates: its gate, hyper and uniform loads then serve 4 (Adam on LeNet's
// dense1 weights: 1.6× faster than one a thread on SwiftShader). Keep in step with optim.ts.
const PER_THREAD = 4u;

// The first parameter of this thread.
fn first_param(wid: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
  return (linear_workgroup(wid, nwg) * WG + li) * PER_THREAD;
}

// True when the gate holds this update back (every thread reads the same word).
fn held() -> bool {
  return GATED && gate[0] != -1;
}

@compute @workgroup_size(WG)
fn sgd_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) li: u32) {
  let i0 = first_param(wid, nwg, li);
  if (i0 >= sgd_u.n || held()) { return; }
  let lr = hyper[0];
  for (var i = i0; i < min(i0 + PER_THREAD, sgd_u.n); i++) {
    let grad = g[i] + sgd_u.weight_decay * p[i];
    p[i] -= lr * grad;
  }
}

@compute @workgroup_size(WG)
fn sgd_momentum_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) li: u32) {
  let i0 = first_param(wid, nwg, li);
  if (i0 >= sgdm_u.n || held()) { return; }
  let lr = hyper[0];
  for (var i = i0; i < min(i0 + PER_THREAD, sgdm_u.n); i++) {
    let grad = g[i] + sgdm_u.weight_decay * p[i];
    let v = sgdm_u.momentum * state0[i] + grad;
    state0[i] = v;
    p[i] -= lr * v;
  }
}

@compute @workgroup_size(WG)
fn adam_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) li: u32) {
  let i0 = first_param(wid, nwg, li);
  let u = adam_u;
  if (i0 >= u.n || held()) { return; }
  let lr = hyper[0];
  let c1 = hyper[1];
  let c2 = hyper[2];
  for (var i = i0; i < min(i0 + PER_THREAD, u.n); i++) {
    let grad = g[i] + u.weight_decay * p[i];
    let m = u.beta1 * state0[i] + (1.0 - u.beta1) * grad;
    let v = u.beta2 * state1[i] + (1.0 - u.beta2) * grad * grad;
    state0[i] = m;
    state1[i] = v;
    p[i] -= lr * (m / c1) / (sqrt(v / c2) + u.eps);
  }
}
