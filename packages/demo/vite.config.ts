// The demo pages, served and built by Vite straight from the workspace sources: @filtro/core and
// @filtro/kernels are aliased to their src/ (no `tsc` build needed), and the kernels' shaders come in
// through import.meta.glob('../../../shaders/*.wgsl', { query: '?raw' }), which reaches outside this
// package, so the dev server may read the whole repository (server.fs.allow).
// A new page: add `<name>.html` + `src/<name>.ts`, one line in `pages` below and a link in index.html.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const repoRoot = here('../../');

/** Every HTML entry point of the multi-page build. */
const pages = {
  index: here('./index.html'),
  conformance: here('./conformance.html'),
  train: here('./train.html'),
  bench: here('./bench.html'),
  reliability: here('./reliability.html'),
};

export default defineConfig({
  root: here('./'),
  // Relative asset URLs, so dist/ works from any path (a static host, file server, subfolder).
  base: './',
  resolve: {
    alias: {
      '@filtro/core': here('../core/src/index.ts'),
      '@filtro/kernels': here('../kernels/src/index.ts'),
    },
  },
  server: {
    host: '127.0.0.1',
    fs: { allow: [repoRoot] },
  },
  // tests/conformance/cases.ts and the core sources are TypeScript with NodeNext '.js' specifiers;
  // Vite resolves those to the '.ts' files. The npm dependencies are listed for pre-bundling up front,
  // so the dev server never discovers one mid-test and reloads the page.
  optimizeDeps: {
    noDiscovery: true,
    include: ['chart.js', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm', '@jax-js/jax', 'convnetjs'],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Plain sourcemaps are cheap and make stack traces from the built pages readable.
    sourcemap: true,
    reportCompressedSize: false,
    rollupOptions: { input: pages },
  },
});
