// The train page: pick a dataset, edit the network, train it on WebGPU (or the CPU), and watch the
// curves, the filters, the feature maps, the test predictions and a confusion matrix fill in; draw a
// digit and see what the network thinks. The modules under ./train/ do the parts; this file wires
// them to the page and publishes the state on window.__train for headless tests (tests/e2e).
// Checkpoints go to IndexedDB every few steps and when a run ends; on load the page offers to resume.
// URL parameters: see ./train/params.ts (e.g. ?steps=80&batch=32&lr=0.004&schedule=cosine&autostart=1).
import * as f from '@filtro/core';
import { ArchitectureEditor } from './train/architecture-editor.js';
import { buildModel, specFromLayer } from './train/architecture.js';
import type { LayerSpec, Validation } from './train/architecture.js';
import { TrainingCharts } from './train/charts.js';
import { deleteCheckpoint, readCheckpoint, storeError } from './train/checkpoint-store.js';
import type { CheckpointMeta, CheckpointStoreError, StoredCheckpoint } from './train/checkpoint-store.js';
import { Checkpointer } from './train/checkpointer.js';
import { loadMnistDataset, shapesDataset, slice } from './train/data.js';
import type { Dataset } from './train/data.js';
import { DrawPad } from './train/draw-pad.js';
import { byId, el, errorText, formatBytes, formatCount, nextFrame } from './train/dom.js';
import { fingerprint } from './train/fingerprint.js';
import type { Fingerprint } from './train/fingerprint.js';
import { Trainer } from './train/loop.js';
import type { Hyper, ReadOut } from './train/loop.js';
import { readParams } from './train/params.js';
import type { DatasetId } from './train/params.js';
import { ResumeOffer } from './train/resume-offer.js';
import { drawConfusion, drawFeatureMaps, drawFilters, drawPredictionGrid, drawProbabilities, featureMaps, floatImageCanvas, imageCanvas } from './train/visualize.js';
import type { Evaluation, GridMode } from './train/visualize.js';

/** What the page shows, as data: read by tests/e2e/train.e2e.test.ts. */
export interface TrainState {
  ready: boolean;
  dataset: DatasetId;
  backend: string;
  adapter: string;
  webgpuAvailable: boolean;
  webgpuError: string | null;
  step: number;
  epoch: number;
  loss: number | null;
  batchAccuracy: number | null;
  testAccuracy: number | null;
  testCount: number;
  evaluations: number;
  running: boolean;
  /** A run with a step target reached it, and its evaluation and pictures are on screen. */
  done: boolean;
  msPerStep: number | null;
  imagesPerSecond: number | null;
  stats: f.Stats | null;
  architectureValid: boolean;
  architectureMessage: string | null;
  startDisabled: boolean;
  draw: { prediction: number | null; probabilities: number[] | null; updates: number };
  saved: { name: string; bytes: number } | null;
  loaded: number;
  checkpoint: {
    /** Steps between checkpoints (0: none). */
    every: number;
    /** The step of the checkpoint in the store, as far as this page knows (saved or resumed), or null. */
    savedStep: number | null;
    saves: number;
    /** The quiet line under the status: "checkpoint saved at step S", or why not. */
    message: string;
    failed: boolean;
    /** The resume offer on screen: the stored checkpoint's step and dataset. */
    offer: { step: number; dataset: DatasetId } | null;
    /** The step training was resumed from, or null. */
    resumedStep: number | null;
  };
  error: string | null;
  timings: { datasetMs: number; firstStepMs: number | null; trainMs: number; lastEvalMs: number | null; vizMs: number | null };
}

declare global {
  interface Window {
    __train?: TrainState;
    /** For tests/e2e/checkpoint.e2e.test.ts: reads state back, changes nothing. */
    __trainDebug?: { fingerprint(): Promise<Fingerprint | null> };
  }
}

const params = readParams();
const state: TrainState = {
  ready: false,
  dataset: params.dataset,
  backend: 'cpu',
  adapter: '',
  webgpuAvailable: false,
  webgpuError: null,
  step: 0,
  epoch: 0,
  loss: null,
  batchAccuracy: null,
  testAccuracy: null,
  testCount: 0,
  evaluations: 0,
  running: false,
  done: false,
  msPerStep: null,
  imagesPerSecond: null,
  stats: null,
  architectureValid: false,
  architectureMessage: null,
  startDisabled: true,
  draw: { prediction: null, probabilities: null, updates: 0 },
  saved: null,
  loaded: 0,
  checkpoint: { every: params.checkpointEvery, savedStep: null, saves: 0, message: '', failed: false, offer: null, resumedStep: null },
  error: null,
  timings: { datasetMs: 0, firstStepMs: null, trainMs: 0, lastEvalMs: null, vizMs: null },
};
window.__train = state;

// --- elements --------------------------------------------------------------------------------------

const ui = {
  banner: byId('banner'),
  adapter: byId('adapter'),
  backendWebgpu: byId<HTMLInputElement>('backend-webgpu'),
  backendCpu: byId<HTMLInputElement>('backend-cpu'),
  dataset: byId<HTMLSelectElement>('dataset'),
  datasetInfo: byId('dataset-info'),
  samples: byId('samples'),
  batch: byId<HTMLInputElement>('batch'),
  optimizer: byId<HTMLSelectElement>('optimizer'),
  lr: byId<HTMLInputElement>('lr'),
  momentum: byId<HTMLInputElement>('momentum'),
  momentumLabel: byId('momentum-label'),
  schedule: byId<HTMLSelectElement>('schedule'),
  steps: byId<HTMLInputElement>('steps'),
  checkpointEvery: byId<HTMLInputElement>('checkpoint-every'),
  checkpointStatus: byId('checkpoint-status'),
  start: byId<HTMLButtonElement>('start'),
  pause: byId<HTMLButtonElement>('pause'),
  reset: byId<HTMLButtonElement>('reset'),
  save: byId<HTMLButtonElement>('save'),
  load: byId<HTMLInputElement>('load'),
  loadLabel: byId('load-label'),
  status: byId('status'),
  progress: byId('progress-bar'),
  metrics: byId('metrics'),
  filters: byId('filters'),
  filtersNote: byId('filters-note'),
  fmapImage: byId('fmap-image'),
  fmapCaption: byId('fmap-caption'),
  fmaps: byId('fmaps'),
  predictions: byId('predictions'),
  confusion: byId('confusion'),
  evalNote: byId('eval-note'),
  drawArea: byId('draw-area'),
  drawNote: byId('draw-note'),
  drawPrediction: byId('draw-prediction'),
  drawProbs: byId('draw-probs'),
  drawPreview: byId<HTMLCanvasElement>('draw-preview'),
};

// --- page state ------------------------------------------------------------------------------------

const datasets = new Map<DatasetId, Promise<Dataset>>();
let dataset: Dataset | null = null;
let validation: Validation | null = null;
/** The editor differs from the model being trained: Start builds a new one. */
let architectureChanged = false;
let lastEval: Evaluation | null = null;
let selected = 0;
let gridMode: GridMode = 'first';
let lastViz = 0;
let busy = false; // switching dataset/backend, loading a file: no Start meanwhile
let suppressRunEnd = false;
let trainStarted = 0;

const charts = new TrainingCharts(byId<HTMLCanvasElement>('loss-chart'), byId<HTMLCanvasElement>('accuracy-chart'));
const editor = new ArchitectureEditor(byId('architecture'), (v) => {
  validation = v;
  if (dataset) architectureChanged = true;
  state.architectureValid = v.ok;
  state.architectureMessage = v.message ?? null;
  updateControls();
});

const trainer = new Trainer(
  {
    onRead: (r) => onRead(r),
    between: (step) => between(step),
    onRunEnd: (reason, error) => onRunEnd(reason, error),
    // A lost GPU device: say so, and where training goes on (a new device or the CPU).
    onDeviceEvent: (notice) => {
      showBackend();
      showBanner(notice);
      setStatus(notice, 'busy');
    },
    onCompileProgress: (done, total) => setStatus(`compiling GPU kernels: ${done} of ${total}…`, 'busy'),
  },
  params.seed,
);
trainer.readEvery = params.readEvery;
const checkpointer = new Checkpointer(trainer, {
  onSaved: (meta) => onCheckpointSaved(meta),
  onFailed: (error) => onCheckpointFailed(error),
});
checkpointer.every = params.checkpointEvery;
const offer = new ResumeOffer({ resume: () => void resumeOffered(), discard: () => void discardOffered() });

// --- status, metrics, controls -----------------------------------------------------------------------

function setStatus(text: string, kind: 'info' | 'busy' | 'ok' | 'error' = 'info'): void {
  ui.status.textContent = text;
  ui.status.className = `t-status ${kind}`;
}

function showBanner(html: string | null, kind: 'warn' | 'error' = 'warn'): void {
  ui.banner.hidden = !html;
  ui.banner.className = `t-banner ${kind}`;
  ui.banner.textContent = html ?? '';
}

function metric(label: string, value: string, hint = '', id = ''): HTMLElement {
  return el('div', { class: 'metric', title: hint, 'data-metric': id || label }, el('div', { class: 'metric-value', text: value }), el('div', { class: 'metric-label', text: label }));
}

function renderMetrics(): void {
  const s = f.stats();
  state.stats = s;
  const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
  const gpu = state.backend === 'webgpu';
  ui.metrics.replaceChildren(
    metric('step', formatCount(state.step), 'optimizer steps so far', 'step'),
    metric('epoch', (trainer.epoch + trainer.epochProgress).toFixed(2), 'passes over the training set', 'epoch'),
    metric('loss', state.loss === null ? '–' : state.loss.toFixed(3), 'cross-entropy of the last read-back batch', 'loss'),
    metric('train acc.', pct(state.batchAccuracy), 'last read-back batch', 'train-accuracy'),
    metric('test acc.', pct(state.testAccuracy), `held-out test images (${state.testCount || params.test})`, 'test-accuracy'),
    metric('images/s', state.imagesPerSecond === null ? '–' : formatCount(Math.round(state.imagesPerSecond)), 'training throughput (evaluation time excluded)', 'images-per-second'),
    metric('ms/step', state.msPerStep === null ? '–' : state.msPerStep.toFixed(state.msPerStep < 10 ? 2 : 0), 'forward + backward + update of one batch', 'ms-per-step'),
    metric('learning rate', trainer.lastLr ? (trainer.lastLr < 1e-3 ? trainer.lastLr.toExponential(1) : trainer.lastLr.toPrecision(2)) : '–', 'current learning rate (after the schedule)', 'lr'),
    metric(gpu ? 'GPU submits' : 'plans run', formatCount(s.submits), 'command submissions: one per training step', 'submits'),
    metric(gpu ? 'dispatches' : 'kernels run', formatCount(s.dispatches), 'kernels run so far', 'dispatches'),
    metric(gpu ? 'GPU memory live' : 'memory live', formatBytes(s.bytesLive), 'bytes held by live tensors: weights, optimizer state, data in flight', 'bytes-live'),
    metric('readbacks', formatCount(s.readbacks), 'device → host copies (only what is on screen)', 'readbacks'),
  );
  const target = trainer.target;
  const first = Number.isFinite(target) ? target - (trainer.hyper.steps || 0) : 0;
  ui.progress.style.width = Number.isFinite(target) && target > first ? `${Math.min(100, ((state.step - first) / (target - first)) * 100)}%` : state.running ? '100%' : '0%';
  ui.progress.classList.toggle('indeterminate', state.running && !Number.isFinite(target));
}

function updateControls(): void {
  const running = trainer.running;
  const canStart = !running && !busy && !!dataset && !!validation?.ok;
  ui.start.disabled = !canStart;
  ui.start.textContent = trainer.model && trainer.step > 0 && !architectureChanged ? 'Continue' : 'Start';
  ui.pause.disabled = !running;
  ui.reset.disabled = busy || !dataset;
  ui.save.disabled = running || busy || !trainer.model;
  ui.loadLabel.classList.toggle('disabled', running || busy);
  ui.load.disabled = running || busy;
  ui.dataset.disabled = running || busy;
  ui.backendWebgpu.disabled = running || busy || !state.webgpuAvailable;
  ui.backendCpu.disabled = running || busy;
  offer.setDisabled(busy);
  editor.setDisabled(running);
  ui.momentumLabel.hidden = ui.optimizer.value !== 'sgd';
  state.startDisabled = ui.start.disabled;
  state.running = running;
}

function readHyper(): void {
  const num = (input: HTMLInputElement, fallback: number) => {
    const v = Number(input.value);
    return Number.isFinite(v) && input.value !== '' ? v : fallback;
  };
  trainer.hyper = {
    batch: Math.max(1, Math.min(1024, Math.round(num(ui.batch, 32)))),
    optimizer: ui.optimizer.value === 'sgd' ? 'sgd' : 'adam',
    lr: Math.max(1e-6, num(ui.lr, 0.002)),
    momentum: Math.max(0, Math.min(0.999, num(ui.momentum, 0.9))),
    schedule: ui.schedule.value === 'cosine' ? 'cosine' : 'constant',
    steps: Math.max(0, Math.round(num(ui.steps, 0))),
  };
}

for (const input of [ui.batch, ui.optimizer, ui.lr, ui.momentum, ui.schedule, ui.steps]) {
  input.addEventListener('input', () => {
    readHyper();
    updateControls();
  });
}

// --- backend ------------------------------------------------------------------------------------------

function showBackend(): void {
  const info = f.backendInfo();
  state.backend = info.name;
  state.adapter = info.description;
  ui.adapter.textContent = info.description;
  ui.adapter.className = `t-adapter ${info.name}`;
  ui.backendWebgpu.checked = info.name === 'webgpu';
  ui.backendCpu.checked = info.name === 'cpu';
}

/** Turns WebGPU on, or explains in the banner why not and stays on the CPU. */
async function tryWebgpu(): Promise<boolean> {
  if (!('gpu' in navigator)) {
    state.webgpuError = 'navigator.gpu is missing';
    showBanner('WebGPU is not available in this browser (navigator.gpu is missing), so training runs on the CPU backend: it works, only slower. Chrome, Edge and Safari 26+ have WebGPU; on Linux Chrome needs it enabled (chrome://flags/#enable-unsafe-webgpu).');
    return false;
  }
  try {
    await f.setBackend('webgpu');
    state.webgpuAvailable = true;
    return true;
  } catch (e) {
    state.webgpuError = errorText(e);
    showBanner(`WebGPU could not start here (${errorText(e)}), so training runs on the CPU backend: it works, only slower.`);
    return false;
  }
}

async function switchBackend(name: 'webgpu' | 'cpu'): Promise<void> {
  if (name === f.getBackend()) return;
  await whileBusy(async () => {
    setStatus(`moving the model to ${name}…`, 'busy');
    const bytes = trainer.model ? await trainer.gpu.run(() => trainer.model!.save()) : null;
    if (name === 'webgpu') {
      if (!(await tryWebgpu())) await f.setBackend('cpu');
    } else {
      await f.setBackend('cpu');
    }
    showBackend();
    if (bytes && dataset) {
      // Same weights, now on the other backend; the optimizer's state starts over.
      trainer.setModel(f.nn.load(bytes), dataset, true);
    }
    architectureChanged = false;
    setStatus(`on ${f.backendInfo().description}`, 'ok');
    await refreshViz();
  });
}

for (const input of [ui.backendWebgpu, ui.backendCpu]) {
  input.addEventListener('change', () => {
    if (input.checked) void switchBackend(input.value as 'webgpu' | 'cpu');
  });
}

// --- dataset & model -------------------------------------------------------------------------------

function getDataset(id: DatasetId): Promise<Dataset> {
  let d = datasets.get(id);
  if (!d) {
    d = id === 'mnist' ? loadMnistDataset() : Promise.resolve().then(() => shapesDataset());
    datasets.set(id, d);
    d.catch(() => datasets.delete(id));
  }
  return d;
}

function showDataset(d: Dataset): void {
  ui.dataset.value = d.id;
  state.dataset = d.id;
  const [h, w, c] = d.inputShape;
  ui.datasetInfo.textContent = `${formatCount(d.train.count)} training and ${formatCount(d.test.count)} test images of ${w}×${h}×${c}, ` +
    `${d.classNames.length} classes${d.id === 'shapes' ? ' (shape × colour), generated from a seed' : ''}. ` +
    `Accuracy is measured on the first ${Math.min(params.test, d.test.count)} test images, which training never sees.`;
  const samples: HTMLElement[] = [];
  for (let i = 0; i < 16; i++) samples.push(el('figure', { class: 'sample' }, imageCanvas(d, d.train, i, 'px'), el('figcaption', { text: d.id === 'mnist' ? d.classNames[d.train.labels[i]] : '' })));
  ui.samples.replaceChildren(...samples);
  ui.drawArea.hidden = d.id !== 'mnist';
  ui.drawNote.hidden = d.id === 'mnist';
}

/** A fresh model from the editor's rows (same seed: the same start every time). */
function newModel(): void {
  if (!dataset || !validation?.ok) return;
  trainer.setModel(buildModel(editor.getSpecs(), dataset.inputShape, params.seed), dataset);
  architectureChanged = false;
  clearResults();
}

function clearResults(): void {
  charts.clear();
  lastEval = null;
  Object.assign(state, { step: 0, epoch: 0, loss: null, batchAccuracy: null, testAccuracy: null, testCount: 0, msPerStep: null, imagesPerSecond: null, done: false });
  ui.predictions.replaceChildren(el('p', { class: 'muted', text: 'Train, then the held-out test images appear here with the network’s guesses.' }));
  ui.confusion.replaceChildren(el('p', { class: 'muted', text: 'Filled in after the first evaluation.' }));
  ui.evalNote.textContent = '';
  selected = 0;
}

async function useDataset(id: DatasetId, specs?: LayerSpec[]): Promise<void> {
  const t0 = performance.now();
  setStatus(id === 'mnist' ? 'loading MNIST…' : 'generating the shapes…', 'busy');
  const d = await getDataset(id);
  state.timings.datasetMs = performance.now() - t0;
  dataset = d;
  showDataset(d);
  editor.setInput(d.inputShape, d.classNames.length);
  editor.setSpecs(specs ?? d.defaultLayers);
  if (params.lr === null || id !== params.dataset) ui.lr.value = String(d.defaultLr);
  readHyper();
  newModel();
}

ui.dataset.addEventListener('change', () =>
  whileBusy(async () => {
    await useDataset(ui.dataset.value as DatasetId);
    setStatus('ready: press Start', 'info');
    await refreshViz();
  }),
);

// --- training --------------------------------------------------------------------------------------

function onRead(r: ReadOut): void {
  if (state.timings.firstStepMs === null) state.timings.firstStepMs = performance.now() - trainStarted;
  Object.assign(state, { step: r.step, epoch: r.epoch, loss: r.loss, batchAccuracy: r.batchAccuracy, msPerStep: r.msPerStep, imagesPerSecond: r.imagesPerSecond });
  charts.addTrain(r.step, r.loss, r.batchAccuracy, r.stepsSinceLast);
  const target = Number.isFinite(trainer.target) ? ` of ${trainer.target}` : '';
  setStatus(`training on ${state.backend}: step ${r.step}${target}, loss ${r.loss.toFixed(3)}`, 'busy');
  renderMetrics();
}

async function between(step: number): Promise<void> {
  state.step = step;
  checkpointer.onStep(step);
  if (params.evalEvery > 0 && step % params.evalEvery === 0 && step < trainer.target) await evaluateAndShow();
  if (params.vizEvery > 0 && performance.now() - lastViz >= params.vizEvery) await refreshViz();
}

async function onRunEnd(reason: 'target' | 'paused' | 'error', error?: unknown): Promise<void> {
  state.timings.trainMs += performance.now() - trainStarted;
  state.step = trainer.step;
  state.running = false;
  updateControls();
  if (reason === 'error') {
    fail(error);
    return;
  }
  await checkpointer.save();
  if (suppressRunEnd) return;
  setStatus(`${reason === 'target' ? 'finished' : 'paused'} at step ${trainer.step}: evaluating ${Math.min(params.test, dataset?.test.count ?? 0)} test images…`, 'busy');
  await evaluateAndShow();
  await refreshViz();
  await predictDrawing();
  const acc = state.testAccuracy === null ? '' : `: test accuracy ${(state.testAccuracy * 100).toFixed(1)}%`;
  setStatus(`${reason === 'target' ? 'Finished' : 'Paused'} at step ${trainer.step}${acc}`, 'ok');
  renderMetrics();
  if (reason === 'target') state.done = true;
}

function start(): void {
  if (trainer.running || busy || !validation?.ok) return;
  readHyper();
  if (!trainer.model || architectureChanged) newModel();
  state.done = false;
  state.error = null;
  trainStarted = performance.now();
  trainer.start();
  state.running = true;
  setStatus(`training on ${state.backend}: compiling kernels and running the first step…`, 'busy');
  updateControls();
  renderMetrics();
}

/** Stops the loop without the end-of-run evaluation (before replacing the model). */
async function pauseQuietly(): Promise<void> {
  if (!trainer.running) return;
  suppressRunEnd = true;
  try {
    await trainer.pause();
  } finally {
    suppressRunEnd = false;
  }
}

ui.start.addEventListener('click', start);
ui.pause.addEventListener('click', () => {
  ui.pause.disabled = true;
  setStatus('pausing after this step…', 'busy');
  void trainer.pause();
});
ui.reset.addEventListener('click', () =>
  whileBusy(async () => {
    if (validation?.ok) newModel();
    setStatus('reset: a new, untrained network (same seed). Press Start.', 'info');
    await refreshViz();
  }),
);

// --- evaluation and pictures ---------------------------------------------------------------------------

async function evaluateAndShow(): Promise<void> {
  if (!trainer.model || !dataset) return;
  const ev = await trainer.evaluate(params.test);
  lastEval = ev;
  state.testAccuracy = ev.accuracy;
  state.testCount = ev.count;
  state.evaluations++;
  state.timings.lastEvalMs = ev.ms;
  charts.addTest(ev.step, ev.accuracy);
  ui.evalNote.textContent = `step ${ev.step}: ${(ev.accuracy * 100).toFixed(1)}% of ${ev.count} held-out images right (evaluated in ${(ev.ms / 1000).toFixed(1)} s)`;
  showPredictions();
  drawConfusion(ui.confusion, dataset, ev);
  renderMetrics();
}

function showPredictions(): void {
  if (!lastEval || !dataset) return;
  drawPredictionGrid(ui.predictions, dataset, lastEval, gridMode, selected, (i) => {
    selected = i;
    showPredictions();
    void refreshViz();
  });
}

for (const input of document.querySelectorAll<HTMLInputElement>('input[name="grid-mode"]')) {
  input.addEventListener('change', () => {
    if (!input.checked) return;
    gridMode = input.value as GridMode;
    showPredictions();
  });
}

/** Filters of the first conv layer, and the feature maps of the selected test image. */
async function refreshViz(): Promise<void> {
  const model = trainer.model;
  const d = dataset;
  if (!model || !d) return;
  lastViz = performance.now();
  const t0 = performance.now();
  const index = Math.min(selected, d.test.count - 1);
  const image = slice(d, d.test, index, 1).images;
  const result = await trainer.gpu.run(async () => {
    if (trainer.model !== model) return null;
    const named = model.namedParameters();
    const first = named.find(([, t]) => t.rank === 4);
    let filters: { weights: Float32Array; shape: readonly number[]; bias: Float32Array | null; name: string } | null = null;
    if (first) {
      const [name, w] = first;
      const biasName = name.replace(/\.weight$/, '.bias');
      const b = named.find(([n]) => n === biasName)?.[1];
      filters = { name: name.replace(/\.weight$/, ''), weights: (await w.data()) as Float32Array, shape: w.shape, bias: b ? ((await b.data()) as Float32Array) : null };
    }
    const maps = await featureMaps(model, image, d.inputShape);
    return { filters, maps };
  });
  if (!result) return;
  if (result.filters) {
    const [fh, fw, cin, k] = result.filters.shape;
    ui.filtersNote.textContent = `${result.filters.name}: ${k} filters of ${fh}×${fw}×${cin}` +
      (cin === 3 ? ', drawn as the colour each one responds to (grey = weight 0).' : ': red = positive weight, blue = negative, white = 0.');
    drawFilters(ui.filters, result.filters.weights, result.filters.shape, result.filters.bias);
  } else {
    ui.filtersNote.textContent = 'The first layers have no convolution: nothing to draw.';
    ui.filters.replaceChildren();
  }
  ui.fmapImage.replaceChildren(imageCanvas(d, d.test, index, 'px fmap-source'));
  const truth = d.classNames[d.test.labels[index]];
  const guess = lastEval && index < lastEval.count ? `, predicted ${d.classNames[lastEval.predictions[index]]}` : '';
  ui.fmapCaption.textContent = `test image ${index}: ${truth}${guess}`;
  drawFeatureMaps(ui.fmaps, result.maps);
  state.timings.vizMs = performance.now() - t0;
}

// --- drawing ---------------------------------------------------------------------------------------

let drawPixels: Float32Array | null = null;
let drawPending = false;
let drawRunning = false;

const pad = new DrawPad(byId<HTMLCanvasElement>('draw-pad'), (pixels) => {
  drawPixels = pixels;
  showPreview(pixels);
  void predictDrawing();
});

function showPreview(pixels: Float32Array | null): void {
  const ctx = ui.drawPreview.getContext('2d')!;
  if (!pixels) {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, 28, 28);
    return;
  }
  ctx.drawImage(floatImageCanvas(pixels, 28, 28, 1), 0, 0);
}

/** Predicts the drawing; while one prediction runs, only the latest drawing is queued. */
async function predictDrawing(): Promise<void> {
  if (drawRunning) {
    drawPending = true;
    return;
  }
  drawRunning = true;
  try {
    do {
      drawPending = false;
      const pixels = drawPixels;
      if (!pixels || !dataset || dataset.id !== 'mnist') {
        ui.drawPrediction.textContent = '?';
        ui.drawPrediction.title = '';
        if (dataset) drawProbabilities(ui.drawProbs, dataset, null);
        state.draw.prediction = null;
        state.draw.probabilities = null;
        continue;
      }
      const probs = await trainer.predictOne(pixels);
      if (!probs || drawPixels !== pixels) continue;
      let best = 0;
      for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
      ui.drawPrediction.textContent = dataset.classNames[best];
      ui.drawPrediction.title = `${(probs[best] * 100).toFixed(1)}% sure`;
      drawProbabilities(ui.drawProbs, dataset, probs);
      state.draw.prediction = best;
      state.draw.probabilities = Array.from(probs);
      state.draw.updates++;
      await nextFrame(); // at most one prediction a frame
    } while (drawPending);
  } catch (e) {
    fail(e);
  } finally {
    drawRunning = false;
  }
}

byId('clear-pad').addEventListener('click', () => pad.clear());

// --- save and load ------------------------------------------------------------------------------------

ui.save.addEventListener('click', async () => {
  const model = trainer.model;
  if (!model || !dataset) return;
  try {
    const bytes = await trainer.gpu.run(() => model.save());
    const name = `filtro-${dataset.id}-step${trainer.step}.safetensors`;
    const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    const a = el('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    state.saved = { name, bytes: bytes.length };
    setStatus(`saved ${name} (${formatBytes(bytes.length)}: weights and architecture, safetensors)`, 'ok');
  } catch (e) {
    fail(e);
  }
});

/**
 * Makes a model read from a file or a checkpoint the one trained here, on the dataset its input fits
 * (switching if needed), from step 0. False (model disposed, status saying why) when none fits.
 */
async function adoptModel(model: f.nn.Sequential, source: string): Promise<boolean> {
  // The model says which input it expects: pick the dataset that matches.
  const want = model.inputShape.join('×');
  const id: DatasetId | null = want === '28×28×1' ? 'mnist' : want === '32×32×3' ? 'shapes' : null;
  if (!id) {
    model.dispose();
    setStatus(`cannot use ${source}: it expects ${want} images; the datasets here are 28×28×1 and 32×32×3`, 'error');
    return false;
  }
  const d = await getDataset(id);
  if (model.outputShape.length !== 1 || model.outputShape[0] !== d.classNames.length) {
    model.dispose();
    setStatus(`cannot use ${source}: it gives [${model.outputShape}] scores but ${d.title} has ${d.classNames.length} classes`, 'error');
    return false;
  }
  if (d !== dataset) {
    dataset = d;
    showDataset(d);
    editor.setInput(d.inputShape, d.classNames.length);
  }
  editor.setSpecs(model.layers.map(specFromLayer));
  trainer.setModel(model, d);
  architectureChanged = false;
  clearResults();
  return true;
}

/** After adoptModel(): evaluates the model and redraws the pictures, then says `done` and the accuracy. */
async function showAdoptedModel(what: string, done: string): Promise<void> {
  setStatus(`${what}: evaluating it…`, 'busy');
  await evaluateAndShow();
  await refreshViz();
  await predictDrawing();
  setStatus(`${done}: test accuracy ${((state.testAccuracy ?? 0) * 100).toFixed(1)}%`, 'ok');
}

ui.load.addEventListener('change', () => {
  const file = ui.load.files?.[0];
  ui.load.value = '';
  if (!file) return;
  void whileBusy(async () => {
    const bytes = new Uint8Array(await file.arrayBuffer());
    let model: f.nn.Sequential;
    try {
      model = f.nn.load(bytes);
    } catch (e) {
      setStatus(`cannot load ${file.name}: ${errorText(e)}`, 'error');
      return;
    }
    if (!(await adoptModel(model, file.name))) return;
    state.loaded++;
    await showAdoptedModel(`loaded ${file.name}`, `loaded ${file.name}`);
  });
});

// --- checkpoints in this browser ----------------------------------------------------------------------

function showCheckpointMessage(message: string, failed: boolean): void {
  Object.assign(state.checkpoint, { message, failed });
  ui.checkpointStatus.textContent = message;
  ui.checkpointStatus.classList.toggle('error', failed);
}

function onCheckpointSaved(meta: CheckpointMeta): void {
  state.checkpoint.savedStep = meta.step;
  state.checkpoint.saves++;
  showCheckpointMessage(`checkpoint saved at step ${formatCount(meta.step)} (${formatBytes(meta.bytes)}, in this browser)`, false);
  // The checkpoint on offer has just been replaced by this run's.
  offer.hide();
  state.checkpoint.offer = null;
}

/** A checkpoint that could not be saved, read or deleted: said under the status; training goes on. */
function onCheckpointFailed(error: CheckpointStoreError, what = 'checkpoint not saved'): void {
  const prefix = error.reason === 'unavailable' ? 'checkpoints are off' : what;
  showCheckpointMessage(`${prefix}: ${error.message}. Training goes on; use Save weights to keep a copy.`, true);
}

ui.checkpointEvery.addEventListener('input', () => {
  const every = Number(ui.checkpointEvery.value);
  checkpointer.every = Number.isFinite(every) && every >= 0 ? Math.round(every) : 0;
  state.checkpoint.every = checkpointer.every;
});

/** On page load: offers the stored checkpoint, or says why checkpoints cannot be kept here. */
async function offerStoredCheckpoint(): Promise<void> {
  let stored: StoredCheckpoint | null;
  try {
    stored = await readCheckpoint();
  } catch (e) {
    onCheckpointFailed(storeError(e), 'cannot read the stored checkpoint');
    return;
  }
  if (!stored) return;
  offer.show(stored.meta);
  state.checkpoint.offer = { step: stored.meta.step, dataset: stored.meta.dataset };
}

/** The training settings of a checkpoint, into the form (the steps per run stay as they are). */
function showHyper(h: Hyper): void {
  ui.batch.value = String(h.batch);
  ui.optimizer.value = h.optimizer;
  ui.lr.value = String(h.lr);
  ui.momentum.value = String(h.momentum);
  ui.schedule.value = h.schedule;
  readHyper();
}

/** Resume: the checkpoint's model, optimizer state, settings and step counter; Start continues. */
async function resumeOffered(): Promise<void> {
  await whileBusy(async () => {
    let stored: StoredCheckpoint | null;
    let restored: f.nn.Checkpoint;
    try {
      stored = await readCheckpoint();
      if (!stored) throw new Error('it is gone (discarded in another tab?)');
      restored = f.nn.loadCheckpoint(stored.bytes);
    } catch (e) {
      offer.hide();
      state.checkpoint.offer = null;
      setStatus(`cannot resume from the checkpoint: ${errorText(e)}`, 'error');
      return;
    }
    const { meta } = stored;
    if (!(await adoptModel(restored.model, `the checkpoint of step ${meta.step}`))) {
      restored.optimizer?.dispose();
      return;
    }
    showHyper(meta.hyper);
    const step = restored.progress.step ?? meta.step;
    trainer.resume(restored.optimizer, step, restored.progress.epoch ?? meta.epoch);
    checkpointer.markStored(restored.model, step);
    Object.assign(state, { step, epoch: trainer.epoch });
    Object.assign(state.checkpoint, { offer: null, resumedStep: step, savedStep: step });
    offer.hide();
    showCheckpointMessage(`resumed from the checkpoint of step ${formatCount(step)}`, false);
    await showAdoptedModel(`resumed at step ${formatCount(step)}`, `Resumed at step ${formatCount(step)}; press Continue to train on`);
  });
}

async function discardOffered(): Promise<void> {
  offer.setDisabled(true);
  try {
    await deleteCheckpoint();
    offer.hide();
    state.checkpoint.offer = null;
    showCheckpointMessage('checkpoint discarded', false);
  } catch (e) {
    offer.setDisabled(false);
    onCheckpointFailed(storeError(e), 'cannot discard the checkpoint');
  }
}

window.__trainDebug = {
  fingerprint: () =>
    trainer.gpu.run(() => (trainer.model ? fingerprint(trainer.model, trainer.optimizerInUse, trainer.step) : null)),
};

// --- start-up ---------------------------------------------------------------------------------------

/** Runs a page action (switching backend or dataset, reset, load) with training paused and the controls locked; errors go to the banner. */
async function whileBusy(action: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  updateControls();
  try {
    await pauseQuietly();
    await action();
  } catch (e) {
    fail(e);
  } finally {
    busy = false;
    showBackend();
    updateControls();
    renderMetrics();
  }
}

function fail(e: unknown): void {
  const message = errorText(e);
  state.error = message;
  setStatus(`error: ${message}`, 'error');
  showBanner(`Something went wrong: ${message}`, 'error');
  console.error(e);
}

async function main(): Promise<void> {
  ui.batch.value = String(params.batch);
  ui.optimizer.value = params.optimizer;
  ui.momentum.value = String(params.momentum);
  ui.schedule.value = params.schedule;
  ui.steps.value = String(params.steps);
  ui.checkpointEvery.value = String(params.checkpointEvery);
  if (params.lr !== null) ui.lr.value = String(params.lr);
  const wantGpu = params.backend !== 'cpu';
  if (wantGpu) {
    if (!(await tryWebgpu())) await f.setBackend('cpu');
  } else {
    // Asked for the CPU: WebGPU stays selectable where the browser has it.
    state.webgpuAvailable = 'gpu' in navigator;
    await f.setBackend('cpu');
  }
  showBackend();
  await useDataset(params.dataset);
  updateControls();
  renderMetrics();
  await offerStoredCheckpoint();
  setStatus(`ready on ${state.backend}: press Start`, 'info');
  state.ready = true;
  if (params.autostart && validation?.ok) start();
  // The untrained network's filters and maps (random), so the page is never empty.
  await refreshViz();
  drawProbabilities(ui.drawProbs, dataset!, null);
  showPreview(null);
}

main().catch((e: unknown) => {
  fail(e);
  updateControls();
});

// Counters move between read-backs too (evaluation, drawing): refresh them now and then.
setInterval(() => {
  if (!trainer.running) renderMetrics();
}, 1000);
