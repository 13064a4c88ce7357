// The offer shown when the page opens with a checkpoint stored: "Resume training from step S of
// <dataset> (saved <time ago>)?" with Resume and Discard. The page decides what the buttons do.
import type { CheckpointMeta } from './checkpoint-store.js';
import { byId, formatCount } from './dom.js';

/** "just now", "5 minutes ago", "3 days ago". */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const units: [number, string][] = [[86_400, 'day'], [3_600, 'hour'], [60, 'minute'], [1, 'second']];
  if (seconds < 10) return 'just now';
  for (const [size, name] of units) {
    const n = Math.floor(seconds / size);
    if (n >= 1) return `${n} ${name}${n === 1 ? '' : 's'} ago`;
  }
  return 'just now';
}

export class ResumeOffer {
  private readonly root = byId('resume-offer');
  private readonly text = byId('resume-text');
  private readonly detail = byId('resume-detail');
  private readonly buttons = [byId<HTMLButtonElement>('resume'), byId<HTMLButtonElement>('discard')];
  /** The checkpoint on offer, or null when the offer is hidden. */
  shown: CheckpointMeta | null = null;

  constructor(actions: { resume(): void; discard(): void }) {
    const [resume, discard] = this.buttons;
    resume.addEventListener('click', () => actions.resume());
    discard.addEventListener('click', () => actions.discard());
  }

  show(meta: CheckpointMeta, now = Date.now()): void {
    this.shown = meta;
    this.text.textContent = `Resume training from step ${formatCount(meta.step)} of ${meta.datasetTitle} (saved ${formatAge(now - meta.savedAt)})?`;
    const loss = meta.loss === null ? '' : `, loss ${meta.loss.toFixed(3)}`;
    const accuracy = meta.batchAccuracy === null ? '' : `, batch accuracy ${(meta.batchAccuracy * 100).toFixed(0)}%`;
    this.detail.textContent = `${meta.architecture}; epoch ${meta.epoch}${loss}${accuracy}; ${meta.hyper.optimizer}, batch ${meta.hyper.batch}, on ${meta.backend}`;
    this.root.hidden = false;
    this.setDisabled(false);
  }

  hide(): void {
    this.shown = null;
    this.root.hidden = true;
  }

  setDisabled(disabled: boolean): void {
    for (const b of this.buttons) b.disabled = disabled;
  }
}
