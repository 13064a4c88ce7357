// bench.html: the CPU-vs-GPU, filtro-vs-peers benchmark page (src/bench/page.ts), or, with
// ?cold=<backend>, one cold-start frame (src/bench/cold.ts). This entry stays tiny so a cold-start
// frame loads nothing but the library it measures.
import type { BackendId } from './bench/types.ts';

const params = new URLSearchParams(location.search);
const cold = params.get('cold');
if (cold) {
  document.documentElement.classList.add('cold');
  void import('./bench/cold.ts').then((m) => m.runColdFrame(cold as BackendId, params.get('prime') === '1'));
} else {
  void import('./bench/page.ts').then((m) => m.startBenchPage());
}
