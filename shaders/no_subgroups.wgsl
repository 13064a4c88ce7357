// no_subgroups.wgsl: stands in for subgroups.wgsl (which see) on a device without the 'subgroups'
// feature: QUADS is false, so kernels take their paths without sharing, and each invocation is a
// quad of its own.

const QUADS = false;

fn quad_values(x: vec4<f32>) -> array<vec4<f32>, 4> {
  return array<vec4<f32>, 4>(x, x, x, x);
}

fn quad_index(unique: u32) -> u32 {
  return 0u;
}

fn quad_all(flag: bool) -> bool {
  return flag;
}
