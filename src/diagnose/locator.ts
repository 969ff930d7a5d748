// The non-finite locator. Given a model and the batch of a bad step, it re-executes that step
// with everything watched and names the first place, in real execution order, where a NaN or
// Inf appeared: the pass, the aten op (forward) or autograd node (backward), and the innermost
// layer (dotted path) that ran it. The probes give per-layer numbers; the native watch
// (native/src/watch.cc) sees every op's outputs in forward and every node's gradients in
// backward, so an op that is no module (a residual add, Inception's cat, the sqrt inside a
// from-scratch batch norm) is named too. Forward and backward orders differ; that ordering is
// the whole point (anomaly mode can only see the backward one).
import { Tensor, stats, tidy } from '../torch/index.js';
import { native, type WatchEvent } from '../torch/native.js';
import { nonFinite, type TensorStats } from '../torch/stats.js';
import { crossEntropyLoss, type Module, type LossFn } from '../nn/index.js';
import { Probes, type StepHistograms } from './probes.js';
import type { LayerInfo } from './layers.js';
import type { NonFiniteReport, Pass, Counts } from './report.js';

const counts = (s: Counts): Counts => ({ nan: s.nan, posInf: s.posInf, negInf: s.negInf });

export type Origin = Omit<NonFiniteReport, 'step' | 'epoch' | 'batch' | 'trail' | 'explanation'>;

function at(l: LayerInfo | null, pass: Pass, op: string, tensor: string, c: Counts, detail: Record<string, number | string>): Origin {
  // Outside every layer: an op in the model's own forward (the model is the module with path '').
  if (!l) return { pass, layer: '', layerIndex: -1, layerKind: 'model', alias: 'model', op, tensor, counts: counts(c), detail };
  return { pass, layer: l.name, layerIndex: l.index, layerKind: l.kind, alias: l.alias, op, tensor, counts: counts(c), detail };
}

function paramStats(l: LayerInfo): { name: string; s: TensorStats; g: TensorStats | null }[] {
  return l.module.ownParameters().map(([name, p]) => {
    const g = p.grad;
    return { name, s: stats(p), g: g ? stats(g) : null };
  });
}

const lossKind = (f: LossFn): string => (f === crossEntropyLoss ? 'CrossEntropyLoss' : 'loss');

/** Module scope of the loss's ops (after the model's forward; -1 is the model's own forward). */
const LOSS_SCOPE = -2;
const scopeLayer = (probes: Probes, e: WatchEvent): LayerInfo | null => probes.layers[e.scope] ?? null;

function forwardOrigin(probes: Probes, e: WatchEvent, inputs: (TensorStats | null)[]): Origin {
  const l = scopeLayer(probes, e);
  const ps = l ? paramStats(l) : [];
  const fwd = l ? probes.forwardStats()[l.index] : null;
  const detail: Record<string, number | string> = { opStack: e.stack, opIndex: e.index,
    inputMaxAbs: l ? inputs[l.index]?.maxAbs ?? NaN : NaN, outputMaxAbsFinite: fwd?.maxAbs ?? NaN };
  for (const p of ps) detail[`${p.name}MaxAbs`] = p.s.maxAbs;
  const badParam = ps.find((p) => nonFinite(p.s) > 0);
  if (badParam) {
    detail.cause = `${badParam.name} holds non-finite values`;
    return at(l, 'forward', e.name, badParam.name, badParam.s, detail);
  }
  detail.cause = e.nan > 0 && e.posInf + e.negInf === 0 ? 'NaN from finite inputs (an invalid operation)' : 'overflow from finite inputs and weights';
  return at(l, 'forward', e.name, 'output', e, detail);
}

function backwardOrigin(probes: Probes, e: WatchEvent, gradOut: (TensorStats | null)[], loss: number, lossFn: LossFn): Origin {
  // A gradient reaching a parameter's accumulator: the layer owning that parameter.
  let l = scopeLayer(probes, e);
  let param: string | null = null;
  const accumulator = e.variable !== null;
  if (e.variable) {
    for (const cand of probes.layers) {
      const hit = cand.module.ownParameters().find(([, p]) => native.sameStorage(p.handle, e.variable!));
      if (hit) { l = cand; param = hit[0]; break; }
    }
    e.variable.dispose();
  }
  if (!l) {
    const where = e.scope === LOSS_SCOPE ? 'loss' : 'model';
    return { pass: 'backward', layer: where === 'loss' ? null : '', layerIndex: where === 'loss' ? probes.layers.length : -1,
      layerKind: where === 'loss' ? lossKind(lossFn) : 'model', alias: where, op: e.name, tensor: 'grad_input', counts: counts(e),
      detail: { loss, forwardOp: e.forwardOp ?? '', cause: e.inputsBad ? 'the gradient arrived non-finite' : 'produced by this node' } };
  }
  const ps = paramStats(l);
  const g = gradOut[l.index];
  const detail: Record<string, number | string> = { forwardOp: e.forwardOp ?? '', nodeIndex: e.index,
    gradOutNorm: g ? Math.sqrt(g.sumsq) : NaN, gradOutMaxAbs: g?.maxAbs ?? NaN,
    cause: e.inputsBad ? 'the gradient arrived non-finite (changed between nodes, e.g. by a hook)'
      : accumulator ? 'the gradient arrived finite at the accumulator: a hook on the parameter made it non-finite'
        : 'produced from finite gradients by this node' };
  for (const p of ps) detail[`${p.name}MaxAbs`] = p.s.maxAbs;
  const badGrad = param ?? ps.find((p) => p.g && nonFinite(p.g) > 0)?.name ?? null;
  return at(l, 'backward', e.name, badGrad ? `grad_${badGrad}` : 'grad_input', e, detail);
}

/**
 * Runs forward + backward of one batch (no update) under full instrumentation and returns the
 * origin of the first non-finite value, or null when the step is clean. The caller restores
 * the RNG state of the original step first, so dropout draws the same masks. onHist, when
 * given, receives the re-executed step's histograms (gradients only if backward ran): the
 * picture of the bad step itself, where the non-finite values sit in their own bin.
 */
export function locate(net: Module, X: Tensor, y: Tensor, onHist?: (h: StepHistograms) => void, lossFn: LossFn = crossEntropyLoss): Origin | null {
  const probes = new Probes(net, X.shape);
  try {
    return tidy(() => {
      const xs = stats(X);
      if (nonFinite(xs) > 0) {
        return { pass: 'input' as const, layer: null, layerIndex: -1, layerKind: 'input', alias: 'input', op: 'data loader',
          tensor: 'input', counts: counts(xs), detail: { inputMin: xs.min, inputMax: xs.max } };
      }
      for (const p of net.parameters()) p.grad = null;
      probes.trackScopes(true);
      probes.begin(true, onHist !== undefined);
      const giveHist = (): void => { const h = probes.histograms(); if (h && onHist) onHist(h); };
      native.watchForward(true);
      let out: Tensor, loss: Tensor;
      try {
        out = net.call(X);
        const fw = native.watchForwardResult().bad;
        if (fw) {
          giveHist();
          probes.abort();
          return forwardOrigin(probes, fw, probes.inputStats());
        }
        native.watchScope(LOSS_SCOPE);
        loss = lossFn(out, y);
      } finally {
        native.watchForward(false);
      }
      const lv = loss.item();
      if (!Number.isFinite(lv)) {
        giveHist();
        probes.abort();
        const last = probes.forwardStats()[probes.layers.length - 1];
        const e = native.watchForwardResult().bad;
        return { pass: 'loss' as const, layer: null, layerIndex: probes.layers.length, layerKind: lossKind(lossFn), alias: 'loss',
          op: e?.name ?? 'aten::cross_entropy_loss', tensor: 'loss',
          counts: { nan: Number.isNaN(lv) ? 1 : 0, posInf: lv === Infinity ? 1 : 0, negInf: lv === -Infinity ? 1 : 0 },
          detail: { loss: lv, logitsMaxAbs: last?.maxAbs ?? NaN, opStack: e?.stack ?? '' } };
      }
      native.watchBackward(loss.handle);
      loss.backward();
      const bw = native.watchBackwardResult().bad;
      giveHist();
      const { out: gout } = probes.readGrads();
      probes.abort();
      return bw ? backwardOrigin(probes, bw, gout, lv, lossFn) : null;
    });
  } finally {
    probes.trackScopes(false);
    probes.remove();
  }
}

/** After an SGD update: the first parameter (in execution order) that became non-finite. */
export function locateUpdate(net: Module, inputShape: readonly number[], lr: number): Origin | null {
  const probes = new Probes(net, inputShape);
  try {
    for (const l of probes.layers) {
      for (const p of paramStats(l)) {
        if (nonFinite(p.s) > 0) {
          return at(l, 'update', 'sgd update (p -= lr * grad)', p.name, p.s, { lr, gradMaxAbs: p.g?.maxAbs ?? NaN });
        }
      }
    }
    return null;
  } finally {
    probes.remove();
  }
}
