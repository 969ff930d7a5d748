// torch.optim.SGD, same update rule (weight decay, momentum with dampening, Nesterov).
// d2l's train_ch6 uses plain SGD: with momentum 0 and weight decay 0, one in-place
// `p -= lr * grad` per parameter, no extra memory.
import { Tensor, keep, noGrad, zeros } from '../torch/index.js';
import { statsMany, fromRaw, l2, STAT_FIELDS } from '../torch/stats.js';

export interface SGDOptions { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }

export class SGD {
  lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  /** Momentum buffers, one per parameter once momentum is on (checkpointed). */
  readonly momentumBuffers: (Tensor | null)[];

  constructor(readonly params: readonly Tensor[], o: SGDOptions) {
    if (!(o.lr > 0) || !Number.isFinite(o.lr)) throw new Error(`SGD: lr must be a positive number, got ${o.lr}`);
    this.lr = o.lr;
    this.momentum = o.momentum ?? 0;
    this.dampening = o.dampening ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.nesterov = o.nesterov ?? false;
    if (this.momentum < 0 || this.weightDecay < 0) throw new Error('SGD: momentum and weight decay must be >= 0');
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new Error('SGD: Nesterov needs momentum > 0 and dampening 0');
    this.momentumBuffers = params.map(() => null);
  }

  zeroGrad(): void { for (const p of this.params) p.grad = null; }

  /**
   * One update. applied, when given, receives |update| = lr * |direction| per parameter: the step
   * actually taken, after clipping, weight decay and momentum (what an update/weight ratio means).
   */
  step(applied?: Map<Tensor, number>): void {
    const dirs: Tensor[] = [];
    const stepped: Tensor[] = [];
    const temps: Tensor[] = []; // p.grad belongs to p (Tensor.grad); momentum buffers to this
    noGrad(() => this.params.forEach((p, i) => {
      const g0 = p.grad;
      if (!g0) return;
      let g = g0;
      if (this.weightDecay !== 0) { g = g.add(p.mul(this.weightDecay)); temps.push(g); }
      if (this.momentum !== 0) {
        let buf = this.momentumBuffers[i];
        if (!buf) {
          buf = keep(g.clone());
          this.momentumBuffers[i] = buf;
        } else {
          buf.mul_(this.momentum).add_(g, 1 - this.dampening);
        }
        if (this.nesterov) { g = g.add(buf.mul(this.momentum)); temps.push(g); } else g = buf;
      }
      p.add_(g, -this.lr);
      if (applied) { dirs.push(g); stepped.push(p); }
    }));
    // Every direction is final once its parameter has stepped: their norms in one native call.
    if (applied && dirs.length) {
      const r = statsMany(dirs);
      const K = STAT_FIELDS.length;
      stepped.forEach((p, k) => applied.set(p, this.lr * l2(fromRaw(r, k * K))));
    }
    for (const t of temps) t.dispose();
  }

  /** Momentum buffers by parameter index (for checkpoints). */
  stateTensors(): Map<string, Tensor> {
    const m = new Map<string, Tensor>();
    this.momentumBuffers.forEach((b, i) => { if (b) m.set(`momentum_buffer.${i}`, b); });
    return m;
  }
  loadStateTensors(m: ReadonlyMap<string, Tensor>): void {
    noGrad(() => this.params.forEach((p, i) => {
      const src = m.get(`momentum_buffer.${i}`);
      if (!src) return;
      const b = this.momentumBuffers[i] ?? keep(zeros(p.shape));
      b.copy_(src);
      this.momentumBuffers[i] = b;
    }));
  }
  dispose(): void { for (const b of this.momentumBuffers) b?.dispose(); }
}
