// The experiment sweep a run of cells is recorded under: a new one, or (--resume SWEEP_ID) the
// stored one re-planned from the experiment's current cell list, so cells appended since are
// added. Shared by the local runner (--workers) and the queue (--queue).
import type { Store } from '../store/index.js';
import type { TrainConfig } from '../train/config.js';
import { createExperimentSweep, planCells, cellKey, type Overrides } from '../experiments/run.js';
import type { Cell, Experiment, Scale } from '../experiments/types.js';
import { UsageError } from './args.js';

export interface SweepChoice {
  store: Store; scale: Scale; seeds: number[]; overrides: Overrides; only: string[];
  /** Continue this experiment sweep (its scale, seeds, overrides and arm filter are the stored ones). */
  resume?: string;
  /** Stored on a new sweep's grid (e.g. the masked queue URL). */
  extra?: Record<string, unknown>;
}

interface StoredGrid { experiment?: string; scale?: Scale; seeds?: number[]; overrides?: Overrides; only?: string[]; cells?: { key: string; config: TrainConfig }[] }

/** The sweep to record under and the cells to plan: a new sweep, or the stored one re-planned from today's cell list. */
export function openExperimentSweep(exp: Experiment, o: SweepChoice): { sweepId: string; cells: Cell[] } {
  if (!o.resume) {
    const cells = planCells(exp, o.scale, o.seeds, o.overrides, o.only);
    return { sweepId: createExperimentSweep(o.store, exp, o.scale, o.seeds, o.overrides, o.only, cells, new Date(), o.extra).id, cells };
  }
  const s = o.store.getSweep(o.resume);
  const g = s?.grid as StoredGrid | undefined;
  if (!s || !g?.cells) throw new UsageError(`experiment: no experiment sweep '${o.resume}' in ${o.store.root}`);
  if (g.experiment !== exp.name) throw new UsageError(`experiment: sweep ${o.resume} is a run of experiment ${g.experiment}, not ${exp.name}`);
  const cells = planCells(exp, g.scale ?? 'cpu', g.seeds ?? [], g.overrides ?? {}, g.only ?? []);
  o.store.claimSweep(s.id); // refused while another live process drives it
  o.store.setSweepGrid(s.id, { ...g, cells: cells.map((c) => ({ key: cellKey(c), config: c.config })) });
  return { sweepId: s.id, cells };
}

