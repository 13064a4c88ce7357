// finite.wgsl: flags NaN or ±Inf anywhere in an f32 buffer (numerics checks).
// Lowered to by: the runtime's numerics checks (debug mode) in core.
//
// Bindings (group 0): 0 x read [n]   1 flag rw atomic<u32> [1]   2 u Params { n }
// Writes flag[0] = 1 if any element is NaN or ±Inf (tested by exponent bits); never writes 0, so
// the flag must start at 0 (the wrapper clears it in the same step) and several buffers can share
// one flag.
// Override: WG. Grid: one thread per element, linear.

struct Params { n: u32, _pad0: u32, _pad1: u32, _pad2: u32 }

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> flag: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> u: Params;

@compute @workgroup_size(WG)
fn finite_check(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * WG + li;
  if (i >= u.n) { return; }
  if (is_non_finite(x[i])) { atomicStore(&flag[0], 1u); }
}
