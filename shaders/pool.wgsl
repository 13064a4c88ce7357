// pool.wgsl: 2-D max and average pooling over NHWC maps, forward and backward (gathers, no
// atomics). Lowered to by: maxPool2d and avgPool2d (forward and backward).
//
// Bindings (group 0):
//   max_pool_forward:  0 x  read [N,H,W,C]    1 y  rw [N,Ho,Wo,C]   2 argmax rw i32 [N,Ho,Wo,C]  3 u
//   max_pool_backward: 0 dy read [N,Ho,Wo,C]  1 argmax read i32     2 dx rw [N,H,W,C]            3 u
//   avg_pool_forward:  0 x  read              1 y  rw               2 u
//   avg_pool_backward: 0 dy read              1 dx rw               2 u
// Uniform Params: n, h, w, c, ho, wo, kh, kw, sh, sw, pad_top, pad_left (u32).
// Geometry: the window at (oh, ow) starts at (oh·sh − pad_top, ow·sw − pad_left), size kh×kw.
// Max: argmax is the flat index into x of the chosen element; the first maximum in row-major
//   window order wins ties; padding cells never win. A window lying wholly in padding writes
//   y = 0 and argmax = −1 (such a window has no input to route a gradient to).
// Average: padding cells are excluded; divide by the number of in-bounds cells (as TensorFlow).
// Overrides: WG; CPT (max_pool_forward: channels a thread, 1, or 4 where C % 4 == 0: the window's
//   coordinates are then worked out once for 4 outputs, 2× faster for LeNet's pools on SwiftShader).
// Grid: one thread per CPT output elements (max forward), per output element (avg forward) or per
//   input element (backward).

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  ho: u32, wo: u32, kh: u32, kw: u32,
  sh: u32, sw: u32, pad_top: u32, pad_left: u32,
}

override WG: u32 = 64u;
override CPT: u32 = 1u;

// The in-bounds part [lo, hi) of a window along one axis.
fn window_span(o: u32, s: u32, pad: u32, k: u32, len: u32) -> vec2<u32> {
  let start = i32(o * s) - i32(pad);
  let lo = u32(max(start, 0));
  let hi = u32(clamp(start + i32(k), 0, i32(len)));
  return vec2<u32>(lo, max(lo, hi));
}

// The output positions [lo, hi) whose window covers input coordinate p along one axis:
// o·s − pad ≤ p < o·s − pad + k.
fn covering_span(p: u32, s: u32, pad: u32, k: u32, out_len: u32) -> vec2<u32> {
  let t = i32(p + pad);                                 // o·s ≤ t and o·s > t − k
  let lo = u32(max(t - i32(k) + i32(s), 0)) / s;        // ceil((t − k + 1) / s), clamped at 0
  let hi = min(u32(t) / s + 1u, out_len);
  return vec2<u32>(lo, max(lo, hi));
}

@group(0) @binding(0) var<storage, read> mf_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> mf_y: array<f32>;
@group(0) @binding(2) var<storage, read_write> mf_arg: array<i32>;
@group(0) @binding(3) var<uniform> mf_u: Params;

@compute @workgroup_size(WG)
fn max_pool_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) li: u32) {
  let u = mf_u;
  let idx = (linear_workgroup(wid, nwg) * WG + li) * CPT;
  if (idx >= u.n * u.ho * u.wo * u.c) { return; }
  let at = nhwc_coords(idx, u.ho, u.wo, u.c);
  let n = at.x;
  let oh = at.y;
  let ow = at.z;
  let ch = at.w;
  let ys = window_span(oh, u.sh, u.pad_top, u.kh, u.h);
  let xs = window_span(ow, u.sw, u.pad_left, u.kw, u.w);
  // Lane j: channel ch + j (only lane 0 with CPT = 1).
  let lanes = vec4<i32>(0, 1, 2, 3);
  var best = vec4<f32>(0.0);
  var arg = vec4<i32>(-1);
  for (var y = ys.x; y < ys.y; y++) {
    for (var x = xs.x; x < xs.y; x++) {
      let i = ((n * u.h + y) * u.w + x) * u.c + ch;
      var v = vec4<f32>(mf_x[i]);
      if (CPT == 4u) { v = vec4<f32>(v.x, mf_x[i + 1u], mf_x[i + 2u], mf_x[i + 3u]); }
      let take = (arg < vec4<i32>(0)) | (v > best);
      best = select(best, v, take);
      arg = select(arg, vec4<i32>(i32(i)) + lanes, take);
    }
  }
  for (var j = 0u; j < CPT; j++) {
    mf_y[idx + j] = best[j];
    mf_arg[idx + j] = arg[j];
  }
}

@group(0) @binding(0) var<storage, read> mb_dy: array<f32>;
@group(0) @binding(1) var<storage, read> mb_arg: array<i32>;
@group(0) @binding(2) var<storage, read_write> mb_dx: array<f32>;
@group(0) @binding(3) var<uniform> mb_u: Params;

@compute @workgroup_size(WG)
fn max_pool_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) li: u32) {
  let u = mb_u;
  let idx = linear_workgroup(wid, nwg) * WG + li;
  if (idx >= u.n * u.h * u.w * u.c) { return; }
  let at = nhwc_coords(idx, u.h, u.w, u.c);
  let n = at.x;
  let y = at.y;
  let x = at.z;
  let ch = at.w;
  let ohs = covering_span(y, u.sh, u.pad_top, u.kh, u.ho);
  let ows = covering_span(x, u.sw, u.pad_left, u.kw, u.wo);
  var sum = 0.0;
  for (var oh = ohs.x; oh < ohs.y; oh++) {
    for (var ow = ows.x; ow < ows.y; ow++) {
      let o = ((n * u.ho + oh) * u.wo + ow) * u.c + ch;
      if (mb_arg[o] == i32(idx)) { sum += mb_dy[o]; }
    }
  }
  mb_dx[idx] = sum;
}

@group(0) @binding(0) var<storage, read> af_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> af_y: array<f32>;
@group(0) @binding(2) var<uniform> af_u: Params;

@compute @workgroup_size(WG)
fn avg_pool_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) li: u32) {
  let u = af_u;
  let idx = linear_workgroup(wid, nwg) * WG + li;
  if (idx >= u.n * u.ho * u.wo * u.c) { return; }
  let at = nhwc_coords(idx, u.ho, u.wo, u.c);
  let n = at.x;
  let oh = at.y;
  let ow = at.z;
  let ch = at.w;
  let ys = window_span(oh, u.sh, u.pad_top, u.kh, u.h);
  let xs = window_span(ow, u.sw, u.pad_left, u.kw, u.w);
  var sum = 0.0;
  for (var y = ys.x; y < ys.y; y++) {
    for (var x = xs.x; x < xs.y; x++) { sum += af_x[((n * u.h + y) * u.w + x) * u.c + ch]; }
  }
  let count = (ys.y - ys.x) * (xs.y - xs.x);
  af_y[idx] = select(0.0, sum / f32(count), count > 0u);
}

@group(0) @binding(0) var<storage, read> ab_dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> ab_dx: array<f32>;
@group(0) @binding(2) var<uniform> ab_u: Params;

@compute @workgroup_size(WG)
fn avg_pool_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) li: u32) {
  let u = ab_u;
  let idx = linear_workgroup(wid, nwg) * WG + li;
  if (idx >= u.n * u.h * u.w * u.c) { return; }
  let at = nhwc_coords(idx, u.h, u.w, u.c);
  let n = at.x;
  let y = at.y;
  let x = at.z;
  let ch = at.w;
  let ohs = covering_span(y, u.sh, u.pad_top, u.kh, u.ho);
  let ows = covering_span(x, u.sw, u.pad_left, u.kw, u.wo);
  var sum = 0.0;
  for (var oh = ohs.x; oh < ohs.y; oh++) {
    let ys = window_span(oh, u.sh, u.pad_top, u.kh, u.h);
    for (var ow = ows.x; ow < ows.y; ow++) {
      let xs = window_span(ow, u.sw, u.pad_left, u.kw, u.w);
      let count = (ys.y - ys.x) * (xs.y - xs.x);
      sum += ab_dy[((n * u.ho + oh) * u.wo + ow) * u.c + ch] / f32(count);
    }
  }
  ab_dx[idx] = sum;
}

// max_pool_backward_scatter: dx[argmax[o]] = dy[o], one thread per output element, no index
// arithmetic. Only for windows that never overlap (kh ≤ sh and kw ≤ sw: every input cell is the
// argmax of at most one window) and dx cleared beforehand (the wrapper does both).
// Bindings: as max_pool_backward.
@compute @workgroup_size(WG)
fn max_pool_backward_scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                             @builtin(local_invocation_index) li: u32) {
  let idx = linear_workgroup(wid, nwg) * WG + li;
  if (idx >= mb_u.n * mb_u.ho * mb_u.wo * mb_u.c) { return; }
  let a = mb_arg[idx];
  if (a >= 0) { mb_dx[u32(a)] = mb_dy[idx]; }
}
