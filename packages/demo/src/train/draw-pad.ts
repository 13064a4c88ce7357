// Draw a digit with the mouse, a pen or a finger (pointer events); the drawing is turned into an
// MNIST-like 28×28 image the way MNIST was made: the ink's bounding box is scaled (keeping its
// aspect ratio) to fit a 20×20 box, with area averaging, then placed in a 28×28 field so that its
// centre of mass is at the centre.

export const PAD_SIZE = 280;
const BOX = 20;
const FIELD = 28;

export class DrawPad {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private drawing = false;
  private last: { x: number; y: number } | null = null;
  private inked = false;
  /** Strokes drawn so far (for the page state). */
  strokes = 0;

  constructor(canvas: HTMLCanvasElement, private readonly onChange: (pixels: Float32Array | null) => void, private readonly lineWidth = 20) {
    this.canvas = canvas;
    canvas.width = PAD_SIZE;
    canvas.height = PAD_SIZE;
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.style.touchAction = 'none';
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    for (const type of ['pointerup', 'pointercancel', 'lostpointercapture'] as const) canvas.addEventListener(type, () => this.up());
  }

  clear(): void {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, PAD_SIZE, PAD_SIZE);
    this.inked = false;
    this.strokes = 0;
    this.onChange(null);
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * PAD_SIZE, y: ((e.clientY - r.top) / r.height) * PAD_SIZE };
  }

  private down(e: PointerEvent): void {
    if (e.button !== 0 && e.pointerType === 'mouse') return;
    e.preventDefault();
    try {
      this.canvas.setPointerCapture(e.pointerId);
    } catch {
      // Synthetic events without an active pointer: drawing still works without capture.
    }
    this.drawing = true;
    this.strokes++;
    this.last = this.point(e);
    this.segment(this.last, this.last);
  }

  private move(e: PointerEvent): void {
    if (!this.drawing || !this.last) return;
    const p = this.point(e);
    this.segment(this.last, p);
    this.last = p;
  }

  private up(): void {
    if (!this.drawing) return;
    this.drawing = false;
    this.last = null;
    this.onChange(this.pixels());
  }

  private segment(a: { x: number; y: number }, b: { x: number; y: number }): void {
    const ctx = this.ctx;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = this.lineWidth;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x + 0.01, b.y);
    ctx.stroke();
    this.inked = true;
    this.onChange(this.pixels());
  }

  /** The drawing as 28×28 floats in [0, 1] (white ink = 1), MNIST-style; null when empty. */
  pixels(): Float32Array | null {
    if (!this.inked) return null;
    const { data } = this.ctx.getImageData(0, 0, PAD_SIZE, PAD_SIZE);
    return toMnist(data, PAD_SIZE, PAD_SIZE);
  }
}

/** RGBA ink (red channel) → 28×28 MNIST-style field; null when nothing is drawn. */
export function toMnist(rgba: Uint8ClampedArray, width: number, height: number): Float32Array | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (rgba[(y * width + x) * 4] > 16) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = BOX / Math.max(bw, bh);
  const w = Math.max(1, Math.round(bw * scale));
  const h = Math.max(1, Math.round(bh * scale));
  // Area averaging: every source pixel adds to the box cell it falls in.
  const sum = new Float32Array(w * h);
  const count = new Float32Array(w * h);
  for (let y = y0; y <= y1; y++) {
    const by = Math.min(h - 1, Math.floor((y - y0) * scale));
    for (let x = x0; x <= x1; x++) {
      const bx = Math.min(w - 1, Math.floor((x - x0) * scale));
      sum[by * w + bx] += rgba[(y * width + x) * 4] / 255;
      count[by * w + bx]++;
    }
  }
  let max = 0;
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = count[y * w + x] ? sum[y * w + x] / count[y * w + x] : 0;
      sum[y * w + x] = v;
      max = Math.max(max, v);
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  if (mass === 0) return null;
  // Put the centre of mass at the centre of the field, keeping the box inside it.
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  const ox = clamp(Math.round(FIELD / 2 - mx / mass), 0, FIELD - w);
  const oy = clamp(Math.round(FIELD / 2 - my / mass), 0, FIELD - h);
  const out = new Float32Array(FIELD * FIELD);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(y + oy) * FIELD + x + ox] = Math.min(1, sum[y * w + x] / max);
  return out;
}
