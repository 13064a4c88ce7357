// im2col.wgsl: patch extraction for conv2d as GEMM, and its adjoint as a gather. NHWC, f32.
// Lowered to by: conv2d forward (im2col, then gemm with W as [Fh·Fw·Cin, K]) and conv2d dX
// (gemm dY · Wᵀ, then col2im).
//
// Bindings (group 0):
//   im2col:        0 x     read  [N,H,W,C]          1 cols read_write [N·Ho·Wo, Fh·Fw·C]   2 u
//   col2im_gather: 0 dcols read  [N·Ho·Wo, Fh·Fw·C] 1 dx   read_write [N,H,W,C]            2 u
// Uniform Params: n, h, w, c, ho, wo, fh, fw, sh, sw, pad_top, pad_left (all u32).
// Column order within a row: col = (fh·Fw + fw)·C + c. The patch at (oh, ow) starts at
//   (oh·sh − pad_top, ow·sw − pad_left); cells outside the input read as zero.
// col2im is the exact adjoint, without atomics: dx[n,h,w,c] = Σ dcols[(n·Ho+oh)·Wo+ow,
//   (fh·Fw+fw)·C+c] over the (oh, fh) with oh·sh − pad_top + fh = h (and likewise for w).
// Override: WG (threads per workgroup). Grid: one thread per output element, linear.

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  ho: u32, wo: u32, fh: u32, fw: u32,
  sh: u32, sw: u32, pad_top: u32, pad_left: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn im2col(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) li: u32) {
  let idx = linear_workgroup(wid, nwg) * WG + li;
  let patch_len = u.fh * u.fw * u.c;
  if (idx >= u.n * u.ho * u.wo * patch_len) { return; }
  let row = idx / patch_len;
  let col = idx % patch_len;
  let ow = row % u.wo;
  let oh = (row / u.wo) % u.ho;
  let n = row / (u.wo * u.ho);
  let ch = col % u.c;
  let fw = (col / u.c) % u.fw;
  let fh = col / (u.c * u.fw);
  let y = i32(oh * u.sh + fh) - i32(u.pad_top);
  let x = i32(ow * u.sw + fw) - i32(u.pad_left);
  var v = 0.0;
  if (y >= 0 && y < i32(u.h) && x >= 0 && x < i32(u.w)) {
    v = src[((n * u.h + u32(y)) * u.w + u32(x)) * u.c + ch];
  }
  dst[idx] = v;
}

// The output positions o whose window covers input coordinate `p` along one axis, given the
// kernel offset f: o·s − pad + f = p. Returns the first o and whether one exists.
fn covering(p: u32, f: u32, s: u32, pad: u32, out_len: u32) -> vec2<u32> {
  let t = i32(p + pad) - i32(f);
  if (t < 0 || (u32(t) % s) != 0u) { return vec2<u32>(0u, 0u); }
  let o = u32(t) / s;
  if (o >= out_len) { return vec2<u32>(0u, 0u); }
  return vec2<u32>(o, 1u);
}

@compute @workgroup_size(WG)
fn col2im_gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) li: u32) {
  let idx = linear_workgroup(wid, nwg) * WG + li;
  if (idx >= u.n * u.h * u.w * u.c) { return; }
  let ch = idx % u.c;
  let x = (idx / u.c) % u.w;
  let y = (idx / (u.c * u.w)) % u.h;
  let n = idx / (u.c * u.w * u.h);
  let patch_len = u.fh * u.fw * u.c;
  var sum = 0.0;
  for (var fh = 0u; fh < u.fh; fh++) {
    let oh = covering(y, fh, u.sh, u.pad_top, u.ho);
    if (oh.y == 0u) { continue; }
    for (var fw = 0u; fw < u.fw; fw++) {
      let ow = covering(x, fw, u.sw, u.pad_left, u.wo);
      if (ow.y == 0u) { continue; }
      sum += src[((n * u.ho + oh.x) * u.wo + ow.x) * patch_len + (fh * u.fw + fw) * u.c + ch];
    }
  }
  dst[idx] = sum;
}
