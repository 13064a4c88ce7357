// gemm_tex.wgsl: C[M,N] = op(A)·op(B) (+ bias[N]), then an activation, with op(A) and op(B) read
// from rgba32float textures: the 'tex' variant of packages/kernels/src/gemm.ts.
// Why: SwiftShader runs four invocations as the lanes of one SIMD register, and any load at a
// computed index costs it per-lane work, so loads, not multiply-adds, bound its GEMMs. A packed
// texture gives every operand aligned, zero-padded quads of 4 floats (one fetch per lane, about
// what a vec4 storage load costs there: measured alike in Chromium), and 16×16 outputs a thread
// need 32 fetches per 1024 multiply-adds where gemm_reg's 4×4 need 8 loads per 64: about twice as
// fast (1024³ in Dawn).
// Packing costs O(MK + KN), so op(A) is packed only where each of its elements is used often
// enough (see A_BUF); hardware adapters keep the buffer variants (the runtime's tuning chooses).
// Lowered to by: gemm() (packages/kernels/src/gemm.ts) with variant 'tex', the default on software
// adapters for GEMMs of at least 2^26 multiply-adds (large matmuls and dense layers, the im2col
// GEMMs of wide convolutions, forward and dW), and from 2^22 for plain ones (op(A) untransposed
// from its buffer, N > 16: LeNet's dense1 forward and dX), and through gemm_tex_thin (below) for
// 4 < N <= 16 over many rows (LeNet's conv1 and conv2 forward). A gemm_tex pipeline
// takes SwiftShader about 0.3 s to compile, so the other small GEMMs keep 'reg' and 'direct'.
//
// Packed layout (written by gemm_pack, or by a copy where the rows already are this layout, see
// pack() in gemm.ts; read by gemm_tex): a matrix X with `rows` rows and `cols`
// columns becomes texels of 4 consecutive columns; row r, texel t (columns 4t..4t+3) sits at
//   x = (r / fold)·texels + t,   y = r % fold,     texels = ceil(cols / 4),
// so that matrices taller than the texture limit fold into side-by-side bands of `fold` rows.
// op(A) is packed with rows = M, cols = K (4 consecutive k per texel); op(B) with rows = K,
// cols = N (4 consecutive columns per texel) and a fold that is a multiple of 4.

// ---- gemm_pack: matrix in a storage buffer -> packed texture -------------------------------------
// Bindings: 0 src storage read, 1 dst rgba32float storage texture (write), 2 pu PackParams.
// Element (r, c) of X is src[r·rs + c·cs] (a transpose is a swap of the strides). Rows in
// [rows, rows_out) and columns past `cols` are written as zeros: the GEMM runs K up to a multiple
// of 4 and must find zeros there, not what an earlier GEMM left in the texture.
// Grid: one thread per texel (rows_out·texels), 64 a workgroup, linear.

struct PackParams { rows: u32, cols: u32, rs: u32, cs: u32, rows_out: u32, fold: u32, texels: u32, _p: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var dst: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> pu: PackParams;

@compute @workgroup_size(64)
fn gemm_pack(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) li: u32) {
  let i = linear_workgroup(wid, nwg) * 64u + li;
  if (i >= pu.rows_out * pu.texels) { return; }
  let r = i / pu.texels;
  let t = i - r * pu.texels;
  let c0 = 4u * t;
  // Clamped reads and selects, not a branch per element (1.5× faster on SwiftShader).
  let base = min(r, pu.rows - 1u) * pu.rs + c0 * pu.cs;
  let last = pu.cols - 1u - c0; // columns c0 + j past the last read the last one, then zero
  let e = vec4<f32>(src[base], src[base + min(1u, last) * pu.cs], src[base + min(2u, last) * pu.cs],
                    src[base + min(3u, last) * pu.cs]);
  let inside = (vec4<u32>(c0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(pu.cols)) & vec4<bool>(r < pu.rows);
  let v = select(vec4<f32>(0.0), e, inside);
  textureStore(dst, vec2<u32>((r / pu.fold) * pu.texels + t, r % pu.fold), v);
}

// ---- gemm_tex: the product -------------------------------------------------------------------------
// Bindings: 0 ta (op(A) packed), 1 tb (op(B) packed), 2 bias storage read [N] (read only when
// HAS_BIAS), 3 c storage rw, 4 tu TexParams, 5 abuf (op(A) unpacked, read only with A_BUF).
// Each thread owns a 16×16 block of C as 16 mat4x4 accumulators: column i of acc_pq holds row
// 4p+i of the block over columns 4q..4q+3. Per step of 4 k it fetches 4 quads of A (4 rows × 4 k)
// and 4 quads of B (4 k × 4 columns) and does acc_pq += B_q · A_p. Narrower blocks were measured
// (8×8 to 32×32 outputs): 16×16 ran fastest, and one size keeps the pipelines to compile few.
// Overrides: TEX_THREADS (threads a workgroup), A_BUF, A_TRANS (below). The workgroup's shape
// (wg_x threads along N by wg_y along M by wg_s splits of K) and split-K are uniforms; flags as
// in gemm.wgsl (HAS_BIAS 4, RELU 8).
// Grid: tiles_m·tiles_n·ceil(splits / wg_s) workgroups, linear: t -> splits wg_s·(t / tiles)..,
//   tile t % tiles -> row tile / tiles_n, column tile % tiles_n. Split s sums the k texels
//   [s·k4_slice, min((s+1)·k4_slice, k4)); with splits > 1 it writes raw partial sums to C at
//   offset s·M·N for gemm_split_reduce (gemm.wgsl) to sum and finish. Splits share a workgroup
//   when the tile is narrower than TEX_THREADS: few output blocks over a long K (a dW) then fill
//   workgroups instead of leaving most of their threads idle.

struct TexParams {
  m: u32, n: u32, k4: u32, flags: u32,
  fold_a: u32, fold_b: u32, n4: u32, k4_slice: u32,
  splits: u32, tiles_m: u32, tiles_n: u32, wg_x: u32,
  wg_y: u32, k: u32, lda4: u32, wg_s: u32,
}

const TEX_HAS_BIAS = 4u;
const TEX_RELU = 8u;

@group(0) @binding(0) var ta: texture_2d<f32>;
@group(0) @binding(1) var tb: texture_2d<f32>;
@group(0) @binding(2) var<storage, read> tbias: array<f32>;
@group(0) @binding(3) var<storage, read_write> tc: array<f32>;
@group(0) @binding(4) var<uniform> tu: TexParams;
@group(0) @binding(5) var<storage, read> abuf: array<vec4<f32>>;

override TEX_THREADS: u32 = 64u;
// A_BUF: op(A) is read from abuf (binding 5) instead of ta: A stored [M, lda] (4 k a vec4), or
// [K, lda] with A_TRANS (4 rows a vec4); lda % 4 == 0, and lda >= round4(M) with A_TRANS. Only
// B is packed then: the choice for thin GEMMs (im2col's), whose A would cost more to pack than to
// read. Rows are not folded (fold_a = M), and k past K reads as zero. A_TRANS is an override: as
// a uniform flag it made the thin GEMMs 10-30% slower (a branch per A quad in the K loop).
override A_BUF: bool = false;
override A_TRANS: bool = false;

// Texel-space origins (x of k texel 0, y) of rows r..r+3 of op(A), rows clamped into the matrix.
struct RowQuad { x: vec4<i32>, y: vec4<i32> }

fn row_quad(r: u32) -> RowQuad {
  let rows = min(vec4<u32>(r) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(tu.m - 1u));
  let band = rows / vec4<u32>(tu.fold_a);
  return RowQuad(vec4<i32>(band * tu.k4), vec4<i32>(rows - band * tu.fold_a));
}

// op(A) rows q.y (x, y, z, w) at k texel k4 from abuf, as the columns of a matrix.
fn a_quad_buf(q: RowQuad, k4: i32) -> mat4x4<f32> {
  let k0 = 4u * u32(k4);
  let lane = vec4<u32>(0u, 1u, 2u, 3u);
  if (A_TRANS) {
    let col = (u32(q.y.x) & ~3u) / 4u;
    let last = tu.k - 1u;
    let v = mat4x4<f32>(select(vec4<f32>(0.0), abuf[min(k0, last) * tu.lda4 + col], k0 < tu.k),
                        select(vec4<f32>(0.0), abuf[min(k0 + 1u, last) * tu.lda4 + col], k0 + 1u < tu.k),
                        select(vec4<f32>(0.0), abuf[min(k0 + 2u, last) * tu.lda4 + col], k0 + 2u < tu.k),
                        select(vec4<f32>(0.0), abuf[min(k0 + 3u, last) * tu.lda4 + col], k0 + 3u < tu.k));
    return transpose(v);
  }
  let rows = vec4<u32>(q.y) * tu.lda4 + vec4<u32>(u32(k4));
  return zero_past_k(mat4x4<f32>(abuf[rows.x], abuf[rows.y], abuf[rows.z], abuf[rows.w]), u32(k4));
}

// Rows of op(A) over the 4 k of texel k4 (as the columns of `a`), with the k past K zeroed.
fn zero_past_k(a: mat4x4<f32>, k4: u32) -> mat4x4<f32> {
  let valid = vec4<u32>(4u * k4) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(tu.k);
  let z = vec4<f32>(0.0);
  return mat4x4<f32>(select(z, a[0], valid), select(z, a[1], valid), select(z, a[2], valid), select(z, a[3], valid));
}

// op(A) rows q.x..q.w at k texel k4, as the columns of a matrix.
fn a_quad(q: RowQuad, k4: i32) -> mat4x4<f32> {
  if (A_BUF) { return a_quad_buf(q, k4); }
  return mat4x4<f32>(textureLoad(ta, vec2<i32>(q.x.x + k4, q.y.x), 0),
                     textureLoad(ta, vec2<i32>(q.x.y + k4, q.y.y), 0),
                     textureLoad(ta, vec2<i32>(q.x.z + k4, q.y.z), 0),
                     textureLoad(ta, vec2<i32>(q.x.w + k4, q.y.w), 0));
}

// op(B) rows y..y+3 (4 consecutive k) at column texel x, as the columns of a matrix.
fn b_quad(x: i32, y: i32) -> mat4x4<f32> {
  return mat4x4<f32>(textureLoad(tb, vec2<i32>(x, y), 0), textureLoad(tb, vec2<i32>(x, y + 1), 0),
                     textureLoad(tb, vec2<i32>(x, y + 2), 0), textureLoad(tb, vec2<i32>(x, y + 3), 0));
}

// *acc += b·a, column by column in place (SwiftShader runs this faster than `acc += b * a`).
fn mma(acc: ptr<function, mat4x4<f32>>, b: mat4x4<f32>, a: mat4x4<f32>) {
  (*acc)[0] += b[0] * a[0].x + b[1] * a[0].y + b[2] * a[0].z + b[3] * a[0].w;
  (*acc)[1] += b[0] * a[1].x + b[1] * a[1].y + b[2] * a[1].z + b[3] * a[1].w;
  (*acc)[2] += b[0] * a[2].x + b[1] * a[2].y + b[2] * a[2].z + b[3] * a[2].w;
  (*acc)[3] += b[0] * a[3].x + b[1] * a[3].y + b[2] * a[3].z + b[3] * a[3].w;
}

// One row quad's step: c_q += b_q · a for the 4 column quads.
fn mma_row(c0: ptr<function, mat4x4<f32>>, c1: ptr<function, mat4x4<f32>>, c2: ptr<function, mat4x4<f32>>,
           c3: ptr<function, mat4x4<f32>>, a: mat4x4<f32>, b0: mat4x4<f32>, b1: mat4x4<f32>, b2: mat4x4<f32>,
           b3: mat4x4<f32>) {
  mma(c0, b0, a);
  mma(c1, b1, a);
  mma(c2, b2, a);
  mma(c3, b3, a);
}

// The bias of columns col..col+3 (clamped), or zero without one or for split-K's partial sums.
fn tex_bias(col: u32) -> vec4<f32> {
  if ((tu.flags & TEX_HAS_BIAS) == 0u || tu.splits > 1u) { return vec4<f32>(0.0); }
  let last = tu.n - 1u;
  return vec4<f32>(tbias[min(col, last)], tbias[min(col + 1u, last)], tbias[min(col + 2u, last)],
                   tbias[min(col + 3u, last)]);
}

// Writes one row of C over columns col..col+3 (acc holds the bias; the activation unless split).
fn tex_store(r: u32, col: u32, acc: vec4<f32>, split: u32) {
  if (r >= tu.m || col >= tu.n) { return; }
  var v = acc;
  var base = r * tu.n + col;
  if (tu.splits > 1u) {
    base += split * tu.m * tu.n;
  } else if ((tu.flags & TEX_RELU) != 0u) {
    v = max(v, vec4<f32>(0.0));
  }
  if (col + 3u < tu.n) {
    tc[base] = v.x; tc[base + 1u] = v.y; tc[base + 2u] = v.z; tc[base + 3u] = v.w;
    return;
  }
  tc[base] = v.x;
  if (col + 1u < tu.n) { tc[base + 1u] = v.y; }
  if (col + 2u < tu.n) { tc[base + 2u] = v.z; }
}

@compute @workgroup_size(TEX_THREADS)
fn gemm_tex(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) li: u32) {
  let tiles = tu.tiles_m * tu.tiles_n;
  let t = linear_workgroup(wid, nwg);
  let group_splits = (tu.splits + tu.wg_s - 1u) / tu.wg_s;
  if (t >= tiles * group_splits) { return; }
  // Thread li: column lx, row ly of the tile, and split ls of the workgroup's wg_s.
  let per_split = tu.wg_x * tu.wg_y;
  let ls = li / per_split;
  let ly = (li - ls * per_split) / tu.wg_x;
  let lx = li - ls * per_split - ly * tu.wg_x;
  let split = (t / tiles) * tu.wg_s + ls;
  if (ls >= tu.wg_s || split >= tu.splits) { return; } // threads past the tile's and the splits' idle
  let tile = t % tiles;
  let tm = tile / tu.tiles_n;
  let row = (tm * tu.wg_y + ly) * 16u;
  let q0 = ((tile - tm * tu.tiles_n) * tu.wg_x + lx) * 4u;
  let kb = split * tu.k4_slice;
  let ke = min(kb + tu.k4_slice, tu.k4);

  let r0 = row_quad(row);
  let r1 = row_quad(row + 4u);
  let r2 = row_quad(row + 8u);
  let r3 = row_quad(row + 12u);
  // Column texels past the last are clamped (their sums are never stored).
  let last_q = tu.n4 - 1u;
  let x0 = i32(min(q0, last_q));
  let x1 = i32(min(q0 + 1u, last_q));
  let x2 = i32(min(q0 + 2u, last_q));
  let x3 = i32(min(q0 + 3u, last_q));

  var acc00: mat4x4<f32>; var acc01: mat4x4<f32>; var acc02: mat4x4<f32>; var acc03: mat4x4<f32>;
  var acc10: mat4x4<f32>; var acc11: mat4x4<f32>; var acc12: mat4x4<f32>; var acc13: mat4x4<f32>;
  var acc20: mat4x4<f32>; var acc21: mat4x4<f32>; var acc22: mat4x4<f32>; var acc23: mat4x4<f32>;
  var acc30: mat4x4<f32>; var acc31: mat4x4<f32>; var acc32: mat4x4<f32>; var acc33: mat4x4<f32>;

  // The 4 B rows of step k4 start at texel row by of band bx (fold_b is a multiple of 4).
  var by = i32((4u * kb) % tu.fold_b);
  var bx = i32((4u * kb) / tu.fold_b * tu.n4);
  let fold_b = i32(tu.fold_b);
  let n4 = i32(tu.n4);
  for (var k4 = i32(kb); k4 < i32(ke); k4++) {
    let b0 = b_quad(bx + x0, by);
    let b1 = b_quad(bx + x1, by);
    let b2 = b_quad(bx + x2, by);
    let b3 = b_quad(bx + x3, by);
    mma_row(&acc00, &acc01, &acc02, &acc03, a_quad(r0, k4), b0, b1, b2, b3);
    mma_row(&acc10, &acc11, &acc12, &acc13, a_quad(r1, k4), b0, b1, b2, b3);
    mma_row(&acc20, &acc21, &acc22, &acc23, a_quad(r2, k4), b0, b1, b2, b3);
    mma_row(&acc30, &acc31, &acc32, &acc33, a_quad(r3, k4), b0, b1, b2, b3);
    by += 4;
    let wrap = by >= fold_b;  // selects, not a branch: a branch splits the loop body
    bx = select(bx, bx + n4, wrap);
    by = select(by, 0, wrap);
  }

  // One store site in a loop, not one per block and row: SwiftShader compiles each buffer access
  // into per-lane code, and 64 inlined copies of the epilogue took it seconds (the loop's dynamic
  // indexing into `blocks` costs little, once per output row).
  let blocks = array<mat4x4<f32>, 16>(acc00, acc01, acc02, acc03, acc10, acc11, acc12, acc13,
                                      acc20, acc21, acc22, acc23, acc30, acc31, acc32, acc33);
  // The bias of each column quad, loaded once (not once a row).
  var adds: array<vec4<f32>, 4>;
  for (var q = 0u; q < 4u; q++) { adds[q] = tex_bias(4u * (q0 + q)); }
  for (var bi = 0u; bi < 16u; bi++) {
    let p = bi / 4u;
    let q = bi % 4u;
    let block = blocks[bi];
    for (var i = 0u; i < 4u; i++) { tex_store(row + 4u * p + i, 4u * (q0 + q), block[i] + adds[q], split); }
  }
}

// ---- gemm_tex_thin: few columns (4 < N <= 16) -----------------------------------------------------
// For the im2col GEMMs of convolutions with few filters: many rows (batch·H·W), a short K (F·F·C)
// and N <= 16. gemm_tex's 16×16 block a thread would waste half its work or more at N <= 8 and
// reads A's rows 16 at a time; gemm_reg's 4×4 blocks read every A row once per column quad and
// load B once per 16 outputs. Here a thread owns 4 rows × NQ column quads (NQ = ceil(N / 4), an
// override): its A rows are read once from abuf (4 vec4 loads a step of 4 k) and B from its
// packed texture (4·NQ texel fetches a step). In Chromium on SwiftShader: about 1.5× faster than
// gemm_reg on LeNet's conv1 (N = 8), 1.3-1.5× faster than gemm_tex on its conv2 (N = 16). Every
// thread reads the same B: with QUADS (subgroups.wgsl) each of a quad's 4 invocations fetches one
// of the step's 4 B rows and takes the others from the quad, NQ fetches a step instead of 4·NQ
// (1.2-1.3× faster again on LeNet's conv1). NQ is an override because as a uniform (one pipeline
// for conv1 and conv2) the branches on it in the K loop made both 1.4-2× slower.
// Bindings as gemm_tex: ta unused; abuf holds A as [M, lda], untransposed; tb as packed by
// gemm_pack. TexParams: m, n, k4, flags, fold_a (M), fold_b, n4 (NQ), k, lda4, splits (1: no
// split-K, gemm.ts routes here only GEMMs with rows enough to fill the device); the rest unused.
// Override A_SHIFT: lda % 4 (lda = 4·lda4 + A_SHIFT). With A_SHIFT != 0, row i of a 4-row block
// (blocks start at rows that are multiples of 4) begins (i·A_SHIFT) % 4 floats into a vec4, and its
// 4 k of a step come from two neighbouring vec4s, one carried over from the previous step.
// Rows past M read whatever robust access gives and are never stored (their invocations return
// early only where the whole quad would, as sharing needs all 4); k past K reads as zero.
// Grid: ceil(M / (4·TEX_THREADS)) workgroups, linear.
override A_SHIFT: u32 = 0u;
override NQ: u32 = 2u;

// B rows y..y+3 at texel x: with QUADS the calling quad's lane `me` fetches row y + me for all 4.
fn thin_b(x: i32, y: i32, me: i32) -> mat4x4<f32> {
  if (!QUADS) { return b_quad(x, y); }
  let b = quad_values(textureLoad(tb, vec2<i32>(x, y + me), 0));
  return mat4x4<f32>(b[0], b[1], b[2], b[3]);
}

@compute @workgroup_size(TEX_THREADS)
fn gemm_tex_thin(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) li: u32) {
  let row = (linear_workgroup(wid, nwg) * TEX_THREADS + li) * 4u;
  let past_m = row >= tu.m;
  if (quad_all(past_m)) { return; }
  let me = i32(quad_index(li));
  let rows = row_quad(row);
  // With A_SHIFT: av, the vec4 holding each row's first float of the current step; lo, that vec4.
  let lane = vec4<u32>(0u, 1u, 2u, 3u);
  let shifts = (lane * A_SHIFT) & vec4<u32>(3u);
  var av = ((vec4<u32>(row) + lane) * (4u * tu.lda4 + A_SHIFT)) >> vec4<u32>(2u);
  var lo = mat4x4<f32>();
  if (A_SHIFT != 0u) { lo = mat4x4<f32>(abuf[av.x], abuf[av.y], abuf[av.z], abuf[av.w]); }
  var acc0: mat4x4<f32>; // column i: row i of the block over columns 0..3
  var acc1: mat4x4<f32>; // ... over columns 4..7
  var acc2: mat4x4<f32>; // ... over columns 8..11 (NQ > 2)
  var acc3: mat4x4<f32>; // ... over columns 12..15 (NQ > 3)
  var by = 0;
  var bx = 0;
  let fold_b = i32(tu.fold_b);
  let n4 = i32(tu.n4);
  for (var k4 = 0u; k4 < tu.k4; k4++) {
    var am: mat4x4<f32>; // column i: row i of the block over the step's 4 k
    if (A_SHIFT != 0u) {
      av += vec4<u32>(1u);
      let hi = mat4x4<f32>(abuf[av.x], abuf[av.y], abuf[av.z], abuf[av.w]);
      am = zero_past_k(shifted_rows(lo, hi, shifts), k4);
      lo = hi;
    } else {
      am = a_quad_buf(rows, i32(k4));
    }
    mma(&acc0, thin_b(bx, by, me), am);
    mma(&acc1, thin_b(bx + 1, by, me), am);
    if (NQ > 2u) { mma(&acc2, thin_b(bx + 2, by, me), am); }
    if (NQ > 3u) { mma(&acc3, thin_b(bx + 3, by, me), am); }
    by += 4;
    let wrap = by >= fold_b;
    bx = select(bx, bx + n4, wrap);
    by = select(by, 0, wrap);
  }
  if (past_m) { return; }
  let blocks = array<mat4x4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var q = 0u; q < NQ; q++) {
    let add = tex_bias(4u * q);
    for (var i = 0u; i < 4u; i++) { tex_store(row + i, 4u * q, blocks[q][i] + add, 0u); }
  }
}
