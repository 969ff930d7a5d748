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
