// elementwise.wgsl: pointwise maps, f32. Lowered to by: relu, sigmoid, tanh, neg, exp, log, sqrt,
// abs, square, scale, copy (unary); add/sub/mul/div/max/min with numpy broadcasting (binary);
// broadcastTo; relu backward; fill.
//
// Bindings (group 0):
//   unary:         0 x read            1 y rw              2 u UnaryParams
//   relu_backward: 0 dy read  1 x read 2 dx rw             3 u UnaryParams (n only)
//   binary:        0 a read   1 b read 2 y rw              3 u BinaryParams
//   broadcast_to:  0 a read            1 y rw              2 u BinaryParams (b strides unused)
//   fill:          0 y rw                                  1 u UnaryParams (n, alpha)
// UnaryParams: n, alpha, beta. Only SCALE uses alpha, beta: y = alpha·x + beta.
// BinaryParams: n, rank (≤ 8), the output shape and each input's element strides per axis, as
//   array<vec4<u32>, 2> (axis i at [i / 4][i % 4]); a broadcast axis has stride 0. Axes are
//   right-aligned as in numpy; unused leading axes have size 1.
// Overrides: OP (see the constants below; the wrapper passes them by name), BROADCAST (bool: false
//   when both inputs have the output's shape, so element i reads a[i] and b[i]), WG.
// Grid: one thread per output element, linear.

struct UnaryParams { n: u32, alpha: f32, beta: f32, _pad: u32 }
struct BinaryParams {
  n: u32, rank: u32, _pad0: u32, _pad1: u32,   // rank ≤ 8
  shape: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
}

override WG: u32 = 64u;
override OP: u32 = 0u;
override BROADCAST: bool = true;

// Unary OP codes (keep in sync with UNARY_OPS in packages/kernels/src/elementwise.ts).
const U_COPY = 0u; const U_RELU = 1u; const U_SIGMOID = 2u; const U_TANH = 3u; const U_NEG = 4u;
const U_EXP = 5u; const U_LOG = 6u; const U_SQRT = 7u; const U_ABS = 8u; const U_SQUARE = 9u;
const U_SCALE = 10u;
// Binary OP codes (BINARY_OPS).
const B_ADD = 0u; const B_SUB = 1u; const B_MUL = 2u; const B_DIV = 3u; const B_MAX = 4u;
const B_MIN = 5u;

fn unary_op(x: f32, alpha: f32, beta: f32) -> f32 {
  switch OP {
    case U_RELU: { return max(x, 0.0); }
    case U_SIGMOID: {
      // Stable on both sides: exp of a non-positive number only.
      let e = exp(-abs(x));
      return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
    }
    case U_TANH: { return tanh(clamp(x, -15.0, 15.0)); }   // tanh(±15) is ±1 in f32
    case U_NEG: { return -x; }
    case U_EXP: { return exp(x); }
    case U_LOG: { return log(x); }
    case U_SQRT: { return sqrt(x); }
    case U_ABS: { return abs(x); }
    case U_SQUARE: { return x * x; }
    case U_SCALE: { return alpha * x + beta; }
    default: { return x; }
  }
}

fn binary_op(a: f32, b: f32) -> f32 {
  switch OP {
    case B_SUB: { return a - b; }
    case B_MUL: { return a * b; }
    case B_DIV: { return a / b; }
    case B_MAX: { return max(a, b); }
    case B_MIN: { return min(a, b); }
    default: { return a + b; }
  }
}

fn thread_index(wid: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
  return linear_workgroup(wid, nwg) * WG + li;
}

@group(0) @binding(0) var<storage, read> un_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> un_y: array<f32>;
@group(0) @binding(2) var<uniform> un_u: UnaryParams;

@compute @workgroup_size(WG)
fn unary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) li: u32) {
  let i = thread_index(wid, nwg, li);
  if (i >= un_u.n) { return; }
  un_y[i] = unary_op(un_x[i], un_u.alpha, un_u.beta);
}

@group(0) @binding(0) var<storage, read> rb_dy: array<f32>;
@group(0) @binding(1) var<storage, read> rb_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> rb_dx: array<f32>;
@group(0) @binding(3) var<uniform> rb_u: UnaryParams;

@compute @workgroup_size(WG)
fn relu_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) li: u32) {
  let i = thread_index(wid, nwg, li);
  if (i >= rb_u.n) { return; }
  rb_dx[i] = select(0.0, rb_dy[i], rb_x[i] > 0.0);
}

@group(0) @binding(0) var<storage, read> bi_a: array<f32>;
@group(0) @binding(1) var<storage, read> bi_b: array<f32>;
@group(0) @binding(2) var<storage, read_write> bi_y: array<f32>;
@group(0) @binding(3) var<uniform> bi_u: BinaryParams;

// Element offsets into two inputs for output index i (row-major over the output shape).
fn broadcast_offsets(i: u32, p: BinaryParams) -> vec2<u32> {
  var rem = i;
  var offs = vec2<u32>(0u, 0u);
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let ax = u32(d);
    let size = p.shape[ax / 4u][ax % 4u];
    let coord = rem % size;
    rem /= size;
    offs += coord * vec2<u32>(p.a_strides[ax / 4u][ax % 4u], p.b_strides[ax / 4u][ax % 4u]);
  }
  return offs;
}

@compute @workgroup_size(WG)
fn binary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) li: u32) {
  let i = thread_index(wid, nwg, li);
  let p = bi_u;
  if (i >= p.n) { return; }
  var offs = vec2<u32>(i, i);
  if (BROADCAST) { offs = broadcast_offsets(i, p); }
  bi_y[i] = binary_op(bi_a[offs.x], bi_b[offs.y]);
}

@group(0) @binding(0) var<storage, read> bt_a: array<f32>;
@group(0) @binding(1) var<storage, read_write> bt_y: array<f32>;
@group(0) @binding(2) var<uniform> bt_u: BinaryParams;

@compute @workgroup_size(WG)
fn broadcast_to(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) li: u32) {
  let i = thread_index(wid, nwg, li);
  let p = bt_u;
  if (i >= p.n) { return; }
  bt_y[i] = bt_a[broadcast_offsets(i, p).x];
}

@group(0) @binding(0) var<storage, read_write> fi_y: array<f32>;
@group(0) @binding(1) var<uniform> fi_u: UnaryParams;

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let i = thread_index(wid, nwg, li);
  if (i >= fi_u.n) { return; }
  fi_y[i] = fi_u.alpha;
}

// relu_backward_v4: relu_backward on vec4s; n counts vec4s here (the wrapper uses it when the
// element count and the buffer sizes are multiples of 4 and 16 bytes).
@group(0) @binding(0) var<storage, read> rb4_dy: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> rb4_x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> rb4_dx: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn relu_backward_v4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) li: u32) {
  let i = thread_index(wid, nwg, li);
  if (i >= rb_u.n) { return; }
  rb4_dx[i] = select(vec4<f32>(0.0), rb4_dy[i], rb4_x[i] > vec4<f32>(0.0));
}
