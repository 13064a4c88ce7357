// subgroups.wgsl: quad operations, prepended to every family (before common.wgsl) on a device
// with the 'subgroups' feature; no_subgroups.wgsl stands in for it elsewhere, with the same names.
// A quad is 4 invocations of a subgroup (subgroup invocation ids 4q..4q+3; every subgroup has at
// least 4). Each function here must be called by all 4 invocations of the quad together: a caller
// that lets some of them return early first asks quad_all() whether all of them would.
// Why: SwiftShader runs a quad as the 4 lanes of one SIMD register, and a load costs it per-lane
// work even where the 4 lanes read the same address; one load a lane and a broadcast are cheaper.
enable subgroups;
// The callers guarantee the whole quad takes part (above); WGSL's analysis cannot see that.
diagnostic(off, subgroup_uniformity);

const QUADS = true;

// The values of x held by the quad's invocations, by their index in the quad.
fn quad_values(x: vec4<f32>) -> array<vec4<f32>, 4> {
  return array<vec4<f32>, 4>(quadBroadcast(x, 0u), quadBroadcast(x, 1u), quadBroadcast(x, 2u), quadBroadcast(x, 3u));
}

// This invocation's index in its quad, from a value that differs between any two invocations of
// the workgroup (its local_invocation_index): no subgroup builtin needs declaring at the entry point.
fn quad_index(unique: u32) -> u32 {
  let ids = vec4<u32>(quadBroadcast(unique, 0u), quadBroadcast(unique, 1u), quadBroadcast(unique, 2u),
                      quadBroadcast(unique, 3u));
  return select(select(select(3u, 2u, ids.z == unique), 1u, ids.y == unique), 0u, ids.x == unique);
}

// Whether `flag` holds in all 4 invocations of the quad.
fn quad_all(flag: bool) -> bool {
  let f = u32(flag);
  return (quadBroadcast(f, 0u) & quadBroadcast(f, 1u) & quadBroadcast(f, 2u) & quadBroadcast(f, 3u)) == 1u;
}
