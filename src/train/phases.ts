// Where a training epoch's time goes, phase by phase: what the epoch bench reports beside
// PyTorch's loop. Wall time per phase, and the process's CPU time (all threads: libtorch's
// intra-op pool and the data worker too) over the same spans, which a busy shared machine
// disturbs much less than wall time. Nothing reads these to decide anything.

/** The phases of an epoch, in the order the bench prints them (one list: the bench derives from it). */
export const PHASES = ['data', 'step', 'probes', 'store', 'checkpoint', 'eval'] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseSpan { wallMs: number; cpuMs: number }
export type PhaseTotals = Record<Phase, PhaseSpan>;

const zero = (): PhaseTotals => Object.fromEntries(PHASES.map((p) => [p, { wallMs: 0, cpuMs: 0 }])) as PhaseTotals;
const cpuNow = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

export class PhaseTimes {
  private totals = zero();
  /** Time taken by spans nested in the open ones, innermost last: a phase's own time excludes them. */
  private readonly inner: PhaseSpan[] = [];

  /** Runs fn and adds its wall and CPU time to phase p, less the time of spans nested inside it. */
  time<T>(p: Phase, fn: () => T): T {
    const w = performance.now(), c = cpuNow();
    const nested = { wallMs: 0, cpuMs: 0 };
    this.inner.push(nested);
    try {
      return fn();
    } finally {
      this.inner.pop();
      const dw = performance.now() - w, dc = cpuNow() - c;
      this.add(p, dw - nested.wallMs, dc - nested.cpuMs);
      const outer = this.inner[this.inner.length - 1];
      if (outer) { outer.wallMs += dw; outer.cpuMs += dc; }
    }
  }

  add(p: Phase, wallMs: number, cpuMs: number): void {
    this.totals[p].wallMs += wallMs;
    this.totals[p].cpuMs += cpuMs;
  }

  /** The totals so far, and starts again from zero. */
  take(): PhaseTotals {
    const t = this.totals;
    this.totals = zero();
    return t;
  }
}

/** One epoch as the user waited for it: its wall and CPU time and where they went. */
export interface EpochTiming { epoch: number; wallMs: number; cpuMs: number; phases: PhaseTotals }

/** Times whole epochs: start() at the epoch's first batch, end() after its checkpoint. */
export class EpochClock {
  private w = 0;
  private c = 0;
  start(): void { this.w = performance.now(); this.c = cpuNow(); }
  end(epoch: number, phases: PhaseTotals): EpochTiming {
    return { epoch, wallMs: performance.now() - this.w, cpuMs: cpuNow() - this.c, phases };
  }
}
