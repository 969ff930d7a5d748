// Where the run went wrong, derived from the run row and its events: the locator report to
// open, the NaN steps and the early warning. Pure, so the curves, the heatmap, the verdict
// and the events table all agree on the same marks without sharing state.

import type { EventRow, RunDetailResponse } from '../../source.js';
import { asLocator, locatorHeadline, type Locator } from '../../verdict.js';

type Run = RunDetailResponse['run'];

export interface NanMark {
  step: number;
  /** The report a click opens (null: none known yet). */
  locator: Locator | null;
  title: string;
}

export interface WarnMark {
  step: number;
  title: string;
}

const nanEvents = (events: readonly EventRow[]): EventRow[] => events.filter((e) => e.kind === 'nan');

/** The run's report, else the first NaN event's. */
export function mainLocator(run: Run, events: readonly EventRow[]): Locator | null {
  return asLocator(run.report) ?? asLocator(nanEvents(events)[0]?.payload);
}

/** One mark per NaN step (events first, then the run's first NaN step if no event has it); at most 12. */
export function nanMarks(run: Run, events: readonly EventRow[]): NanMark[] {
  const main = mainLocator(run, events);
  const seen = new Set<number>();
  const out: NanMark[] = [];
  for (const e of nanEvents(events)) {
    const l = asLocator(e.payload);
    const s = e.step ?? l?.step;
    if (s === undefined || s === null || seen.has(s)) continue;
    seen.add(s);
    out.push({
      step: s,
      locator: l ?? main,
      title: l ? `${locatorHeadline(l)} — click for the locator report` : `non-finite at step ${s}`,
    });
  }
  const first = run.firstNanStep;
  if (first !== null && !seen.has(first)) {
    out.push({ step: first, locator: main ?? { step: first }, title: `first non-finite step ${first} — click for the locator report` });
  }
  return out.slice(0, 12);
}

/** The early warning (src/diagnose/warning.ts) fires once, before the NaN: its own mark. */
export function warnMarks(events: readonly EventRow[]): WarnMark[] {
  return events
    .filter((e) => e.kind === 'warning' && e.step !== null)
    .slice(0, 1)
    .map((e) => {
      const w = e.payload as { en?: string } | null;
      return { step: e.step!, title: `early warning at step ${e.step}: ${w?.en ?? ''}` };
    });
}
