// A reference-counted handle on backend storage. Several tensors share one allocation when an op
// is a view (reshape); the storage goes back to the backend when the last holder lets go.
import type { Backend, Storage } from './backends/backend.js';
import { liveStats } from './stats.js';

export class Allocation {
  private refs = 1;

  constructor(
    readonly backend: Backend,
    readonly storage: Storage,
    readonly bytes: number,
  ) {
    liveStats.bytesLive += bytes;
  }

  /** Held by one tensor only: nobody else sees the storage change if it is overwritten. */
  get exclusive(): boolean {
    return this.refs === 1;
  }

  get released(): boolean {
    return this.refs === 0;
  }

  retain(): this {
    if (this.refs === 0) throw new Error('internal: retain() on a released allocation');
    this.refs++;
    return this;
  }

  release(): void {
    if (this.refs === 0) throw new Error('internal: release() on a released allocation');
    if (--this.refs === 0) {
      liveStats.bytesLive -= this.bytes;
      this.backend.release(this.storage);
    }
  }
}
