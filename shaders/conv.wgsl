// conv.wgsl: direct convolution kernels, which need no im2col buffer. NHWC, f32.
// Lowered to by: conv2d dX (conv2dBackpropInput) where K % 4 == 0 (kernels/conv2d.ts picks it over
// gemm dY·Wᵀ + col2im, which writes and reads an [N·Ho·Wo, Fh·Fw·C] buffer).
//
// Bindings (group 0):
//   conv_backward_input: 0 dy read vec4 [N,Ho,Wo,K]   1 filter read vec4 [Fh,Fw,C,K]
//                        2 dx read_write [N,H,W,C]     3 u
// Uniform Params: the window (n, h, w, c, ho, wo, fh, fw, sh, sw, pad_top, pad_left, as in
//   im2col.wgsl) and k, the number of filters.
// dx[n,y,x,c] = Σ dy[n,oy,ox,k]·filter[fh,fw,c,k] over the (oy, fh, ox, fw, k) with
//   oy·sh − pad_top + fh = y and ox·sw − pad_left + fw = x: the adjoint of the forward
//   convolution, gathered per input cell (no atomics, a fixed summation order).
// Each thread computes PX neighbouring x (4 to 8) by 8 channels (2·PX vec4 accumulators): a dy
//   vec4 serves 8 channels and a filter vec4 serves PX pixels (8 channels: 1.3× faster than 4 on
//   SwiftShader for LeNet's conv2, C = 8; PX = 7 there, as W = 14: 1.4× faster than PX = 4). Needs
//   K % 4 == 0 (dy and the filter as vec4s).
// With C <= 8 (ONE_BLOCK) every thread reads the same filter vec4s, so with QUADS (subgroups.wgsl)
//   each invocation of a quad loads 2 of a step's 8 and takes the rest from its quad (1.15× faster
//   for LeNet's conv2 in Chromium). The whole quad must then run every step together: rows the
//   window misses are masked, not skipped, and invocations past the grid return only with their quad.
// Overrides: WG, PX (see pixelsPerThread in kernels/src/conv2d.ts), ONE_BLOCK (C <= 8). Grid: one
//   thread per (n, y, block of PX x, block of 8 channels), linear, channel blocks fastest.

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  ho: u32, wo: u32, fh: u32, fw: u32,
  sh: u32, sw: u32, pad_top: u32, pad_left: u32,
  k: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> weights: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;

override WG: u32 = 64u;
override PX: u32 = 4u;
override ONE_BLOCK: bool = false;

// Marks a dy row that the window misses.
const NO_ROW = 0xffffffffu;

// The dy pixel (n·Ho + oy)·Wo + ox that reaches input column x through filter column fw, or −1.
fn source_pixel(row: u32, x: u32, fw: u32) -> i32 {
  if (row == NO_ROW) { return -1; }
  let t = i32(x + u.pad_left) - i32(fw);
  if (t < 0 || (u32(t) % u.sw) != 0u) { return -1; }
  let ox = u32(t) / u.sw;
  if (ox >= u.wo) { return -1; }
  return i32(row * u.wo + ox);
}

// dy at pixel p, k block kc; zero where p is −1.
fn dy_at(p: i32, kc: u32, k4: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), dy[u32(max(p, 0)) * k4 + kc], p >= 0);
}

fn store_pixel(n: u32, y: u32, x: u32, c0: u32, v: vec4<f32>) {
  if (x >= u.w) { return; }
  let base = ((n * u.h + y) * u.w + x) * u.c + c0;
  dx[base] = v.x;
  if (c0 + 1u < u.c) { dx[base + 1u] = v.y; }
  if (c0 + 2u < u.c) { dx[base + 2u] = v.z; }
  if (c0 + 3u < u.c) { dx[base + 3u] = v.w; }
}

@compute @workgroup_size(WG)
fn conv_backward_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) li: u32) {
  let blocks_c = (u.c + 7u) / 8u;
  let blocks_x = (u.w + PX - 1u) / PX;
  let t = linear_workgroup(wid, nwg) * WG + li;
  let past_grid = t >= u.n * u.h * blocks_x * blocks_c;
  if (quad_all(past_grid)) { return; }
  let share = QUADS && ONE_BLOCK;
  let me = quad_index(li);
  let c0 = (t % blocks_c) * 8u;
  let rest = t / blocks_c;
  let x0 = (rest % blocks_x) * PX;
  let ny = rest / blocks_x;
  let y = ny % u.h;
  let n = ny / u.h;
  let k4 = u.k / 4u;
  // Filter rows of the 8 channels, in vec4s; channels past C are clamped (their sums are never stored).
  let last = vec4<u32>(u.c - 1u);
  let lo = min(vec4<u32>(c0) + vec4<u32>(0u, 1u, 2u, 3u), last) * k4;
  let hi = min(vec4<u32>(c0) + vec4<u32>(4u, 5u, 6u, 7u), last) * k4;

  // a_i, b_i: pixel x0 + i over channels c0..c0+3 and c0+4..c0+7. Slots past PX are compiled out
  // (PX is an override), so each pixel is written out rather than indexed in an array, which
  // SwiftShader would gather per lane.
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  var a4 = vec4<f32>(0.0); var a5 = vec4<f32>(0.0); var a6 = vec4<f32>(0.0); var a7 = vec4<f32>(0.0);
  var b0 = vec4<f32>(0.0); var b1 = vec4<f32>(0.0); var b2 = vec4<f32>(0.0); var b3 = vec4<f32>(0.0);
  var b4 = vec4<f32>(0.0); var b5 = vec4<f32>(0.0); var b6 = vec4<f32>(0.0); var b7 = vec4<f32>(0.0);
  for (var fh = 0u; fh < u.fh; fh++) {
    let ty = i32(y + u.pad_top) - i32(fh);
    let oy = u32(max(ty, 0)) / u.sh;
    let row = select(NO_ROW, n * u.ho + oy, ty >= 0 && (u32(ty) % u.sh) == 0u && oy < u.ho);
    for (var fw = 0u; fw < u.fw; fw++) {
      let p0 = source_pixel(row, x0, fw);
      let p1 = source_pixel(row, x0 + 1u, fw);
      let p2 = source_pixel(row, x0 + 2u, fw);
      let p3 = source_pixel(row, x0 + 3u, fw);
      let p4 = source_pixel(row, x0 + 4u, fw);
      let p5 = source_pixel(row, x0 + 5u, fw);
      let p6 = source_pixel(row, x0 + 6u, fw);
      let p7 = source_pixel(row, x0 + 7u, fw);
      let tap = (fh * u.fw + fw) * u.c * k4;
      for (var kc = 0u; kc < k4; kc++) {
        var w: mat4x4<f32>;
        var v: mat4x4<f32>;
        if (share) {
          let ws = quad_values(weights[tap + lo[me] + kc]);
          let vs = quad_values(weights[tap + hi[me] + kc]);
          w = mat4x4<f32>(ws[0], ws[1], ws[2], ws[3]);
          v = mat4x4<f32>(vs[0], vs[1], vs[2], vs[3]);
        } else {
          w = mat4x4<f32>(weights[tap + lo.x + kc], weights[tap + lo.y + kc], weights[tap + lo.z + kc], weights[tap + lo.w + kc]);
          v = mat4x4<f32>(weights[tap + hi.x + kc], weights[tap + hi.y + kc], weights[tap + hi.z + kc], weights[tap + hi.w + kc]);
        }
        // d × w: d·w[j] for each of the channels j (w's columns).
        let d0 = dy_at(p0, kc, k4); a0 += d0 * w; b0 += d0 * v;
        let d1 = dy_at(p1, kc, k4); a1 += d1 * w; b1 += d1 * v;
        let d2 = dy_at(p2, kc, k4); a2 += d2 * w; b2 += d2 * v;
        let d3 = dy_at(p3, kc, k4); a3 += d3 * w; b3 += d3 * v;
        if (PX > 4u) { let d4 = dy_at(p4, kc, k4); a4 += d4 * w; b4 += d4 * v; }
        if (PX > 5u) { let d5 = dy_at(p5, kc, k4); a5 += d5 * w; b5 += d5 * v; }
        if (PX > 6u) { let d6 = dy_at(p6, kc, k4); a6 += d6 * w; b6 += d6 * v; }
        if (PX > 7u) { let d7 = dy_at(p7, kc, k4); a7 += d7 * w; b7 += d7 * v; }
      }
    }
  }
  // One store site in a loop (SwiftShader compiles each buffer access into per-lane code: sixteen
  // inlined copies cost it more compile time than this loop's dynamic indexing costs at run time).
  if (past_grid) { return; }
  let sums = array<vec4<f32>, 16>(a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7);
  for (var i = 0u; i < 2u * PX; i++) {
    let half = i / PX;      // 0: channels c0.., 1: c0 + 4..
    let px = i - half * PX;
    let c = c0 + 4u * half;
    if (c < u.c) { store_pixel(n, y, x0 + px, c, sums[8u * half + px]); }
  }
}
