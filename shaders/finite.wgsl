// finite.wgsl: numerics checks on f32 buffers (NaN or ±Inf, tested by the exponent bits).
// Lowered to by: the firstNonFinite and stepHealth ops (the per-step check of the loss and the
// gradients that gates the optimizer updates) and checkFinite.
//
// Bindings (group 0):
// finite_check:           0 x read [n]  1 flag rw atomic<u32> [1]  2 u Params { n }
//   flag[0] = 1 if any x is non-finite; never writes 0, so several buffers can share one flag.
// first_non_finite_init:  same bindings; one thread sets flag[0] = 0xffffffff (−1 as i32).
// first_non_finite:       same bindings, Params { n, index }: flag[0] = min(flag[0], index) as u32
//   if any x is non-finite. After the init and one dispatch per tensor the flag holds, as i32, −1
//   (all finite) or the smallest index of a tensor holding NaN or ±Inf, whatever the order.
// step_health:            0 health rw i32[5]  1 verdict read i32[1]  2 gate rw i32[1]
//   3 step_number read i32[1]  4 hu HealthParams { stop }. The update's number is a buffer, not
//   a uniform, so a recorded step replays with buffer writes only. One thread. Folds a step's
//   verdict (the output of first_non_finite) into the record [skipped, stopStep, stopTensor,
//   lastBadStep, lastBadTensor], in place, and writes the gate: −1 if the update applies, else
//   the tensor that holds it back. Same rule as stepHealthOp in packages/core/src/ops/finite-check.ts.
// Override: WG. Grid: one thread per element, linear (step_health: one workgroup of one).

struct Params { n: u32, index: u32, _pad0: u32, _pad1: u32 }
struct HealthParams { stop: u32, _pad0: u32, _pad1: u32, _pad2: u32 }

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> flag: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> u: Params;

@group(0) @binding(0) var<storage, read_write> health: array<i32>;
@group(0) @binding(1) var<storage, read> verdict: array<i32>;
@group(0) @binding(2) var<storage, read_write> gate: array<i32>;
@group(0) @binding(3) var<storage, read> step_number: array<i32>;
@group(0) @binding(4) var<uniform> hu: HealthParams;

@compute @workgroup_size(WG)
fn finite_check(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * WG + li;
  if (i >= u.n) { return; }
  if (is_non_finite(x[i])) { atomicStore(&flag[0], 1u); }
}

@compute @workgroup_size(WG)
fn first_non_finite_init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) li: u32) {
  if (linear_workgroup(wid, nwg) * WG + li == 0u) { atomicStore(&flag[0], 0xffffffffu); }
}

@compute @workgroup_size(WG)
fn first_non_finite(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * WG + li;
  if (i >= u.n) { return; }
  if (is_non_finite(x[i])) { atomicMin(&flag[0], u.index); }
}

const SKIPPED = 0u;
const STOP_STEP = 1u;
const STOP_TENSOR = 2u;
const LAST_BAD_STEP = 3u;
const LAST_BAD_TENSOR = 4u;

@compute @workgroup_size(1)
fn step_health() {
  var h = array<i32, 5>(health[0], health[1], health[2], health[3], health[4]);
  let v = verdict[0];
  let t = step_number[0];
  let stopped = h[STOP_STEP] != -1;
  if (v != -1) {
    h[LAST_BAD_STEP] = t;
    h[LAST_BAD_TENSOR] = v;
    if (hu.stop == 1u && !stopped) {
      h[STOP_STEP] = t;
      h[STOP_TENSOR] = v;
    }
  }
  let applies = v == -1 && !stopped;
  if (!applies) { h[SKIPPED] += 1; }
  for (var i = 0u; i < 5u; i++) { health[i] = h[i]; }
  gate[0] = select(select(h[STOP_TENSOR], v, v != -1), -1, applies);
}
