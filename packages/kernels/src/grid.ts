// Folding a linear workgroup count into a grid that respects maxComputeWorkgroupsPerDimension.
// Kernels recover the linear index with linear_workgroup() (shaders/common.wgsl) and skip the
// few extra workgroups a folded grid may add.

export function foldGrid(count: number, max = 65535): [number, number, number] {
  if (!Number.isInteger(count) || count < 0) throw new Error(`filtro: bad workgroup count ${count}`);
  if (count <= max) return [count, 1, 1];
  const z = Math.ceil(count / (max * max));
  if (z > max) throw new Error(`filtro: ${count} workgroups exceed a ${max}³ grid`);
  const perZ = Math.ceil(count / z);
  const y = Math.ceil(perZ / max);
  const x = Math.ceil(perZ / y);
  return [x, y, z];
}

/** Workgroups needed for `n` threads, `perGroup` threads each. */
export function groupsFor(n: number, perGroup: number): number {
  return Math.ceil(n / perGroup);
}
