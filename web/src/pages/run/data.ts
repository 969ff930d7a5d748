// What the run page knows about one run: the run row, its steps, epochs and events, merged as
// live messages arrive. The page owns the one instance and hands read-only views to panels.

import type { Cursor, EpochRow, EventRow, RunDetailResponse, RunSummary, Source } from '../../source.js';
import { appendCols, emptyCols, MAX_LOCAL_STEPS, thinCols, type StepCols } from './step-cols.js';

export class RunData {
  private constructor(
    private detail_: RunDetailResponse,
    private steps_: StepCols,
    private epochs_: EpochRow[],
    private events_: EventRow[],
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

  // Read-only outside: only the merge methods below change what the page knows.
  get detail(): RunDetailResponse {
    return this.detail_;
  }
  get steps(): StepCols {
    return this.steps_;
  }
  get epochs(): readonly EpochRow[] {
    return this.epochs_;
  }
  get events(): readonly EventRow[] {
    return this.events_;
  }

  /** A freshly fetched run row, layers and artifacts. */
  setDetail(d: RunDetailResponse): void {
    this.detail_ = d;
  }

  /** Where a (re)connecting live stream resumes. */
  cursor(): Cursor {
    const s = this.steps_.step;
    return {
      since: s.length ? s[s.length - 1] : (this.latest ?? -1),
      epoch: this.epochs_.length ? Math.max(...this.epochs_.map((e) => e.epoch)) : -1,
      event: this.events_.length ? this.events_[this.events_.length - 1].id : 0,
    };
  }

  addSteps(cols: StepCols): void {
    appendCols(this.steps_, cols);
    if (this.steps_.step.length > MAX_LOCAL_STEPS) this.steps_ = thinCols(this.steps_);
  }

  addEpochs(rows: EpochRow[]): void {
    const byEpoch = new Map(this.epochs_.map((e) => [e.epoch, e]));
    for (const r of rows) byEpoch.set(r.epoch, r);
    this.epochs_ = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  }

  addEvents(rows: EventRow[]): void {
    const have = new Set(this.events_.map((e) => e.id));
    this.events_ = [...this.events_, ...rows.filter((e) => !have.has(e.id))];
  }

  /**
   * A live run summary (no report). Returns whether something the summary cannot carry
   * may have changed (verdict, report, first NaN): then the full detail is worth fetching.
   */
  setSummary(r: RunSummary): boolean {
    const prev = this.detail_.run;
    const changed =
      prev.status !== r.status ||
      (prev.report != null) !== r.hasReport ||
      JSON.stringify(prev.verdict) !== JSON.stringify(r.verdict) ||
      prev.firstNanStep !== r.firstNanStep;
    this.detail_ = { ...this.detail_, run: { ...r, report: prev.report } };
    return changed;
  }
}
