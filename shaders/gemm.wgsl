// gemm.wgsl: C[M,N] = op(A)·op(B) (+ bias[N]), then an activation. Row-major f32.
// Lowered to by: dense layers, conv2d forward (im2col · W), conv2d dW (colsᵀ · dY), dX (dY · Wᵀ)
// (see packages/kernels/src/gemm.ts and conv2d.ts).
//
// Bindings (group 0):
//   0 a     storage, read   A as [M,K], or [K,M] when TRANS_A, rows lda apart
//   1 b     storage, read   B as [K,N], or [N,K] when TRANS_B, rows ldb apart
//   2 bias  storage, read   [N]; read only when HAS_BIAS (else any buffer)
//   3 c     storage, rw     [M,N]
//   4 u     uniform         Params { m, n, k, flags, lda, ldb }
// lda, ldb: the stored row lengths of A and B, at least the packed ones (K or M for A, N or K for
//   B); larger where a buffer's rows are padded (im2col columns padded to a multiple of 4).
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

struct Params { m: u32, n: u32, k: u32, flags: u32, lda: u32, ldb: u32, _p0: u32, _p1: u32 }

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
  bl.a_row = select(u.lda, 1u, flag(TRANS_A));
  bl.a_k = select(1u, u.lda, flag(TRANS_A));
  bl.b_k = select(u.ldb, 1u, flag(TRANS_B));
  bl.b_col = select(1u, u.ldb, flag(TRANS_B));
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

// The bias of columns col..col+3 (clamped into [0, N)), or zero without one: loaded once a block,
// not once a row.
fn bias4(has_bias: bool, col: u32, n: u32) -> vec4<f32> {
  if (!has_bias) { return vec4<f32>(0.0); }
  let last = n - 1u;
  return vec4<f32>(bias[min(col, last)], bias[min(col + 1u, last)], bias[min(col + 2u, last)],
                   bias[min(col + 3u, last)]);
}

fn store_row(row: u32, col: u32, acc: vec4<f32>) {
  if (row >= u.m) { return; }
  var v = acc;
  if (flag(RELU)) { v = max(v, vec4<f32>(0.0)); }
  let base = row * u.n + col;
  if (col < u.n) { c[base] = v.x; }
  if (col + 1u < u.n) { c[base + 1u] = v.y; }
  if (col + 2u < u.n) { c[base + 2u] = v.z; }
  if (col + 3u < u.n) { c[base + 3u] = v.w; }
}

// One store site in a loop, as in gemm_reg below.
fn store_block(row: u32, col: u32, acc0: vec4<f32>, acc1: vec4<f32>, acc2: vec4<f32>, acc3: vec4<f32>) {
  let add = bias4(flag(HAS_BIAS), col, u.n);
  let acc = mat4x4<f32>(acc0 + add, acc1 + add, acc2 + add, acc3 + add);
  for (var i = 0u; i < 4u; i++) { store_row(row + i, col, acc[i]); }
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

// ---- gemm_reg: register-blocked, vec4 loads, no barriers, optional split-K ----------------------
// The software-adapter path (SwiftShader runs each invocation as a SIMD lane: scalar storage loads
// and integer divisions are its costliest operations). A and B are bound as vec4 arrays (their
// byte sizes must be multiples of 16); where the layout is 4-aligned (VEC_A_C / VEC_B_C) a 4×4
// block of op(A) or op(B) is 4 vec4 loads, else 16 element loads through the same binding.
// Bindings: 0 ra (A), 1 rb (B), 2 bias, 3 c, 4 ru RegParams (the same slots as above).
//   A element (row, k) sits at row·lda + k, or k·lda + row with TRANS_A; B (k, col) at k·ldb + col,
//   or col·ldb + k with TRANS_B.
// Overrides: REG_THREADS (threads per workgroup), TRANS_A_C, TRANS_B_C, VEC_A_C, VEC_B_C (the
//   aligned vec4 paths: need lda % 4 == 0, resp. ldb % 4 == 0, and lda ≥ round4(M) with TRANS_A,
//   ldb ≥ round4(N) without TRANS_B), A_SHIFT (lda % 4 for an untransposed A whose rows are not
//   vec4-aligned: row i of a 4-row block then starts i·A_SHIFT % 4 floats into a vec4, and its
//   4 k come from two neighbouring vec4s, one of them carried from the previous step, so A still
//   costs 4 vec4 loads a step instead of 16 element loads). The workgroup's shape (wg_x threads
//   along N by wg_y along M, at most REG_THREADS) and split-K are uniforms, so shapes share
//   pipelines (fewer to compile at start-up); the vec4 paths stay overrides, as uniform branches
//   there cost 2–4× on SwiftShader.
// Grid: tiles_m·tiles_n·splits workgroups, linear: t → split s = t / (tiles_m·tiles_n), tile
//   t % (tiles_m·tiles_n) → row tile / tiles_n, column tile % tiles_n. Split s sums k in
//   [s·k_slice, min((s+1)·k_slice, K)) (k_slice % 4 == 0) and, with splits > 1, writes raw partial
//   sums to C at offset s·M·N; gemm_split_reduce then sums the splits and applies the epilogue.

struct RegParams {
  m: u32, n: u32, k: u32, flags: u32,
  lda: u32, ldb: u32, k_slice: u32, splits: u32,
  tiles_m: u32, tiles_n: u32, wg_x: u32, wg_y: u32,
}

@group(0) @binding(0) var<storage, read> ra: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> rb: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> ru: RegParams;

override REG_THREADS: u32 = 64u;
override TRANS_A_C: bool = false;
override TRANS_B_C: bool = false;
override VEC_A_C: bool = false;
override VEC_B_C: bool = false;
override A_SHIFT: u32 = 0u;

fn ea(i: u32) -> f32 { return ra[i >> 2u][i & 3u]; }
fn eb(i: u32) -> f32 { return rb[i >> 2u][i & 3u]; }

// acc already holds the bias (none for split-K's partial sums).
fn reg_epilogue(row: u32, col: u32, acc: vec4<f32>, split: u32) {
  if (row >= ru.m) { return; }
  var v = acc;
  var base = row * ru.n + col;
  if (ru.splits > 1u) {
    base += split * ru.m * ru.n;
  } else if ((ru.flags & RELU) != 0u) {
    v = max(v, vec4<f32>(0.0));
  }
  if (col + 3u < ru.n) {
    c[base] = v.x; c[base + 1u] = v.y; c[base + 2u] = v.z; c[base + 3u] = v.w;
    return;
  }
  if (col < ru.n) { c[base] = v.x; }
  if (col + 1u < ru.n) { c[base + 1u] = v.y; }
  if (col + 2u < ru.n) { c[base + 2u] = v.z; }
}

@compute @workgroup_size(REG_THREADS)
fn gemm_reg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) li: u32) {
  let tiles = ru.tiles_m * ru.tiles_n;
  let t = linear_workgroup(wid, nwg);
  if (t >= tiles * ru.splits) { return; }
  let split = t / tiles;
  let tile = t - split * tiles;
  let tm = tile / ru.tiles_n;
  let ly = li / ru.wg_x;
  if (ly >= ru.wg_y) { return; } // a narrow tile leaves some of the REG_THREADS idle
  let lx = li - ly * ru.wg_x;
  let row = (tm * ru.wg_y + ly) * 4u;
  let col = ((tile - tm * ru.tiles_n) * ru.wg_x + lx) * 4u;
  let kb = split * ru.k_slice;
  let ke = min(kb + ru.k_slice, ru.k);
  let kn = select(0u, ke - kb, ke > kb);

  // Element offsets of (row_i, kb) in A and (kb, col_j) in B, rows and columns clamped into the
  // matrices (4-aligned blocks for the transposed-A / plain-B vec4 paths); a_step / b_step: per k.
  let lane = vec4<u32>(0u, 1u, 2u, 3u);
  var r = min(vec4<u32>(row) + lane, vec4<u32>(ru.m - 1u));
  if (VEC_A_C && TRANS_A_C) { r = vec4<u32>(min(row, (ru.m - 1u) & ~3u)) + lane; }
  var q = min(vec4<u32>(col) + lane, vec4<u32>(ru.n - 1u));
  if (VEC_B_C && !TRANS_B_C) { q = vec4<u32>(min(col, (ru.n - 1u) & ~3u)) + lane; }
  var ao: vec4<u32>;
  var a_step: u32;
  if (TRANS_A_C) { ao = vec4<u32>(kb * ru.lda) + r; a_step = ru.lda; }
  else { ao = r * ru.lda + vec4<u32>(kb); a_step = 1u; }
  var bo: vec4<u32>;
  var b_step: u32;
  if (TRANS_B_C) { bo = q * ru.ldb + vec4<u32>(kb); b_step = 1u; }
  else { bo = vec4<u32>(kb * ru.ldb) + q; b_step = ru.ldb; }

  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  let chunks = kn >> 2u;
  // A_SHIFT: the vec4 holding the first float of each row's step (unclamped rows: a row past M
  // reads whatever robust access gives and is never stored), and the misalignment of each row.
  let shifts = (vec4<u32>(0u, 1u, 2u, 3u) * A_SHIFT) & vec4<u32>(3u);
  var av = ((vec4<u32>(row) + lane) * ru.lda + vec4<u32>(kb)) >> vec4<u32>(2u);
  var lo = mat4x4<f32>();
  if (A_SHIFT != 0u) { lo = mat4x4<f32>(ra[av.x], ra[av.y], ra[av.z], ra[av.w]); }
  for (var ch = 0u; ch < chunks; ch++) {
    // am[i]: op(A) row i over the 4 k; bm[kk]: op(B) at k kk over the 4 columns.
    var am: mat4x4<f32>;
    if (A_SHIFT != 0u) {
      av += vec4<u32>(1u);
      let hi = mat4x4<f32>(ra[av.x], ra[av.y], ra[av.z], ra[av.w]);
      am = shifted_rows(lo, hi, shifts);
      lo = hi;
    } else if (VEC_A_C && !TRANS_A_C) {
      am = mat4x4<f32>(ra[ao.x >> 2u], ra[ao.y >> 2u], ra[ao.z >> 2u], ra[ao.w >> 2u]);
    } else if (VEC_A_C) {
      let o = ao.x >> 2u;
      let s = a_step >> 2u;
      am = transpose(mat4x4<f32>(ra[o], ra[o + s], ra[o + 2u * s], ra[o + 3u * s]));
    } else {
      let s = vec4<u32>(a_step);
      am = transpose(mat4x4<f32>(
        vec4<f32>(ea(ao.x), ea(ao.y), ea(ao.z), ea(ao.w)),
        vec4<f32>(ea(ao.x + s.x), ea(ao.y + s.y), ea(ao.z + s.z), ea(ao.w + s.w)),
        vec4<f32>(ea(ao.x + 2u * s.x), ea(ao.y + 2u * s.y), ea(ao.z + 2u * s.z), ea(ao.w + 2u * s.w)),
        vec4<f32>(ea(ao.x + 3u * s.x), ea(ao.y + 3u * s.y), ea(ao.z + 3u * s.z), ea(ao.w + 3u * s.w))));
    }
    var bm: mat4x4<f32>;
    if (VEC_B_C && TRANS_B_C) {
      bm = transpose(mat4x4<f32>(rb[bo.x >> 2u], rb[bo.y >> 2u], rb[bo.z >> 2u], rb[bo.w >> 2u]));
    } else if (VEC_B_C) {
      let o = bo.x >> 2u;
      let s = b_step >> 2u;
      bm = mat4x4<f32>(rb[o], rb[o + s], rb[o + 2u * s], rb[o + 3u * s]);
    } else {
      let s = b_step;
      bm = mat4x4<f32>(
        vec4<f32>(eb(bo.x), eb(bo.y), eb(bo.z), eb(bo.w)),
        vec4<f32>(eb(bo.x + s), eb(bo.y + s), eb(bo.z + s), eb(bo.w + s)),
        vec4<f32>(eb(bo.x + 2u * s), eb(bo.y + 2u * s), eb(bo.z + 2u * s), eb(bo.w + 2u * s)),
        vec4<f32>(eb(bo.x + 3u * s), eb(bo.y + 3u * s), eb(bo.z + 3u * s), eb(bo.w + 3u * s)));
    }
    acc0 += bm * am[0];
    acc1 += bm * am[1];
    acc2 += bm * am[2];
    acc3 += bm * am[3];
    ao += vec4<u32>(4u * a_step);
    bo += vec4<u32>(4u * b_step);
  }
  for (var kk = chunks << 2u; kk < kn; kk++) {
    let av = vec4<f32>(ea(ao.x), ea(ao.y), ea(ao.z), ea(ao.w));
    let bv = vec4<f32>(eb(bo.x), eb(bo.y), eb(bo.z), eb(bo.w));
    acc0 = fma(vec4<f32>(av.x), bv, acc0);
    acc1 = fma(vec4<f32>(av.y), bv, acc1);
    acc2 = fma(vec4<f32>(av.z), bv, acc2);
    acc3 = fma(vec4<f32>(av.w), bv, acc3);
    ao += vec4<u32>(a_step);
    bo += vec4<u32>(b_step);
  }
  // One store site in a loop: SwiftShader compiles each buffer access into per-lane code, so four
  // inlined epilogues cost it more compile time than the loop's dynamic indexing costs at run time.
  let add = bias4((ru.flags & HAS_BIAS) != 0u && ru.splits == 1u, col, ru.n);
  let acc = mat4x4<f32>(acc0 + add, acc1 + add, acc2 + add, acc3 + add);
  for (var i = 0u; i < 4u; i++) { reg_epilogue(row + i, col, acc[i], split); }
}

// C = epilogue(Σ_s P[s·M·N + i]): the second pass of split-K. Bindings: 0 a (P), 2 bias, 3 c,
// 4 ru. Grid: one thread per 4 consecutive outputs (WG_X·WG_Y threads a workgroup), linear.
@compute @workgroup_size(WG_X, WG_Y, 1)
fn gemm_split_reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) li: u32) {
  let mn = ru.m * ru.n;
  let i0 = (linear_workgroup(wid, nwg) * WG_X * WG_Y + li) * 4u;
  if (i0 >= mn) { return; }
  let cnt = min(4u, mn - i0);
  for (var j = 0u; j < cnt; j++) {
    let i = i0 + j;
    var s = 0.0;
    for (var p = 0u; p < ru.splits; p++) { s += a[p * mn + i]; }
    if ((ru.flags & HAS_BIAS) != 0u) { s += bias[i % ru.n]; }
    if ((ru.flags & RELU) != 0u) { s = max(s, 0.0); }
    c[i] = s;
  }
}
