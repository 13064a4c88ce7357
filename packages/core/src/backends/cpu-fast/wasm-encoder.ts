// A minimal WebAssembly binary writer: exactly the instructions the CPU kernels in this folder emit
// (i32 arithmetic, loops, 128-bit SIMD loads, stores and f32x4 arithmetic), one exported memory and
// exported functions. Kernels are generated in code rather than shipped as a .wasm file, so no
// build step or binary asset exists: the same module works under Node, vitest and Vite.
//
// Reference: the WebAssembly core specification, binary format (sections 5.x) and the SIMD proposal.

export type Code = number[];

export const I32 = 0x7f;
export const V128 = 0x7b;

/** Unsigned LEB128. */
export function uleb(value: number): Code {
  const out: Code = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(value: number): Code {
  const out: Code = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const simd = (opcode: number): Code => [0xfd, ...uleb(opcode)];
/** memarg: alignment exponent and a constant byte offset. */
const memarg = (alignLog2: number, offset: number): Code => [...uleb(alignLog2), ...uleb(offset)];

/** Instructions; `local` indices count the parameters first, then the declared locals. */
export const op = {
  get: (local: number): Code => [0x20, ...uleb(local)],
  set: (local: number): Code => [0x21, ...uleb(local)],
  tee: (local: number): Code => [0x22, ...uleb(local)],
  i32: (value: number): Code => [0x41, ...sleb(value)],
  i32Add: [0x6a] as Code,
  i32Sub: [0x6b] as Code,
  i32Mul: [0x6c] as Code,
  i32LtU: [0x49] as Code,
  i32Ne: [0x47] as Code,
  select: [0x1b] as Code,
  /** `loop (empty block type)`: a branch to it jumps back to its start. */
  loop: [0x03, 0x40] as Code,
  end: [0x0b] as Code,
  /** Branch to the enclosing block `depth` levels out when the i32 on the stack is non-zero. */
  brIf: (depth: number): Code => [0x0d, ...uleb(depth)],
  v128Load: (offset = 0): Code => [...simd(0x00), ...memarg(4, offset)],
  v128Load32Splat: (offset = 0): Code => [...simd(0x09), ...memarg(2, offset)],
  v128Store: (offset = 0): Code => [...simd(0x0b), ...memarg(4, offset)],
  v128Zero: [...simd(0x0c), ...new Array<number>(16).fill(0)] as Code,
  f32x4Add: simd(0xe4),
  f32x4Mul: simd(0xe6),
};

export interface FunctionDef {
  name: string;
  params: number[];
  /** Declared locals by type, in order: [count, type] runs. */
  locals: Array<[count: number, type: number]>;
  body: Code;
}

const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
const section = (id: number, payload: Code): Code => [id, ...uleb(payload.length), ...payload];
const name = (s: string): Code => {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
};

/** A module exporting `memory` (initialPages pages of 64 KiB, growable) and the functions (no results). */
export function encodeModule(functions: FunctionDef[], initialPages = 1): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec([])]);
  const bodies = functions.map((f) => {
    const body = [...vec(f.locals.map(([count, type]) => [...uleb(count), type])), ...f.body, ...op.end];
    return [...uleb(body.length), ...body];
  });
  const exports = [
    [...name('memory'), 0x02, ...uleb(0)],
    ...functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]),
  ];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, ...uleb(initialPages)]])),
    ...section(7, vec(exports)),
    ...section(10, vec(bodies)),
  ]);
}
