// The run's probe history kept in memory: what the verdict and the locator's trail read.
// Compact on purpose: a few floats per layer per probed step.
import { FIELD, NF } from './fields.js';

/** acc: the batch's training accuracy and n its size (NaN/0 when not known). */
export interface HistoryRow { step: number; loss: number; gradNorm: number; values: Float32Array; acc: number; n: number }

export class History {
  readonly rows: HistoryRow[] = [];
  inputMax = -Infinity;
  constructor(readonly numLayers: number) {}

  push(step: number, loss: number, gradNorm: number, values: Float32Array, inputMax: number, batch: { correct: number; size: number } | null = null): void {
    this.rows.push({ step, loss, gradNorm, values, acc: batch ? batch.correct / batch.size : NaN, n: batch?.size ?? 0 });
    this.inputMax = Math.max(this.inputMax, inputMax);
  }
  /** Drops rows after a step (rollback). */
  truncateAfter(step: number): void {
    while (this.rows.length && this.rows[this.rows.length - 1].step > step) this.rows.pop();
  }
  field(layer: number, f: keyof typeof FIELD, last = Infinity): number[] {
    const rows = last === Infinity ? this.rows : this.rows.slice(-last);
    return rows.map((r) => r.values[layer * NF + FIELD[f]]);
  }
  trail(layer: number, k: number): { steps: number[]; actMax: number[]; gradNorm: number[]; loss: number[]; globalGradNorm: number[] } {
    const rows = this.rows.slice(-k);
    const has = layer >= 0 && layer < this.numLayers;
    const pick = (r: HistoryRow, f: keyof typeof FIELD) => (has ? r.values[layer * NF + FIELD[f]] : NaN);
    return {
      steps: rows.map((r) => r.step),
      actMax: rows.map((r) => pick(r, 'act_max')),
      gradNorm: rows.map((r) => {
        const w = pick(r, 'grad_w_norm');
        return Number.isNaN(w) ? pick(r, 'grad_out_norm') : w;
      }),
      loss: rows.map((r) => r.loss),
      globalGradNorm: rows.map((r) => r.gradNorm),
    };
  }
}

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
