// The named experiments, in the order RESULTS.md lists them.
import type { Experiment } from './types.js';
import { phenomenon1 } from './phenomenon-1.js';
import { phenomenon2 } from './phenomenon-2.js';
import { phenomenon3 } from './phenomenon-3.js';
import { bnFix } from './bn-fix.js';
import { vanishing } from './vanishing.js';
import { bnEffects } from './bn-effects.js';
import { d2lBaseline } from './d2l-baseline.js';
import { d2lNin, d2lGooglenet } from './d2l-modern.js';
import { exploration } from './exploration.js';

export const EXPERIMENTS: readonly Experiment[] = [phenomenon1, phenomenon2, phenomenon3, bnFix, vanishing, bnEffects, d2lBaseline, d2lNin, d2lGooglenet, exploration];

export function findExperiment(name: string): Experiment | undefined { return EXPERIMENTS.find((e) => e.name === name); }

export type { Experiment, Scale, Cell, CellResult, Outcome } from './types.js';
export { runExperiment, seedList, type Overrides, type ExperimentRun } from './run.js';
