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
// Each thread computes 4 neighbouring x by 4 channels (4 vec4 accumulators): a dy vec4 serves 4
//   channels and a filter vec4 serves 4 pixels. Needs K % 4 == 0 (dy and the filter as vec4s).
// Override: WG. Grid: one thread per (n, y, block of 4 x, block of 4 channels), linear, channel
//   blocks fastest.

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

// The dy pixel (n·Ho + oy)·Wo + ox that reaches input column x through filter column fw, or −1.
fn source_pixel(row: u32, x: u32, fw: u32) -> i32 {
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
  let blocks_c = (u.c + 3u) / 4u;
  let blocks_x = (u.w + 3u) / 4u;
  let t = linear_workgroup(wid, nwg) * WG + li;
  if (t >= u.n * u.h * blocks_x * blocks_c) { return; }
  let c0 = (t % blocks_c) * 4u;
  let rest = t / blocks_c;
  let x0 = (rest % blocks_x) * 4u;
  let ny = rest / blocks_x;
  let y = ny % u.h;
  let n = ny / u.h;
  let k4 = u.k / 4u;
  // Filter rows of the 4 channels, in vec4s; channels past C are clamped (their sums are never stored).
  let rows = min(vec4<u32>(c0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(u.c - 1u)) * k4;

  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  for (var fh = 0u; fh < u.fh; fh++) {
    let ty = i32(y + u.pad_top) - i32(fh);
    if (ty < 0 || (u32(ty) % u.sh) != 0u) { continue; }
    let oy = u32(ty) / u.sh;
    if (oy >= u.ho) { continue; }
    let row = n * u.ho + oy;
    for (var fw = 0u; fw < u.fw; fw++) {
      let p0 = source_pixel(row, x0, fw);
      let p1 = source_pixel(row, x0 + 1u, fw);
      let p2 = source_pixel(row, x0 + 2u, fw);
      let p3 = source_pixel(row, x0 + 3u, fw);
      if (max(max(p0, p1), max(p2, p3)) < 0) { continue; }
      let tap = (fh * u.fw + fw) * u.c * k4;
      for (var kc = 0u; kc < k4; kc++) {
        let f0 = weights[tap + rows.x + kc];
        let f1 = weights[tap + rows.y + kc];
        let f2 = weights[tap + rows.z + kc];
        let f3 = weights[tap + rows.w + kc];
        let d0 = dy_at(p0, kc, k4);
        let d1 = dy_at(p1, kc, k4);
        let d2 = dy_at(p2, kc, k4);
        let d3 = dy_at(p3, kc, k4);
        acc0 += vec4<f32>(dot(d0, f0), dot(d0, f1), dot(d0, f2), dot(d0, f3));
        acc1 += vec4<f32>(dot(d1, f0), dot(d1, f1), dot(d1, f2), dot(d1, f3));
        acc2 += vec4<f32>(dot(d2, f0), dot(d2, f1), dot(d2, f2), dot(d2, f3));
        acc3 += vec4<f32>(dot(d3, f0), dot(d3, f1), dot(d3, f2), dot(d3, f3));
      }
    }
  }
  store_pixel(n, y, x0, c0, acc0);
  store_pixel(n, y, x0 + 1u, c0, acc1);
  store_pixel(n, y, x0 + 2u, c0, acc2);
  store_pixel(n, y, x0 + 3u, c0, acc3);
}
