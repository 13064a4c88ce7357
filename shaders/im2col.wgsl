// im2col.wgsl: patch extraction for conv2d as GEMM, and its adjoint as a gather. NHWC, f32.
// Lowered to by: conv2d forward (im2col, then gemm with W as [Fh·Fw·Cin, K]) and conv2d dX
// (gemm dY · Wᵀ, then col2im).
//
// Bindings (group 0):
//   im2col:        0 x     read  [N,H,W,C]          1 cols read_write [N·Ho·Wo, row_stride] 2 u
//   col2im_gather: 0 dcols read  [N·Ho·Wo, Fh·Fw·C] 1 dx   read_write [N,H,W,C]            2 u
// Uniform Params: n, h, w, c, ho, wo, fh, fw, sh, sw, pad_top, pad_left, row_stride (all u32).
// row_stride: the length of a cols row, Fh·Fw·C or more (rows padded to a multiple of 4 give the
//   GEMM aligned vec4 loads); the col2im entries read unpadded dcols and ignore it.
// Column order within a row: col = (fh·Fw + fw)·C + c. The patch at (oh, ow) starts at
//   (oh·sh − pad_top, ow·sw − pad_left); cells outside the input read as zero.
// col2im is the exact adjoint, without atomics: dx[n,h,w,c] = Σ dcols[(n·Ho+oh)·Wo+ow,
//   (fh·Fw+fw)·C+c] over the (oh, fh) with oh·sh − pad_top + fh = h (and likewise for w).
// Override: WG (threads per workgroup). Grid: one thread per output element, linear.

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  ho: u32, wo: u32, fh: u32, fw: u32,
  sh: u32, sw: u32, pad_top: u32, pad_left: u32,
  row_stride: u32, _p0: u32, _p1: u32, _p2: u32,
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
  dst[row * u.row_stride + col] = v;
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
  let at = nhwc_coords(idx, u.h, u.w, u.c);
  let n = at.x;
  let y = at.y;
  let x = at.z;
  let ch = at.w;
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

// ---- row variants: one thread per im2col row (im2col_rows) or per input pixel (col2im_pixels) ----
// Few integer divisions per thread (they are costly on software adapters), the C contiguous
// channels of a patch cell copied in a run. The _v4 entries bind src and dst as vec4 arrays and
// need C % 4 == 0 (the wrapper picks them). Grid: one thread per row / pixel, linear.

@group(0) @binding(0) var<storage, read> src4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst4: array<vec4<f32>>;

struct RowSite { n: u32, oh: u32, ow: u32, valid: bool }

fn row_site(row: u32) -> RowSite {
  var s: RowSite;
  s.valid = row < u.n * u.ho * u.wo;
  let nh = row / u.wo;
  s.ow = row - nh * u.wo;
  s.n = nh / u.ho;
  s.oh = nh - s.n * u.ho;
  return s;
}

@compute @workgroup_size(WG)
fn im2col_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) li: u32) {
  let row = linear_workgroup(wid, nwg) * WG + li;
  let s = row_site(row);
  if (!s.valid) { return; }
  var o = row * u.row_stride;
  let y0 = i32(s.oh * u.sh) - i32(u.pad_top);
  let x0 = i32(s.ow * u.sw) - i32(u.pad_left);
  for (var fh = 0u; fh < u.fh; fh++) {
    let y = y0 + i32(fh);
    let y_ok = y >= 0 && y < i32(u.h);
    for (var fw = 0u; fw < u.fw; fw++) {
      let x = x0 + i32(fw);
      if (y_ok && x >= 0 && x < i32(u.w)) {
        let base = ((s.n * u.h + u32(y)) * u.w + u32(x)) * u.c;
        for (var ch = 0u; ch < u.c; ch++) { dst[o + ch] = src[base + ch]; }
      } else {
        for (var ch = 0u; ch < u.c; ch++) { dst[o + ch] = 0.0; }
      }
      o += u.c;
    }
  }
}

@compute @workgroup_size(WG)
fn im2col_rows_v4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) li: u32) {
  let row = linear_workgroup(wid, nwg) * WG + li;
  let s = row_site(row);
  if (!s.valid) { return; }
  let c4 = u.c >> 2u;
  var o = row * (u.row_stride >> 2u);
  let y0 = i32(s.oh * u.sh) - i32(u.pad_top);
  let x0 = i32(s.ow * u.sw) - i32(u.pad_left);
  for (var fh = 0u; fh < u.fh; fh++) {
    let y = y0 + i32(fh);
    let y_ok = y >= 0 && y < i32(u.h);
    for (var fw = 0u; fw < u.fw; fw++) {
      let x = x0 + i32(fw);
      // Padding cells load index 0 and select zeros: a branch there ran 1.17× slower (LeNet conv2).
      let inside = y_ok && x >= 0 && x < i32(u.w);
      let base = select(0u, ((s.n * u.h + u32(y)) * u.w + u32(x)) * c4, inside);
      for (var ch = 0u; ch < c4; ch++) { dst4[o + ch] = select(vec4<f32>(0.0), src4[base + ch], inside); }
      o += c4;
    }
  }
}

// im2col_rows_quads: one thread per row, written 4 columns at a time as vec4s (row_stride a
// multiple of 4; the padding columns past the patch get zeros). For C not a multiple of 4 (conv1,
// C = 1), where im2col_rows_v4 does not apply: the patch cell (c, fw, fh) of each column advances
// by counting instead of the divisions a thread per element needs, and each load is unconditional
// (index 0 where the cell is padding, the value selected away). The 4 loads of a vec4 are written
// out: a loop merging each into the vec4 by lane selects ran 1.3× slower (LeNet conv1).
fn next_cell(cell: vec3<u32>) -> vec3<u32> {
  var next = cell + vec3<u32>(1u, 0u, 0u);
  if (next.x == u.c) { next = vec3<u32>(0u, next.y + 1u, next.z); }
  if (next.y == u.fw) { next = vec3<u32>(next.x, 0u, next.z + 1u); }
  return next;
}

// The input value under patch cell (c, fw, fh) of the patch at (y0, x0) of the image whose first
// row is `row0` (n·H); zero past the patch or over padding.
fn cell_value(row0: u32, y0: i32, x0: i32, cell: vec3<u32>) -> f32 {
  let y = y0 + i32(cell.z);
  let x = x0 + i32(cell.y);
  let inside = cell.z < u.fh && y >= 0 && y < i32(u.h) && x >= 0 && x < i32(u.w);
  let at = select(0u, ((row0 + u32(y)) * u.w + u32(x)) * u.c + cell.x, inside);
  return select(0.0, src[at], inside);
}

@compute @workgroup_size(WG)
fn im2col_rows_quads(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) li: u32) {
  let row = linear_workgroup(wid, nwg) * WG + li;
  let s = row_site(row);
  if (!s.valid) { return; }
  let y0 = i32(s.oh * u.sh) - i32(u.pad_top);
  let x0 = i32(s.ow * u.sw) - i32(u.pad_left);
  let quads = u.row_stride >> 2u;
  var cell = vec3<u32>(0u);  // (c, fw, fh) of the next column; fh = Fh past the patch
  let row0 = s.n * u.h;
  for (var q = 0u; q < quads; q++) {
    let c0 = cell;
    let c1 = next_cell(c0);
    let c2 = next_cell(c1);
    let c3 = next_cell(c2);
    cell = next_cell(c3);
    dst4[row * quads + q] = vec4<f32>(cell_value(row0, y0, x0, c0), cell_value(row0, y0, x0, c1),
                                      cell_value(row0, y0, x0, c2), cell_value(row0, y0, x0, c3));
  }
}

// The output positions [lo, hi) whose window covers input coordinate p along one axis
// (o·s − pad ≤ p < o·s − pad + f).
fn cover_range(p: u32, s: u32, pad: u32, f: u32, out_len: u32) -> vec2<u32> {
  let t = i32(p + pad);
  let lo = u32(max(t - i32(f) + i32(s), 0)) / s;
  let hi = min(u32(t) / s + 1u, out_len);
  return vec2<u32>(lo, max(lo, hi));
}

struct PixelSite { n: u32, y: u32, x: u32, valid: bool, hs: vec2<u32>, ws: vec2<u32> }

fn pixel_site(pix: u32) -> PixelSite {
  var s: PixelSite;
  s.valid = pix < u.n * u.h * u.w;
  let ny = pix / u.w;
  s.x = pix - ny * u.w;
  s.n = ny / u.h;
  s.y = ny - s.n * u.h;
  s.hs = cover_range(s.y, u.sh, u.pad_top, u.fh, u.ho);
  s.ws = cover_range(s.x, u.sw, u.pad_left, u.fw, u.wo);
  return s;
}

@compute @workgroup_size(WG)
fn col2im_pixels(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) li: u32) {
  let pix = linear_workgroup(wid, nwg) * WG + li;
  let s = pixel_site(pix);
  if (!s.valid) { return; }
  let patch_len = u.fh * u.fw * u.c;
  for (var ch = 0u; ch < u.c; ch++) {
    var sum = 0.0;
    for (var oh = s.hs.x; oh < s.hs.y; oh++) {
      let fh = s.y + u.pad_top - oh * u.sh;
      let rbase = (s.n * u.ho + oh) * u.wo;
      for (var ow = s.ws.x; ow < s.ws.y; ow++) {
        let fw = s.x + u.pad_left - ow * u.sw;
        sum += src[(rbase + ow) * patch_len + (fh * u.fw + fw) * u.c + ch];
      }
    }
    dst[pix * u.c + ch] = sum;
  }
}

@compute @workgroup_size(WG)
fn col2im_pixels_v4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) li: u32) {
  let pix = linear_workgroup(wid, nwg) * WG + li;
  let s = pixel_site(pix);
  if (!s.valid) { return; }
  let c4 = u.c >> 2u;
  let patch4 = u.fh * u.fw * c4;
  for (var ch = 0u; ch < c4; ch++) {
    var sum = vec4<f32>(0.0);
    for (var oh = s.hs.x; oh < s.hs.y; oh++) {
      let fh = s.y + u.pad_top - oh * u.sh;
      let rbase = (s.n * u.ho + oh) * u.wo;
      for (var ow = s.ws.x; ow < s.ws.y; ow++) {
        let fw = s.x + u.pad_left - ow * u.sw;
        sum += src4[(rbase + ow) * patch4 + (fh * u.fw + fw) * c4 + ch];
      }
    }
    dst4[pix * c4 + ch] = sum;
  }
}
