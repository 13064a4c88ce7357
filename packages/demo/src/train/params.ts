// URL parameters of the train page, for people sharing a setup and for the headless tests:
//   ?dataset=mnist|shapes  &backend=webgpu|cpu  &batch=32  &optimizer=adam|sgd  &lr=0.004
//   &momentum=0.9  &schedule=constant|cosine  &steps=80 (steps per run, 0 = until paused)
//   &autostart=1  &seed=1  &test=500 (held-out images evaluated)  &evalEvery=100 (steps, 0 = only at the end)
//   &readEvery=10 (read the loss at least every N steps)  &vizEvery=2000 (ms between filter/feature-map refreshes)
//   &checkpointEvery=50 (steps between checkpoints in IndexedDB, 0 = none)

export type DatasetId = 'mnist' | 'shapes';
export type OptimizerKind = 'adam' | 'sgd';
export type Schedule = 'constant' | 'cosine';

export interface PageParams {
  dataset: DatasetId;
  backend: 'webgpu' | 'cpu' | null;
  batch: number;
  optimizer: OptimizerKind;
  lr: number | null;
  momentum: number;
  schedule: Schedule;
  steps: number;
  autostart: boolean;
  seed: number;
  test: number;
  evalEvery: number;
  readEvery: number;
  vizEvery: number;
  checkpointEvery: number;
}

export function readParams(search = location.search): PageParams {
  const q = new URLSearchParams(search);
  const num = (key: string, fallback: number, ok: (v: number) => boolean = (v) => v >= 0): number => {
    const raw = q.get(key);
    if (raw === null || raw === '') return fallback;
    const v = Number(raw);
    return Number.isFinite(v) && ok(v) ? v : fallback;
  };
  const pick = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const raw = q.get(key);
    return raw !== null && (allowed as readonly string[]).includes(raw) ? (raw as T) : fallback;
  };
  const backend = q.get('backend');
  const lr = q.get('lr');
  return {
    dataset: pick('dataset', ['mnist', 'shapes'] as const, 'mnist'),
    backend: backend === 'webgpu' || backend === 'cpu' ? backend : null,
    batch: Math.round(num('batch', 32, (v) => v >= 1 && v <= 1024)),
    optimizer: pick('optimizer', ['adam', 'sgd'] as const, 'adam'),
    lr: lr !== null && Number(lr) > 0 ? Number(lr) : null,
    momentum: num('momentum', 0.9, (v) => v >= 0 && v < 1),
    schedule: pick('schedule', ['constant', 'cosine'] as const, 'constant'),
    steps: Math.round(num('steps', 0)),
    autostart: q.get('autostart') === '1' || q.get('autostart') === 'true',
    seed: Math.round(num('seed', 1)),
    test: Math.round(num('test', 500, (v) => v >= 1)),
    evalEvery: Math.round(num('evalEvery', 200)),
    readEvery: Math.round(num('readEvery', 10, (v) => v >= 1)),
    vizEvery: num('vizEvery', 2000),
    checkpointEvery: Math.round(num('checkpointEvery', 50)),
  };
}
