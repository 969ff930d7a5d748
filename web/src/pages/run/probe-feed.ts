// Fetching the per-layer probes: one request at a time (a request asked for while one is in
// flight runs once after it, with the fields wanted then), and live refreshes throttled to
// one per PROBE_REFRESH_MS since every logged step announces new probes.

import type { ProbesResponse } from '../../source.js';

const PROBE_REFRESH_MS = 2500;

export class ProbeFeed {
  private busy = false;
  private again = false;
  private lastFetch = Date.now();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private destroyed = false;

  constructor(
    private readonly fetch: () => Promise<ProbesResponse>,
    private readonly on: { data(p: ProbesResponse): void; error(message: string): void },
  ) {}

  async load(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      const p = await this.fetch();
      if (!this.destroyed) this.on.data(p);
    } catch (err) {
      this.on.error((err as Error).message);
    } finally {
      this.busy = false;
      if (this.again && !this.destroyed) {
        this.again = false;
        void this.load();
      }
    }
  }

  /** New probes were logged: fetch them, at most once per PROBE_REFRESH_MS. */
  schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, PROBE_REFRESH_MS - (Date.now() - this.lastFetch));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.lastFetch = Date.now();
      void this.load();
    }, wait);
  }

  destroy(): void {
    this.destroyed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
