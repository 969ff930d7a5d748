// Turns a RunPatch into an UPDATE statement touching only the given fields.

import { toJson } from './json.js';
import { RUN_NAN_BITS } from './rows.js';
import type { RunPatch } from './types.js';
import { checkRunStatus } from './validate.js';

type SqlValue = number | string | null;

type Encoder = (v: unknown) => SqlValue;
const plain: Encoder = (v) => v as SqlValue;
const json: Encoder = (v) => (v === null ? null : toJson(v));

const COLUMNS: { [K in keyof Required<RunPatch>]: [column: string, encode: Encoder] } = {
  name: ['name', plain],
  status: ['status', (v) => checkRunStatus(v as string)],
  config: ['config', json],
  seed: ['seed', plain],
  pid: ['pid', plain],
  host: ['host', plain],
  pidStart: ['pid_start', plain],
  machine: ['machine', json],
  finishedAt: ['finished_at', plain],
  epochsDone: ['epochs_done', plain],
  stepsDone: ['steps_done', plain],
  finalLoss: ['final_loss', plain],
  finalTrainAcc: ['final_train_acc', plain],
  finalTestAcc: ['final_test_acc', plain],
  firstNanStep: ['first_nan_step', plain],
  firstNanEpoch: ['first_nan_epoch', plain],
  verdict: ['verdict', json],
  report: ['report', json],
  error: ['error', plain],
};

export interface PatchSql {
  /** Same SQL for the same set of keys, so callers can cache the statement. */
  sql: string;
  params: Record<string, SqlValue>;
}

export function runPatchSql(id: string, patch: RunPatch, now: number): PatchSql {
  const sets: string[] = [];
  const params: Record<string, SqlValue> = { id, updated_at: now };
  let nanClear = 0;
  let nanSet = 0;
  for (const key of Object.keys(COLUMNS) as (keyof RunPatch)[]) {
    const value = patch[key];
    if (value === undefined) continue;
    const [column, encode] = COLUMNS[key];
    const bit = (RUN_NAN_BITS as Record<string, number>)[column];
    if (bit !== undefined) {
      // NaN is stored as NULL plus a mask bit (see nan.ts); any new value resets the bit.
      nanClear |= 1 << bit;
      if (typeof value === 'number' && Number.isNaN(value)) {
        nanSet |= 1 << bit;
        params[column] = null;
        sets.push(`${column} = @${column}`);
        continue;
      }
    }
    params[column] = encode(value);
    sets.push(`${column} = @${column}`);
  }
  if (nanClear !== 0) {
    params.nan_clear = nanClear;
    params.nan_set = nanSet;
    sets.push('nan_mask = (nan_mask & ~@nan_clear) | @nan_set');
  }
  sets.push('updated_at = @updated_at');
  return { sql: `UPDATE runs SET ${sets.join(', ')} WHERE id = @id`, params };
}
