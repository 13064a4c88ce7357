// Live training curves with chart.js: the loss (each read-back step, and its moving average) and
// the accuracy (moving average over training batches, and the held-out test accuracy).
import { Chart, Filler, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip } from 'chart.js';
import type { ChartConfiguration, ChartDataset } from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip, Filler);

type Point = { x: number; y: number };

const FONT = { family: 'system-ui, sans-serif', size: 11 };

function lineChart(canvas: HTMLCanvasElement, yTitle: string, datasets: ChartDataset<'line', Point[]>[], y: { min?: number; max?: number }): Chart<'line', Point[]> {
  const config: ChartConfiguration<'line', Point[]> = {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'step', font: FONT }, ticks: { font: FONT, precision: 0 }, grid: { color: '#eef0f4' }, min: 0 },
        y: { title: { display: true, text: yTitle, font: FONT }, ticks: { font: FONT }, grid: { color: '#eef0f4' }, ...y },
      },
      plugins: {
        legend: { labels: { font: FONT, boxWidth: 12, boxHeight: 2 } },
        tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${(c.parsed.y ?? 0).toFixed(4)}` } },
      },
    },
  };
  return new Chart(canvas, config);
}

export class TrainingCharts {
  private readonly loss: Chart<'line', Point[]>;
  private readonly accuracy: Chart<'line', Point[]>;
  // The series are the charts' own data arrays; clear() gives the charts new ones (chart.js watches
  // the arrays it was given, so they are replaced rather than truncated in place).
  private get lossRaw(): Point[] {
    return this.loss.data.datasets[0].data;
  }
  private get lossAvg(): Point[] {
    return this.loss.data.datasets[1].data;
  }
  private get trainAcc(): Point[] {
    return this.accuracy.data.datasets[0].data;
  }
  private get testAcc(): Point[] {
    return this.accuracy.data.datasets[1].data;
  }
  private emaLoss: number | null = null;
  private emaAcc: number | null = null;
  private pending = false;

  constructor(lossCanvas: HTMLCanvasElement, accuracyCanvas: HTMLCanvasElement) {
    this.loss = lineChart(lossCanvas, 'cross-entropy loss', [
      { label: 'batch loss', data: [], borderColor: 'rgba(79, 109, 245, 0.35)', backgroundColor: 'rgba(79, 109, 245, 0.35)', borderWidth: 1, pointRadius: 0 },
      { label: 'moving average', data: [], borderColor: '#3346c9', backgroundColor: '#3346c9', borderWidth: 2, pointRadius: 0 },
    ], { min: 0 });
    this.accuracy = lineChart(accuracyCanvas, 'accuracy', [
      { label: 'train (moving average)', data: [], borderColor: '#e08a1e', backgroundColor: '#e08a1e', borderWidth: 2, pointRadius: 0 },
      { label: 'test (held out)', data: [], borderColor: '#1f9d55', backgroundColor: '#1f9d55', borderWidth: 2, pointRadius: 3 },
    ], { min: 0, max: 1 });
  }

  /** A read-back training step: its loss and its batch accuracy (the fraction predicted right). */
  addTrain(step: number, loss: number, accuracy: number, stepsSinceLast: number): void {
    // The moving average weighs by steps, so it means the same at any read-back rate.
    const a = 1 - Math.pow(0.9, Math.max(1, stepsSinceLast));
    this.emaLoss = this.emaLoss === null ? loss : this.emaLoss + a * (loss - this.emaLoss);
    this.emaAcc = this.emaAcc === null ? accuracy : this.emaAcc + a * (accuracy - this.emaAcc);
    this.lossRaw.push({ x: step, y: loss });
    this.lossAvg.push({ x: step, y: this.emaLoss });
    this.trainAcc.push({ x: step, y: this.emaAcc });
    this.schedule();
  }

  addTest(step: number, accuracy: number): void {
    const last = this.testAcc[this.testAcc.length - 1];
    if (last && last.x === step) last.y = accuracy;
    else this.testAcc.push({ x: step, y: accuracy });
    this.schedule();
  }

  clear(): void {
    for (const chart of [this.loss, this.accuracy]) for (const dataset of chart.data.datasets) dataset.data = [];
    this.emaLoss = null;
    this.emaAcc = null;
    this.schedule();
  }

  /** Redraws at most once a frame. */
  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.loss.update('none');
      this.accuracy.update('none');
    });
  }
}
