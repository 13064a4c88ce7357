// Packs a WGSL uniform struct of 4-byte scalars (u32, i32, f32) in declaration order, padded to
// 16 bytes. Each wrapper lists its fields in the same order as the Params struct in its WGSL file.

export class UniformWriter {
  private readonly view: DataView;
  private words = 0;

  constructor(capacityWords = 64) {
    this.view = new DataView(new ArrayBuffer(capacityWords * 4));
  }

  u32(...values: number[]): this {
    for (const v of values) {
      if (!(v >= 0 && v <= 0xffffffff && Number.isInteger(v))) throw new Error(`filtro: bad u32 uniform ${v}`);
      this.view.setUint32(this.next(), v, true);
    }
    return this;
  }

  i32(...values: number[]): this {
    for (const v of values) this.view.setInt32(this.next(), v, true);
    return this;
  }

  f32(...values: number[]): this {
    for (const v of values) this.view.setFloat32(this.next(), v, true);
    return this;
  }

  /** Skips to the next 16-byte boundary (a vec4 or array member starts there). */
  align16(): this {
    while (this.words % 4 !== 0) this.u32(0);
    return this;
  }

  /** The packed bytes, padded to a multiple of 16. */
  bytes(): Uint8Array {
    this.align16();
    return new Uint8Array(this.view.buffer, 0, this.words * 4);
  }

  private next(): number {
    if (this.words * 4 >= this.view.byteLength) throw new Error('filtro: uniform struct too large');
    return 4 * this.words++;
  }
}

export function uniforms(): UniformWriter {
  return new UniformWriter();
}
