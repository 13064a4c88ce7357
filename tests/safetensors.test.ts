import { describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  MAX_HEADER_BYTES,
  SafetensorsError,
  type SafetensorsInput,
} from '../packages/core/src/io/safetensors.js';

/** Build a file from a header (object or raw JSON text) and a data buffer, padding as the spec allows. */
function file(header: unknown, buffer: Uint8Array = new Uint8Array(0), rawHeader?: string): Uint8Array {
  const text = rawHeader ?? JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + buffer.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  out.set(buffer, 8 + n);
  return out;
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

const expectError = (bytes: Uint8Array, pattern: RegExp) => {
  expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
  expect(() => decodeSafetensors(bytes)).toThrow(pattern);
};

describe('safetensors round trip', () => {
  it('is bit-exact for F32 (NaN payloads, -0, infinities, subnormals), I32, U8 and empty tensors', () => {
    const special = new Uint32Array([
      0x7fc00000, // quiet NaN
      0x7fc12345, // NaN with a payload
      0xffa00001, // negative signalling-looking NaN with payload
      0x80000000, // -0
      0x00000000, // +0
      0x7f800000, // +Inf
      0xff800000, // -Inf
      0x00000001, // smallest subnormal
      0x3f800000, // 1
      0xc0490fdb, // -π
    ]);
    const f32 = new Float32Array(special.buffer);
    const i32 = Int32Array.from([0, 1, -1, 2147483647, -2147483648, 123456789]);
    const u8 = Uint8Array.from([0, 1, 127, 128, 255]);
    const tensors: SafetensorsInput[] = [
      { name: 'special', dtype: 'F32', shape: [2, 5], data: f32 },
      { name: 'ints', dtype: 'I32', shape: [3, 2], data: i32 },
      { name: 'bytes', dtype: 'U8', shape: [5], data: u8 },
      { name: 'empty', dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
      { name: 'empty_u8', dtype: 'U8', shape: [0], data: new Uint8Array(0) },
      { name: 'scalar', dtype: 'F32', shape: [], data: Float32Array.of(2.5) },
    ];
    const meta = { format: 'pt', note: 'ünïcödé ✓', empty: '' };
    const bytes = encodeSafetensors(tensors, meta);
    const { tensors: out, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual(meta);
    expect([...out.keys()].sort()).toEqual(tensors.map((t) => t.name).sort());

    const s = out.get('special')!;
    expect(s.dtype).toBe('F32');
    expect(s.shape).toEqual([2, 5]);
    expect(s.data).toBeInstanceOf(Float32Array);
    expect(Array.from(bits(s.data as Float32Array))).toEqual(Array.from(special));

    const i = out.get('ints')!;
    expect(i.dtype).toBe('I32');
    expect(i.data).toBeInstanceOf(Int32Array);
    expect(Array.from(i.data)).toEqual(Array.from(i32));

    const u = out.get('bytes')!;
    expect(u.dtype).toBe('U8');
    expect(u.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(u.data)).toEqual(Array.from(u8));

    expect(out.get('empty')).toEqual({ dtype: 'F32', shape: [0, 3], data: new Float32Array(0) });
    expect(out.get('empty_u8')).toEqual({ dtype: 'U8', shape: [0], data: new Uint8Array(0) });
    expect(out.get('scalar')!.shape).toEqual([]);
    expect(Array.from(out.get('scalar')!.data)).toEqual([2.5]);

    // Decoded data is copied out into its own aligned buffer.
    for (const t of out.values()) {
      expect(t.data.buffer).not.toBe(bytes.buffer);
      expect(t.data.byteOffset).toBe(0);
    }
    // Re-encoding gives the same bytes.
    const again = encodeSafetensors(
      [...out].map(([name, t]) => ({ name, ...t })),
      metadata,
    );
    expect(Array.from(again)).toEqual(Array.from(bytes));
  });

  it('encodes typed-array views (non-zero byteOffset) correctly', () => {
    const backing = new Float32Array([9, 9, 1, 2, 3, 9]);
    const view = backing.subarray(2, 5);
    const { tensors } = decodeSafetensors(encodeSafetensors([{ name: 'v', dtype: 'F32', shape: [3], data: view }]));
    expect(Array.from(tensors.get('v')!.data)).toEqual([1, 2, 3]);
  });

  it('decodes from a Uint8Array view at an odd offset into a larger buffer', () => {
    const bytes = encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: Float32Array.of(1.5, -2) }]);
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    const { tensors } = decodeSafetensors(big.subarray(3));
    expect(Array.from(tensors.get('w')!.data)).toEqual([1.5, -2]);
  });

  it('round-trips no tensors at all', () => {
    const { tensors, metadata } = decodeSafetensors(encodeSafetensors([]));
    expect(tensors.size).toBe(0);
    expect(metadata).toEqual({});
  });
});

describe('safetensors byte layout', () => {
  it('matches the spec on a hand-checked tiny file', () => {
    const bytes = encodeSafetensors(
      [
        { name: 'b', dtype: 'U8', shape: [2], data: Uint8Array.of(7, 8) },
        { name: 'a', dtype: 'F32', shape: [1], data: Float32Array.of(1) },
      ],
      { k: 'v' },
    );
    const json = '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}';
    expect(json.length).toBe(131);
    const n = 136; // padded with 5 spaces to a multiple of 8
    expect(bytes.length).toBe(8 + n + 6);
    // u64 little-endian header length
    expect(Array.from(bytes.subarray(0, 8))).toEqual([136, 0, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + n))).toBe(json + '     ');
    // F32 1.0 = 0x3f800000 little-endian, then the two bytes
    expect(Array.from(bytes.subarray(8 + n))).toEqual([0x00, 0x00, 0x80, 0x3f, 7, 8]);
  });

  it('orders by element size then name, and keeps integer-like names in layout order', () => {
    const bytes = encodeSafetensors([
      { name: 'z', dtype: 'U8', shape: [1], data: Uint8Array.of(1) },
      { name: '1', dtype: 'I32', shape: [1], data: Int32Array.of(-2) },
      { name: '0', dtype: 'U8', shape: [1], data: Uint8Array.of(3) },
    ]);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n)).trimEnd();
    expect(text).toBe('{"1":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},"0":{"dtype":"U8","shape":[1],"data_offsets":[4,5]},"z":{"dtype":"U8","shape":[1],"data_offsets":[5,6]}}');
    expect(Array.from(bytes.subarray(8 + n))).toEqual([0xfe, 0xff, 0xff, 0xff, 3, 1]);
  });

  it('accepts files from other writers: no metadata, unpadded or newline-padded headers, any key order', () => {
    const buf = new Uint8Array(8);
    new DataView(buf.buffer).setFloat32(0, 3, true);
    new DataView(buf.buffer).setInt32(4, -5, true);
    const raw = '{"y":{"dtype":"I32","shape":[1],"data_offsets":[4,8]},"x":{"shape":[1],"dtype":"F32","data_offsets":[0,4]}}\n';
    const { tensors } = decodeSafetensors(file(null, buf, raw));
    expect(Array.from(tensors.get('x')!.data)).toEqual([3]);
    expect(Array.from(tensors.get('y')!.data)).toEqual([-5]);
    // Header length not a multiple of 8 is still valid.
    const json = new TextEncoder().encode('{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}');
    const odd = new Uint8Array(8 + json.length + 1);
    new DataView(odd.buffer).setBigUint64(0, BigInt(json.length), true);
    odd.set(json, 8);
    odd[8 + json.length] = 42;
    expect(Array.from(decodeSafetensors(odd).tensors.get('x')!.data)).toEqual([42]);
  });

  it('rejects invalid tensors on encode', () => {
    const enc = (t: Partial<SafetensorsInput>) => () => encodeSafetensors([{ name: 't', dtype: 'F32', shape: [1], data: Float32Array.of(1), ...t } as SafetensorsInput]);
    expect(enc({ shape: [2] })).toThrow(/shape \[2\] has 2 elements but data has 1/);
    expect(enc({ dtype: 'I32' })).toThrow(/Int32Array/);
    expect(enc({ dtype: 'F16' as never })).toThrow(/unknown dtype/);
    expect(enc({ shape: [-1] })).toThrow(/non-negative integers/);
    expect(enc({ name: '__metadata__' })).toThrow(/reserved/);
    expect(enc({ name: '' })).toThrow(/non-empty/);
    expect(() =>
      encodeSafetensors([
        { name: 'd', dtype: 'U8', shape: [0], data: new Uint8Array(0) },
        { name: 'd', dtype: 'U8', shape: [0], data: new Uint8Array(0) },
      ]),
    ).toThrow(/duplicate/);
    expect(() => encodeSafetensors([], { k: 1 as unknown as string })).toThrow(/metadata value for key "k"/);
  });
});

describe('safetensors rejects hostile input', () => {
  const f4 = (n: number) => new Uint8Array(4 * n);
  const one = (entry: unknown, buffer = f4(1)) => file({ t: entry }, buffer);
  const ok = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };

  it('accepts the baseline used below', () => {
    expect(decodeSafetensors(one(ok)).tensors.get('t')!.shape).toEqual([1]);
  });

  it('file shorter than 8 bytes', () => {
    expectError(new Uint8Array(0), /shorter than the 8-byte header length/);
    expectError(new Uint8Array(7), /7 bytes, shorter than the 8-byte/);
  });

  it('header length beyond the end of the file', () => {
    const b = one(ok);
    new DataView(b.buffer).setBigUint64(0, BigInt(b.length), true);
    expectError(b, /header length \d+ goes beyond the end of the file/);
  });

  it('absurd header length (huge u64, or over 100 MB) without allocating it', () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
    expectError(b, /header length 18446744073709551615 is absurd/);
    new DataView(b.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    expectError(b, /is absurd \(limit 100000000 bytes\)/);
    new DataView(b.buffer).setBigUint64(0, 2n ** 32n, true);
    expectError(b, /absurd/);
  });

  it('invalid JSON', () => {
    expectError(file(null, new Uint8Array(0), '{"t": {"dtype": "F32",'), /not valid JSON/);
    expectError(file(null, new Uint8Array(0), '{}garbage'), /not valid JSON/);
  });

  it('header not valid UTF-8', () => {
    const b = file(null, new Uint8Array(0), '{"\u00e9":1}');
    const i = b.indexOf(0xc3);
    b[i] = 0xff;
    expectError(b, /not valid UTF-8/);
  });

  it('header not an object', () => {
    expectError(file(null, new Uint8Array(0), '[1, 2, 3]'), /does not start with '\{'/);
    expectError(file(null, new Uint8Array(0), 'null    '), /does not start with '\{'/);
    expectError(file(null, new Uint8Array(0), '  {}'), /does not start with '\{'/);
  });

  it('tensor entry not an object', () => {
    expectError(one(5), /tensor "t": entry must be an object/);
    expectError(one([1, 2]), /tensor "t": entry must be an object/);
  });

  it('unknown or unsupported dtype', () => {
    expectError(one({ ...ok, dtype: 'F99' }), /tensor "t": unknown or unsupported dtype "F99"/);
    expectError(one({ ...ok, dtype: 'F16', data_offsets: [0, 2] }, new Uint8Array(2)), /unsupported dtype "F16"/);
    expectError(one({ ...ok, dtype: 3 }), /dtype missing or not a string/);
    expectError(one({ shape: [1], data_offsets: [0, 4] }), /dtype missing/);
  });

  it('shape not an array of non-negative integers', () => {
    for (const shape of [[-1], [1.5], ['1'], [null], 4, null, [1e400], [2 ** 60]]) {
      expectError(one({ ...ok, shape }), /tensor "t": shape must be an array of non-negative integers/);
    }
    expectError(one({ dtype: 'F32', data_offsets: [0, 4] }), /shape must be an array/);
  });

  it('data_offsets malformed', () => {
    for (const data_offsets of [[0], [0, 4, 8], '0,4', null, [0, '4'], [-1, 3], [0.5, 4], [0, 4.5]]) {
      expectError(one({ ...ok, data_offsets }), /tensor "t": data_offsets must be/);
    }
    expectError(one({ ...ok, data_offsets: [4, 0] }), /begin after end/);
  });

  it('data_offsets out of range', () => {
    expectError(one({ ...ok, data_offsets: [0, 8] }), /tensor "t": data_offsets \[0, 8\] out of range \(the data buffer is 4 bytes\)/);
    expectError(one({ ...ok, data_offsets: [0, 2 ** 53 - 1] }), /out of range/);
    expectError(one({ ...ok, data_offsets: [0, 2 ** 53] }), /data_offsets must be two non-negative integers/);
  });

  it('data_offsets not matching shape × dtype size', () => {
    expectError(one({ ...ok, shape: [2] }, f4(1)), /span 4 bytes but shape \[2\] of F32 needs 8/);
    expectError(one({ ...ok, shape: [2 ** 26, 2 ** 26, 2 ** 26] }), /needs an impossible number of/);
    expectError(one({ dtype: 'I32', shape: [3], data_offsets: [0, 3] }, new Uint8Array(3)), /span 3 bytes but shape \[3\] of I32 needs 12/);
  });

  it('overlapping tensors', () => {
    const header = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    };
    expectError(file(header, f4(3)), /tensor "b" \[4, 12\] overlaps tensor "a" \[0, 8\]/);
    const same = {
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      b: { dtype: 'U8', shape: [4], data_offsets: [0, 4] },
    };
    expectError(file(same, f4(1)), /overlaps/);
  });

  it('holes in the data buffer (between, before, after the tensors)', () => {
    const between = {
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
    };
    expectError(file(between, f4(3)), /hole in the data buffer: bytes \[4, 8\) belong to no tensor/);
    expectError(one({ ...ok, data_offsets: [4, 8] }, f4(2)), /hole in the data buffer: bytes \[0, 4\)/);
    expectError(one(ok, f4(2)), /hole in the data buffer: bytes \[4, 8\) after the last tensor/);
    expectError(file({}, new Uint8Array(1)), /bytes \[0, 1\) after the last tensor/);
  });

  it('duplicate names in the header leave a hole and are rejected', () => {
    const raw =
      '{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expectError(file(null, f4(2), raw), /hole/);
  });

  it('metadata values not strings, or metadata not an object', () => {
    expectError(file({ __metadata__: { a: 'x', b: 1 } }), /metadata value for key "b" is not a string \(got number\)/);
    expectError(file({ __metadata__: { c: null } }), /key "c" is not a string \(got null\)/);
    expectError(file({ __metadata__: { d: ['x'] } }), /key "d" is not a string \(got an array\)/);
    expectError(file({ __metadata__: 'x' }), /"__metadata__" must be an object of strings/);
    expectError(file({ __metadata__: ['x'] }), /"__metadata__" must be an object of strings/);
  });

  it('a "__proto__" metadata key is kept as data, not as a prototype', () => {
    const { metadata } = decodeSafetensors(file(null, new Uint8Array(0), '{"__metadata__":{"__proto__":"x","y":"z"}}'));
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(metadata, '__proto__')?.value).toBe('x');
    expect(metadata.y).toBe('z');
  });

  it('does not allocate from a lying shape (huge shape, tiny file)', () => {
    const b = one({ dtype: 'F32', shape: [1_000_000_000], data_offsets: [0, 4_000_000_000] });
    expectError(b, /out of range/);
  });
});
