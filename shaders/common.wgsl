// common.wgsl: helpers prepended to every family before compiling (the pipeline cache compiles
// `common.wgsl + <family>.wgsl` as one module; WGSL has no #include). Compile messages are reported
// with line numbers of the family file.
//
// Grid convention: every kernel is dispatched with a 1-D count of workgroups that the runtime may
// fold into 2-D or 3-D when it exceeds maxComputeWorkgroupsPerDimension (65535). A kernel recovers
// the linear index with `linear_workgroup` and must ignore workgroups past its last one (the
// folded grid can round up).

// The NHWC coordinates (n, y, x, channel) of flat index `idx` in a [_, h, w, c] tensor.
fn nhwc_coords(idx: u32, h: u32, w: u32, c: u32) -> vec4<u32> {
  return vec4<u32>(idx / (c * w * h), (idx / (c * w)) % h, (idx / c) % w, idx % c);
}

fn linear_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + nwg.x * (wid.y + nwg.y * wid.z);
}

// True for NaN and ±Inf, by the exponent bits (compilers may fold `x != x` away).
fn is_non_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

// The most negative finite f32 (a max-reduction's starting value).
const F32_LOWEST: f32 = -3.40282346638528859811704183484516925440e+38;

// A NaN, built at run time from a zero the caller reads from a uniform (a constant NaN is a
// shader-creation error in WGSL).
fn quiet_nan(runtime_zero: u32) -> f32 {
  return bitcast<f32>(0x7fc00000u | runtime_zero);
}

// The 4 floats that start `s` floats into `lo`, continuing into `hi` (s in 0..3).
fn shifted(lo: vec4<f32>, hi: vec4<f32>, s: u32) -> vec4<f32> {
  let by1 = vec4<f32>(lo.yzw, hi.x);
  let by2 = vec4<f32>(lo.zw, hi.xy);
  let by3 = vec4<f32>(lo.w, hi.xyz);
  return select(select(select(by3, by2, s == 2u), by1, s == 1u), lo, s == 0u);
}

// Rows of a matrix that are not vec4-aligned, read as vec4s (gemm_reg and gemm_tex_thin with
// A_SHIFT): column i of the result is row i's 4 floats starting shifts[i] floats into lo[i] and
// continuing into hi[i].
fn shifted_rows(lo: mat4x4<f32>, hi: mat4x4<f32>, shifts: vec4<u32>) -> mat4x4<f32> {
  return mat4x4<f32>(shifted(lo[0], hi[0], shifts.x), shifted(lo[1], hi[1], shifts.y),
                     shifted(lo[2], hi[2], shifts.z), shifted(lo[3], hi[3], shifts.w));
}
