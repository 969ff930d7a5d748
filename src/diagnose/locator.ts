// The non-finite locator. Given a model and the batch of a bad step, it re-executes that step
// with every layer watched (forward outputs, the gradient each layer's backward produced, the
// parameters and their gradients) and names the earliest place in execution order where a
// NaN or Inf appeared. Forward runs layer 0 -> N, backward N -> 0, so "earliest" differs per
// pass; that ordering is the whole point (anomaly mode can only see the backward one).
import { Tensor, stats, tidy } from '../torch/index.js';
import { nonFinite, type TensorStats } from '../torch/stats.js';
import { crossEntropyLoss, type Module, type LossFn } from '../nn/index.js';
import { Probes, type LayerInfo, type StepHistograms } from './probes.js';
import type { NonFiniteReport, Pass, Counts } from './report.js';

export const FORWARD_OP: Record<string, string> = {
  Conv2d: 'conv2d', Linear: 'linear (addmm)', ReLU: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh', MaxPool2d: 'max_pool2d',
  AvgPool2d: 'avg_pool2d', Dropout: 'dropout', Flatten: 'flatten', BatchNorm2d: 'batch_norm', BatchNorm1d: 'batch_norm',
  BatchNorm: 'batch_norm (from scratch: mean, var, sub, div, sqrt)',
};

const counts = (s: TensorStats): Counts => ({ nan: s.nan, posInf: s.posInf, negInf: s.negInf });

export type Origin = Omit<NonFiniteReport, 'step' | 'epoch' | 'batch' | 'trail' | 'explanation'>;

function at(l: LayerInfo, pass: Pass, op: string, tensor: string, c: Counts, detail: Record<string, number | string>): Origin {
  return { pass, layer: l.name, layerIndex: l.index, layerKind: l.kind, alias: l.alias, op, tensor, counts: c, detail };
}

function paramStats(l: LayerInfo): { name: string; s: TensorStats; g: TensorStats | null }[] {
  return l.module.ownParameters().map(([name, p]) => {
    const g = p.grad;
    return { name, s: stats(p), g: g ? stats(g) : null };
  });
}

/**
 * Runs forward + backward of one batch (no update) under full instrumentation and returns the
 * origin of the first non-finite value, or null when the step is clean. The caller restores
 * the RNG state of the original step first, so dropout draws the same masks. onHist, when
 * given, receives the re-executed step's histograms (gradients only if backward ran): the
 * picture of the bad step itself, where the non-finite values sit in their own bin.
 */
export function locate(net: Module, X: Tensor, y: Tensor, onHist?: (h: StepHistograms) => void, lossFn: LossFn = crossEntropyLoss): Origin | null {
  const probes = new Probes(net);
  try {
    return tidy(() => {
      const xs = stats(X);
      if (nonFinite(xs) > 0) {
        return { pass: 'input' as const, layer: null, layerIndex: -1, layerKind: 'input', alias: 'input', op: 'data loader',
          tensor: 'input', counts: counts(xs), detail: { inputMin: xs.min, inputMax: xs.max } };
      }
      for (const p of net.parameters()) p.grad = null;
      probes.begin(true, onHist !== undefined);
      const out = net.call(X);
      const fwd = probes.forwardStats();
      const bad = probes.firstForwardBad;
      const giveHist = (): void => { const h = probes.histograms(); if (h && onHist) onHist(h); };
      if (bad >= 0) {
        giveHist();
        probes.abort();
        const l = probes.layers[bad];
        const prev = bad > 0 ? fwd[bad - 1] : xs;
        const ps = paramStats(l);
        const badParam = ps.find((p) => nonFinite(p.s) > 0);
        const detail: Record<string, number | string> = { inputMaxAbs: prev?.maxAbs ?? NaN, outputMaxAbsFinite: fwd[bad]!.maxAbs };
        for (const p of ps) detail[`${p.name}MaxAbs`] = p.s.maxAbs;
        if (badParam) {
          detail.cause = `${badParam.name} holds non-finite values`;
          return at(l, 'forward', FORWARD_OP[l.kind] ?? l.kind, badParam.name, counts(badParam.s), detail);
        }
        detail.cause = 'overflow from finite inputs and weights';
        return at(l, 'forward', FORWARD_OP[l.kind] ?? l.kind, 'output', counts(fwd[bad]!), detail);
      }
      const loss = lossFn(out, y);
      const lv = loss.item();
      if (!Number.isFinite(lv)) {
        giveHist();
        probes.abort();
        const last = fwd[fwd.length - 1];
        return { pass: 'loss' as const, layer: null, layerIndex: probes.layers.length, layerKind: 'CrossEntropyLoss', alias: 'loss',
          op: 'cross_entropy (log_softmax + nll_loss)', tensor: 'loss',
          counts: { nan: Number.isNaN(lv) ? 1 : 0, posInf: lv === Infinity ? 1 : 0, negInf: lv === -Infinity ? 1 : 0 },
          detail: { loss: lv, logitsMaxAbs: last?.maxAbs ?? NaN } };
      }
      const ops = probes.outputOps();
      loss.backward();
      giveHist();
      const gout = probes.readGradOuts();
      probes.abort();
      const L = probes.layers.length;
      // Backward execution order: the loss first, then layers from last to first.
      const lastOut = gout[L - 1];
      if (lastOut && nonFinite(lastOut) > 0) {
        return { pass: 'backward' as const, layer: null, layerIndex: L, layerKind: 'CrossEntropyLoss', alias: 'loss',
          op: loss.gradFn ?? 'NllLossBackward0', tensor: 'grad_logits', counts: counts(lastOut), detail: { loss: lv } };
      }
      for (let i = L - 1; i >= 0; i--) {
        const l = probes.layers[i];
        const ps = paramStats(l);
        const op = ops[i] ?? `${l.kind} backward`;
        const detail: Record<string, number | string> = { gradOutNorm: gout[i] ? Math.sqrt(gout[i]!.sumsq) : NaN, gradOutMaxAbs: gout[i]?.maxAbs ?? NaN };
        for (const p of ps) detail[`${p.name}MaxAbs`] = p.s.maxAbs;
        const badGrad = ps.find((p) => p.g && nonFinite(p.g) > 0);
        if (badGrad) return at(l, 'backward', op, `grad_${badGrad.name}`, counts(badGrad.g!), detail);
        const gin = i > 0 ? gout[i - 1] : null;
        if (gin && nonFinite(gin) > 0) return at(l, 'backward', op, 'grad_input', counts(gin), detail);
      }
      return null;
    });
  } finally {
    probes.remove();
  }
}

/** After an SGD update: the first parameter (in model order) that became non-finite. */
export function locateUpdate(net: Module, lr: number): Origin | null {
  const probes = new Probes(net);
  try {
    for (const l of probes.layers) {
      for (const p of paramStats(l)) {
        if (nonFinite(p.s) > 0) {
          return at(l, 'update', 'sgd update (p -= lr * grad)', p.name, counts(p.s), { lr, gradMaxAbs: p.g?.maxAbs ?? NaN });
        }
      }
    }
    return null;
  } finally {
    probes.remove();
  }
}
