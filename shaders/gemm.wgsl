// gemm.wgsl: C[M,N] = op(A)·op(B) (+ bias[N]), then an activation. Row-major f32.
// Lowered to by: dense layers, conv2d forward (im2col · W), conv2d dW (colsᵀ · dY), dX (dY · Wᵀ)
// (see packages/kernels/src/gemm.ts and conv2d.ts).
//
// Bindings (group 0):
//   0 a     storage, read   A as [M,K], or [K,M] when TRANS_A
//   1 b     storage, read   B as [K,N], or [N,K] when TRANS_B
//   2 bias  storage, read   [N]; read only when HAS_BIAS (else any buffer)
//   3 c     storage, rw     [M,N]
//   4 u     uniform         Params { m, n, k, flags }
// flags: bit 0 TRANS_A, bit 1 TRANS_B, bit 2 HAS_BIAS, bit 3 RELU. They are uniforms, not
//   overrides: a transpose only changes two strides, so one pipeline serves every combination.
// Overrides: WG_X, WG_Y: threads per workgroup along N and M; TK: the K-slice staged per step
//   (tiled only).
// Each thread owns a 4×4 block of C (rows 4·ty.., columns 4·tx..), held in four vec4
// accumulators, so a workgroup covers BM = 4·WG_Y rows and BN = 4·WG_X columns.
// Grid: ceil(M/BM)·ceil(N/BN) workgroups, linear; tile t covers row tile t / tilesN and column
//   tile t % tilesN.
// Entries:
//   gemm_tiled:  each K-slice of A (BM×TK) and B (TK×BN) is staged in workgroup memory as vec4s,
//                two barriers per slice.
//   gemm_direct: the same mapping reading global memory directly, no barriers (often the faster
//                choice on software drivers such as SwiftShader).
// Edges: rows/columns past M/N read clamped (valid) addresses and are never written; k past K
//   reads zero, so the sums are exact for any size. Transposes are strides, not branches.

struct Params { m: u32, n: u32, k: u32, flags: u32 }

const TRANS_A = 1u;
const TRANS_B = 2u;
const HAS_BIAS = 4u;
const RELU = 8u;

fn flag(f: u32) -> bool { return (u.flags & f) != 0u; }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> u: Params;

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override TK: u32 = 16u;

override A_TILE: u32 = TK * WG_Y;   // vec4s: [TK][WG_Y], each 4 consecutive rows
override B_TILE: u32 = TK * WG_X;   // vec4s: [TK][WG_X], each 4 consecutive columns
var<workgroup> tile_a: array<vec4<f32>, A_TILE>;
var<workgroup> tile_b: array<vec4<f32>, B_TILE>;

// Where a thread's 4×4 block sits, and the strides that express the transposes.
struct Block {
  valid: bool,
  row0: u32,       // first row of the workgroup tile
  col0: u32,       // first column of the workgroup tile
  a_row: u32,      // stride of A between rows of op(A)
  a_k: u32,        // stride of A along k
  b_k: u32,        // stride of B along k
  b_col: u32,      // stride of B between columns of op(B)
}

fn block(wid: vec3<u32>, nwg: vec3<u32>) -> Block {
  let tiles_n = (u.n + 4u * WG_X - 1u) / (4u * WG_X);
  let tiles_m = (u.m + 4u * WG_Y - 1u) / (4u * WG_Y);
  let t = linear_workgroup(wid, nwg);
  var bl: Block;
  bl.valid = t < tiles_m * tiles_n;
  bl.row0 = (t / tiles_n) * 4u * WG_Y;
  bl.col0 = (t % tiles_n) * 4u * WG_X;
  bl.a_row = select(u.k, 1u, flag(TRANS_A));
  bl.a_k = select(1u, u.m, flag(TRANS_A));
  bl.b_k = select(u.n, 1u, flag(TRANS_B));
  bl.b_col = select(1u, u.k, flag(TRANS_B));
  return bl;
}

// Offsets in A of 4 consecutive rows starting at `row` (clamped into the matrix).
fn a_rows(bl: Block, row: u32) -> vec4<u32> {
  let last = max(u.m, 1u) - 1u;
  let r = min(vec4<u32>(row) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last));
  return r * bl.a_row;
}

// Offsets in B of 4 consecutive columns starting at `col` (clamped into the matrix).
fn b_cols(bl: Block, col: u32) -> vec4<u32> {
  let last = max(u.n, 1u) - 1u;
  let q = min(vec4<u32>(col) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last));
  return q * bl.b_col;
}

fn load_a4(offs: vec4<u32>, k: u32, bl: Block) -> vec4<f32> {
  let o = offs + vec4<u32>(min(k, u.k - 1u) * bl.a_k);
  let v = vec4<f32>(a[o.x], a[o.y], a[o.z], a[o.w]);
  return select(vec4<f32>(0.0), v, k < u.k);
}

fn load_b4(offs: vec4<u32>, k: u32, bl: Block) -> vec4<f32> {
  let o = offs + vec4<u32>(min(k, u.k - 1u) * bl.b_k);
  let v = vec4<f32>(b[o.x], b[o.y], b[o.z], b[o.w]);
  return select(vec4<f32>(0.0), v, k < u.k);
}

fn store_row(row: u32, col: u32, acc: vec4<f32>) {
  if (row >= u.m) { return; }
  var v = acc;
  if (flag(HAS_BIAS)) {
    let last = u.n - 1u;
    v += vec4<f32>(bias[min(col, last)], bias[min(col + 1u, last)], bias[min(col + 2u, last)],
                   bias[min(col + 3u, last)]);
  }
  if (flag(RELU)) { v = max(v, vec4<f32>(0.0)); }
  let base = row * u.n + col;
  if (col < u.n) { c[base] = v.x; }
  if (col + 1u < u.n) { c[base + 1u] = v.y; }
  if (col + 2u < u.n) { c[base + 2u] = v.z; }
  if (col + 3u < u.n) { c[base + 3u] = v.w; }
}

fn store_block(row: u32, col: u32, acc0: vec4<f32>, acc1: vec4<f32>, acc2: vec4<f32>, acc3: vec4<f32>) {
  store_row(row, col, acc0);
  store_row(row + 1u, col, acc1);
  store_row(row + 2u, col, acc2);
  store_row(row + 3u, col, acc3);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn gemm_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>,
              @builtin(local_invocation_index) lindex: u32) {
  let bl = block(wid, nwg);
  if (!bl.valid) { return; }                        // uniform per workgroup: barriers stay valid
  let threads = WG_X * WG_Y;
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < u.k; k0 += TK) {
    // Slot e of tile_a holds rows row0 + 4·(e / TK).. at k0 + e % TK (neighbouring threads take
    // neighbouring k, which is contiguous in A unless transposed); likewise for tile_b.
    for (var e = lindex; e < A_TILE; e += threads) {
      let kk = e % TK;
      let ty = e / TK;
      tile_a[kk * WG_Y + ty] = load_a4(a_rows(bl, bl.row0 + 4u * ty), k0 + kk, bl);
    }
    for (var e = lindex; e < B_TILE; e += threads) {
      let tx = e % WG_X;
      let kk = e / WG_X;
      tile_b[kk * WG_X + tx] = load_b4(b_cols(bl, bl.col0 + 4u * tx), k0 + kk, bl);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let av = tile_a[kk * WG_Y + lid.y];
      let bv = tile_b[kk * WG_X + lid.x];
      acc0 = fma(vec4<f32>(av.x), bv, acc0);
      acc1 = fma(vec4<f32>(av.y), bv, acc1);
      acc2 = fma(vec4<f32>(av.z), bv, acc2);
      acc3 = fma(vec4<f32>(av.w), bv, acc3);
    }
    workgroupBarrier();
  }
  store_block(bl.row0 + 4u * lid.y, bl.col0 + 4u * lid.x, acc0, acc1, acc2, acc3);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn gemm_direct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let bl = block(wid, nwg);
  if (!bl.valid) { return; }
  let row = bl.row0 + 4u * lid.y;
  let col = bl.col0 + 4u * lid.x;
  let ao = a_rows(bl, row);
  let bo = b_cols(bl, col);
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < u.k; k++) {
    let ak = ao + vec4<u32>(k * bl.a_k);
    let bk = bo + vec4<u32>(k * bl.b_k);
    let av = vec4<f32>(a[ak.x], a[ak.y], a[ak.z], a[ak.w]);
    let bv = vec4<f32>(b[bk.x], b[bk.y], b[bk.z], b[bk.w]);
    acc0 = fma(vec4<f32>(av.x), bv, acc0);
    acc1 = fma(vec4<f32>(av.y), bv, acc1);
    acc2 = fma(vec4<f32>(av.z), bv, acc2);
    acc3 = fma(vec4<f32>(av.w), bv, acc3);
  }
  store_block(row, col, acc0, acc1, acc2, acc3);
}
