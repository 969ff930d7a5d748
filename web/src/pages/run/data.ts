// What the run page knows about one run: the run row, its steps, epochs and events, merged as
// live messages arrive. The page owns the one instance and hands read-only views to panels.

import type { Cursor, EpochRow, EventRow, RunDetailResponse, RunSummary, Source } from '../../source.js';
import { appendCols, emptyCols, MAX_LOCAL_STEPS, thinCols, type StepCols } from './step-cols.js';

export class RunData {
  private constructor(
    public detail: RunDetailResponse,
    public steps: StepCols,
    public epochs: EpochRow[],
    public events: EventRow[],
    /** The server's newest step when the page opened: where the live cursor starts if we hold none. */
    private readonly latest: number | null,
  ) {}

  static async load(src: Source, id: string): Promise<RunData> {
    const detail = await src.run(id);
    const [stepsRes, epochs, events] = await Promise.all([src.steps(id), src.epochs(id), src.events(id)]);
    const steps = emptyCols();
    appendCols(steps, stepsRes.cols);
    return new RunData(detail, steps, epochs, events, stepsRes.latest);
  }

  /** Where a (re)connecting live stream resumes. */
  cursor(): Cursor {
    const s = this.steps.step;
    return {
      since: s.length ? s[s.length - 1] : (this.latest ?? -1),
      epoch: this.epochs.length ? Math.max(...this.epochs.map((e) => e.epoch)) : -1,
      event: this.events.length ? this.events[this.events.length - 1].id : 0,
    };
  }

  addSteps(cols: StepCols): void {
    appendCols(this.steps, cols);
    if (this.steps.step.length > MAX_LOCAL_STEPS) this.steps = thinCols(this.steps);
  }

  addEpochs(rows: EpochRow[]): void {
    const byEpoch = new Map(this.epochs.map((e) => [e.epoch, e]));
    for (const r of rows) byEpoch.set(r.epoch, r);
    this.epochs = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  }

  addEvents(rows: EventRow[]): void {
    const have = new Set(this.events.map((e) => e.id));
    this.events = [...this.events, ...rows.filter((e) => !have.has(e.id))];
  }

  /**
   * A live run summary (no report). Returns whether something the summary cannot carry
   * may have changed (verdict, report, first NaN): then the full detail is worth fetching.
   */
  setSummary(r: RunSummary): boolean {
    const prev = this.detail.run;
    const changed =
      prev.status !== r.status ||
      (prev.report != null) !== r.hasReport ||
      JSON.stringify(prev.verdict) !== JSON.stringify(r.verdict) ||
      prev.firstNanStep !== r.firstNanStep;
    this.detail = { ...this.detail, run: { ...r, report: prev.report } };
    return changed;
  }
}
