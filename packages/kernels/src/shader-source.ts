// Shader text for every family in shaders/*.wgsl, keyed by file stem ('gemm', 'pool', 'common').
//
// One module serves all three environments; the choice is made by who transformed this file:
//  - Vite and vitest rewrite the literal `import.meta.glob(…, { query: '?raw', eager: true })` below
//    into an object of inlined strings at transform time. That covers vitest (no build needed) and
//    the Vite browser app; the dev server also reloads a shader when it is edited.
//  - Plain Node running dist/*.js after `tsc -b`: tsc leaves the call untouched, `import.meta.glob`
//    is undefined there and the call throws, so we read `../../../shaders/*.wgsl` relative to this
//    module's URL instead. src/ and dist/ sit at the same depth under packages/kernels, so the one
//    relative path holds for both (and the repo's shaders/ stays the single source of truth).
// Why not a generated `shader-sources.ts`: it is one more build step that vitest, tsc and Vite
// would each have to run first, and a stale copy fails silently. tests/kernels/shader-source.test.ts
// checks that both paths here (and a plain `node` import of dist/) return identical text.

export type ShaderSources = Readonly<Record<string, string>>;

const SHADER_DIR = '../../../shaders/';

/** Shader sources inlined by Vite / vitest, or undefined when this file was not transformed. */
export function shaderSourcesFromBundler(): ShaderSources | undefined {
  let files: Record<string, string>;
  try {
    // @ts-ignore: import.meta.glob exists only under Vite (typed by vite/client where present).
    files = import.meta.glob('../../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true });
  } catch {
    return undefined;
  }
  return byStem(Object.entries(files));
}

/** Shader sources read from the repository's shaders/ folder (Node only). */
export async function shaderSourcesFromFiles(): Promise<ShaderSources> {
  // Specifiers in variables keep bundlers from trying to package node:fs for a browser.
  const fsName = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
  const dir = new URL(SHADER_DIR, import.meta.url);
  const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.wgsl')).sort();
  const texts = await Promise.all(names.map((n) => fs.readFile(new URL(n, dir), 'utf8')));
  return byStem(names.map((n, i) => [n, texts[i]] as [string, string]));
}

/** The bundler's inlined sources when present, else the files. */
export async function loadShaderSources(): Promise<ShaderSources> {
  const inlined = shaderSourcesFromBundler();
  if (inlined && Object.keys(inlined).length > 0) return inlined;
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new Error(
      'filtro: no WGSL sources. In a browser, @filtro/kernels must be served through Vite so that ' +
        'import.meta.glob inlines shaders/*.wgsl; elsewhere pass `shaderSources` to createGpu().',
    );
  }
  return shaderSourcesFromFiles();
}

function byStem(entries: Array<[string, string]>): ShaderSources {
  const out: Record<string, string> = {};
  for (const [path, text] of entries) {
    const stem = path.slice(path.lastIndexOf('/') + 1).replace(/\.wgsl$/, '');
    out[stem] = text;
  }
  return out;
}
