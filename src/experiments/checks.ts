// Small helpers the experiments' expected-outcome checks share.
import { d2lNum } from '../diagnose/format.js';
import { CHANCE_SIGMAS } from '../diagnose/thresholds.js';
import type { CellResult } from './types.js';

export const CHANCE = 0.1;
/**
 * Highest test accuracy that is still chance for n test images: 1/C plus CHANCE_SIGMAS binomial
 * standard errors (the band the verdict uses for training accuracy). "Above chance" means above this,
 * a statement that holds whatever the machine, unlike a fixed bar a borderline run crosses on one CPU only.
 */
export const chanceCeiling = (n: number): number => CHANCE + CHANCE_SIGMAS * Math.sqrt((CHANCE * (1 - CHANCE)) / n);
/** Test images a result was scored on (the whole test set when not limited). */
export const testSize = (r: CellResult): number => r.config.limitTest ?? 10_000;
export const diverged = (r: CellResult): boolean => r.nanStep !== null;
export const inFirstEpoch = (r: CellResult): boolean => r.nanStep !== null && r.nanEpoch === 0;
export const hasReport = (r: CellResult): boolean => r.nanLayer !== null && r.nanPass !== null;
/** Whether any result belongs to this arm (experiments check the arms that ran; the runner checks that all planned cells ran). */
export const ran = (rs: readonly CellResult[], arm: string): boolean => rs.some((r) => r.arm === arm);
export const byArm = (rs: readonly CellResult[], arm: string): CellResult[] => rs.filter((r) => r.arm === arm);
export const seedsOf = (rs: readonly CellResult[]): string => rs.map((r) => r.seed).join(', ');
export const nanSteps = (rs: readonly CellResult[]): string =>
  rs.map((r) => (r.nanStep === null ? `s${r.seed}: none in ${r.steps} steps` : `s${r.seed}: step ${r.nanStep} (epoch ${(r.nanEpoch ?? 0) + 1})`)).join('; ');
export const accs = (rs: readonly CellResult[]): string =>
  rs.map((r) => `s${r.seed}: ${r.testAcc === null ? (r.nanStep !== null ? 'NaN' : '-') : d2lNum(r.testAcc)}`).join('; ');

// ---------------------------------------------------------------- over seeds
// Where a run near the edge of divergence first goes non-finite depends on the machine (the
// kernels ATen and oneDNN pick, the BLAS, the summation order) as much as on the seed: the
// same seed went NaN at step 242 on one CPU and 63 on another. So the NaN experiments state
// their outcomes over seeds: how many diverge, the median and range of the first non-finite
// epoch, and sign-test counts, never one seed's step.

/** C(n, k) * p^k (1-p)^(n-k) summed for k..n: P(at least k successes of n). */
export function binomialTail(n: number, k: number, p = 0.5): number {
  let sum = 0;
  for (let i = Math.max(0, k); i <= n; i++) {
    let c = 1;
    for (let j = 0; j < i; j++) c = (c * (n - j)) / (j + 1);
    sum += c * p ** i * (1 - p) ** (n - i);
  }
  return sum;
}

export const SIGN_ALPHA = 0.05;
/**
 * Fewest of n seeds that must agree for a one-sided sign test at SIGN_ALPHA: if the effect did
 * not exist, each seed would agree with probability 1/2, and this many or more would happen less
 * than 5% of the time. n + 1 (unreachable) when n seeds are too few for any verdict (n < 5).
 */
export function signTestMin(n: number, alpha = SIGN_ALPHA): number {
  for (let k = 0; k <= n; k++) if (binomialTail(n, k) < alpha) return k;
  return n + 1;
}

/** First non-finite epoch, 1-based as d2l prints it; Infinity for a seed that stayed finite within its budget. */
export const nanEpoch1 = (r: CellResult): number => (r.nanStep === null ? Infinity : (r.nanEpoch ?? 0) + 1);

/** Lower median (the ceil(n/2)-th smallest): with 'never' as Infinity, it is finite only when at least half diverged. */
export function lowerMedian(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.ceil(s.length / 2) - 1];
}

export interface NanStats {
  seeds: number;
  diverged: number;
  /** Seeds whose first non-finite value came in epoch 1. */
  inEpoch1: number;
  /** Median first non-finite epoch over all seeds (a seed that never diverged counts as beyond the budget: Infinity). */
  medianEpoch: number;
  /** Range of the first non-finite epoch and step over the seeds that diverged (null: none did). */
  epochs: [number, number] | null;
  steps: [number, number] | null;
  medianStep: number;
}

export function nanStats(rs: readonly CellResult[]): NanStats {
  const bad = rs.filter(diverged);
  const ep = bad.map(nanEpoch1);
  const st = bad.map((r) => r.nanStep!);
  return {
    seeds: rs.length, diverged: bad.length, inEpoch1: bad.filter((r) => (r.nanEpoch ?? 0) === 0).length,
    medianEpoch: lowerMedian(rs.map(nanEpoch1)),
    epochs: bad.length ? [Math.min(...ep), Math.max(...ep)] : null,
    steps: bad.length ? [Math.min(...st), Math.max(...st)] : null,
    medianStep: lowerMedian(rs.map((r) => r.nanStep ?? Infinity)),
  };
}

const never = (x: number, budget: string) => (Number.isFinite(x) ? String(x) : `none in ${budget}`);
export const fmtMedian = (x: number, what = 'the budget'): string => never(x, what);
export const fmtRange = (r: [number, number] | null): string => (r ? (r[0] === r[1] ? String(r[0]) : `${r[0]}-${r[1]}`) : '-');

/** One table row per group of seeds (an lr, an arm): the statistics a NaN claim rests on. */
export function nanStatsTable(groups: readonly [string, readonly CellResult[]][], head = 'arm'): { head: string[]; rows: string[][] } {
  return {
    head: [head, 'seeds', 'diverged', 'in epoch 1', 'median first non-finite epoch', 'epoch range', 'median step', 'step range'],
    rows: groups.map(([name, rs]) => {
      const s = nanStats(rs);
      const pct = s.seeds ? ` (${Math.round((100 * s.diverged) / s.seeds)}%)` : '';
      return [name, String(s.seeds), `${s.diverged} of ${s.seeds}${pct}`, String(s.inEpoch1), fmtMedian(s.medianEpoch), fmtRange(s.epochs), fmtMedian(s.medianStep), fmtRange(s.steps)];
    }),
  };
}
