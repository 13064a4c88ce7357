// A kernel is one WGSL entry point plus the layout of its bindings (group 0, binding i = bindings[i]).
// Layouts are explicit rather than 'auto' so that a binding an entry happens not to read still
// accepts a buffer, and so that a WGSL/wrapper mismatch fails at pipeline creation.

export type BindingKind = 'read' | 'write' | 'uniform' | 'texture' | 'storage-texture';

/** What a dispatch binds in a non-uniform slot: a buffer, or a texture for the texture kinds. */
export type BindingResource = GPUBuffer | GPUTexture;

/** Whether a binding of this kind takes a texture (not a buffer). */
export function isTextureBinding(kind: BindingKind): boolean {
  return kind === 'texture' || kind === 'storage-texture';
}

export interface KernelDef {
  /** Shader family: the stem of shaders/<family>.wgsl. */
  readonly family: string;
  /** The @compute entry point in that file. */
  readonly entry: string;
  /**
   * 'read' = storage read, 'write' = storage read_write, 'uniform' = the Params struct,
   * 'texture' = texture_2d<f32> (unfilterable), 'storage-texture' = texture_storage_2d<rgba32float, write>.
   */
  readonly bindings: readonly BindingKind[];
}

/** Values for WGSL `override` declarations; booleans become 1/0. Part of the pipeline key. */
export type Constants = Readonly<Record<string, number | boolean>>;

export function defineKernel(family: string, entry: string, bindings: readonly BindingKind[]): KernelDef {
  if (bindings.filter((b) => b === 'uniform').length > 1) {
    throw new Error(`filtro: kernel ${family}/${entry} declares more than one uniform binding`);
  }
  return Object.freeze({ family, entry, bindings: Object.freeze([...bindings]) });
}
