// Probes: watch every layer of a module tree on a step (see layers.ts for what a layer is).
// Forward hooks reduce each output to a few numbers in one native pass; native autograd hooks
// do the same for the gradients while backward runs, with register_full_backward_hook's
// meaning: a layer's output gradient is the whole gradient of its output, its input gradient
// only what flows back through this layer (a pre-hook hands forward a fresh alias of the input
// and taps that, so a residual skip's second consumer does not leak in). Where the input is the
// output of the previous layer in a chain its parent declares sole-consumer (a plain
// Sequential's children, a Residual's conv1 -> bn1 and conv2 -> bn2: Module.soleConsumerChains),
// nothing else consumes it, so its whole gradient is this layer's input gradient: the tap goes
// on the tensor itself, without the alias and its autograd node (most layers of a stack). Parameters and their gradients are reduced after backward. Nothing is retained but numbers.
import { stats, isGradEnabled, type Tensor } from '../torch/index.js';
import { native } from '../torch/native.js';
import { fromRaw, l2, mean, std, nonFinite, histogram, tapStats, paramStats, HIST_BINS, type TensorStats } from '../torch/stats.js';
import type { Module, HookHandle } from '../nn/index.js';
import { PROBE_FIELDS, NF, FIELD } from './fields.js';
import { traceLayers, type LayerInfo } from './layers.js';
import { STAT_FIELDS } from '../torch/stats.js';
import { bnBuffers, bnDeviation, type BnDeviation } from './bn-stats.js';

/** Per slot: the stats, then the order the hook fired in (-1: never). */
const GRAD_SLOT = STAT_FIELDS.length + 1;

export interface ForwardRecord { layer: number; out: TensorStats; op: string | null }

/** What one step looked like, layer by layer (values: layers x PROBE_FIELDS). */
export interface StepProbe {
  values: Float32Array;
  input: TensorStats;
  /** First layer (execution order) whose output held NaN/Inf, or -1. */
  firstForwardBad: number;
  gradNorm: number;
  gradsFinite: boolean;
  /** Largest |parameter| and |gradient| seen: bounds whether the SGD update could overflow. */
  maxParam: number;
  maxGrad: number;
  /** On histogram steps: |x| counts per layer (layers x HIST_BINS, NaN rows where nothing was seen). */
  hist: StepHistograms | null;
}

/** |activation| of each layer's output and |gradient| arriving at it, binned (see HIST_BINS). */
export interface StepHistograms { act: Float64Array; grad: Float64Array }

/** The parameter whose norms fill w_norm, grad_w_norm and update_ratio (bias-like ones do not). */
const isWeightName = (name: string): boolean => name === 'weight' || name === 'gamma';

export class Probes {
  readonly layers: LayerInfo[];
  private hooks: HookHandle[] = [];
  private fwd: (TensorStats | null)[] = [];
  private inputs: (TensorStats | null)[] = [];
  private firstBad = -1;
  private active = false;
  private withGradHooks = true;
  private withHist = false;
  private actHist: Float64Array = new Float64Array(0);
  /** Set by the locator: module scopes are reported to the native op watch. */
  private scopes: number[] | null = null;
  /** Per layer: whether it is a BN layer, and this step's batch-statistics deviation. */
  private readonly isBn: boolean[];
  private bnDev: (BnDeviation | null)[] = [];
  /** Per layer: the layer whose output is this layer's input and goes nowhere else (-1: none);
   *  its gradient there is the whole gradient of that output, already measured in that slot. */
  private inFrom: number[] = [];
  private outProbed: boolean[] = [];
  /** Every layer's own parameters, flattened in layer order (read in one native call after backward). */
  private readonly owned: { layer: number; weight: boolean; p: Tensor }[];
  /** Each layer's weight-like parameter (the one update_ratio is about), or null. */
  private readonly weightOf: (Tensor | null)[];
  /** Per layer: the layer before it in a declared sole-consumer chain (whose output only it consumes), or -1. */
  private readonly fedBy: number[];
  /** The last output a forward hook saw this step, and its layer. */
  private lastOut: Tensor | null = null;
  private lastOutLayer = -1;

  /** inputShape: the model's input (any batch size); one traced forward finds the layers. */
  constructor(readonly net: Module, inputShape: readonly number[]) {
    this.layers = traceLayers(net, inputShape);
    this.isBn = this.layers.map((l) => bnBuffers(l.module) !== null);
    this.owned = this.layers.flatMap((l) => l.module.ownParameters().map(([name, p]) => ({ layer: l.index, weight: isWeightName(name), p })));
    this.weightOf = this.layers.map((l) => this.owned.find((o) => o.layer === l.index && o.weight)?.p ?? null);
    this.fedBy = feeders(net, this.layers);
    for (const l of this.layers) {
      this.hooks.push(l.module.registerForwardPreHook((_m, x) => this.onEnter(l.index, x)));
      this.hooks.push(l.module.registerForwardHook((_m, _x, y) => this.onForward(l.index, y)));
    }
  }
  get fields(): readonly string[] { return PROBE_FIELDS; }

  private onEnter(i: number, x: Tensor): Tensor | void {
    if (!this.active) return;
    // Training mode as each BN decides it (the built-in: module.training; d2l's: grad mode): read the running
    // buffers before this forward updates them.
    const bn = this.isBn[i] && this.layers[i].module.training && isGradEnabled() ? bnBuffers(this.layers[i].module) : null;
    if (bn) this.bnDev[i] = bnDeviation(x, bn.mean, bn.var, bn.eps);
    if (this.scopes) {
      this.scopes.push(i);
      native.watchScope(i);
      this.inputs[i] = stats(x);
    }
    if (this.withGradHooks && x.requiresGrad) {
      const prev = this.fedBy[i];
      // Only this layer consumes x, unless a hook other than ours on the feeding layer reads its output.
      if (prev >= 0 && this.lastOutLayer === prev && this.lastOut === x && this.layers[prev].module.forwardHookCount === 1) {
        // x is prev's output, consumed here alone, and onForward already probes its gradient
        // (prev's out slot): a second hook would measure the same tensor again (LeNet: 11 of
        // 12 inputs, ~3.7 M floats a step).
        if (x.requiresGrad && this.outProbed[prev]) { this.inFrom[i] = prev; return; }
        native.gradProbe(x.handle, this.layers.length + i, false);
        return;
      }
      const tap = x.alias();
      native.gradProbe(tap.handle, this.layers.length + i, false);
      return tap;
    }
  }

  private onForward(i: number, y: Tensor): void {
    if (!this.active) return;
    if (this.scopes) { this.scopes.pop(); native.watchScope(this.scopes[this.scopes.length - 1] ?? -1); }
    this.lastOut = y;
    this.lastOutLayer = i;
    const s = tapStats(y, this.layers[i].band);
    this.fwd[i] = s;
    if (this.withHist) this.actHist.set(histogram(y), i * HIST_BINS);
    if (this.firstBad < 0 && nonFinite(s) > 0) this.firstBad = i;
    if (this.withGradHooks && y.requiresGrad) { native.gradProbe(y.handle, i); this.outProbed[i] = true; }
  }

  /** The locator's mode: report which layer is running to the native op watch (watchForward), record inputs. */
  trackScopes(on: boolean): void { this.scopes = on ? [] : null; }

  /**
   * Arms the hooks for the next forward (gradHooks=false: forward numbers only, e.g. eval;
   * hist: also bin every activation and gradient, for the dashboard's histograms).
   */
  begin(gradHooks = true, hist = false): void {
    this.active = true;
    this.withGradHooks = gradHooks;
    this.withHist = hist;
    this.actHist = new Float64Array(hist ? this.layers.length * HIST_BINS : 0).fill(NaN);
    native.setGradHist(hist && gradHooks);
    this.firstBad = -1;
    this.lastOut = null;
    this.lastOutLayer = -1;
    this.fwd = this.layers.map(() => null);
    this.inputs = this.layers.map(() => null);
    this.bnDev = this.layers.map(() => null);
    this.inFrom = this.layers.map(() => -1);
    this.outProbed = this.layers.map(() => false);
    if (this.scopes) this.scopes = [];
    native.readGradProbes(2 * this.layers.length); // clear stale slots
  }

  forwardStats(): (TensorStats | null)[] { return this.fwd; }
  /** Each layer's input in the last forward (recorded only while trackScopes is on). */
  inputStats(): (TensorStats | null)[] { return this.inputs; }
  get firstForwardBad(): number { return this.firstBad; }

  /**
   * Gradient stats from the last backward, per layer: at its output (out) and at its input
   * through this layer only (in); null where no gradient arrived.
   */
  readGrads(): { out: (TensorStats | null)[]; in: (TensorStats | null)[] } {
    const L = this.layers.length;
    const raw = native.readGradProbes(2 * L);
    const at = (k: number) => (raw[k * GRAD_SLOT + GRAD_SLOT - 1] < 0 ? null : fromRaw(raw, k * GRAD_SLOT));
    const out = this.layers.map((_, i) => at(i));
    return { out, in: this.layers.map((_, i) => (this.inFrom[i] >= 0 ? out[this.inFrom[i]] : at(L + i))) };
  }

  private disarmHist(): void {
    this.withHist = false;
    native.setGradHist(false);
  }

  /** This step's histograms so far (when armed with hist): call before end/abort/readGradOuts. */
  histograms(): StepHistograms | null {
    return this.withHist ? { act: this.actHist.slice(), grad: native.readGradHists(this.layers.length) } : null;
  }

  /** Finishes the step after backward: assembles the per-layer record (update ratios come after the update: updateRatios). */
  end(input: Tensor): StepProbe {
    this.active = false;
    const L = this.layers.length;
    const v = new Float32Array(L * NF).fill(NaN);
    const hist = this.histograms();
    this.disarmHist();
    const { out: gout, in: gins } = this.readGrads();
    let sumsq = 0;
    let finite = true;
    let maxParam = 0;
    let maxGrad = 0;
    for (const l of this.layers) {
      const o = l.index * NF;
      const a = this.fwd[l.index];
      if (a) {
        v[o + FIELD.act_mean] = mean(a);
        v[o + FIELD.act_std] = std(a);
        v[o + FIELD.act_max] = a.maxAbs;
        v[o + FIELD.act_zero_frac] = a.zeros / Math.max(1, a.numel);
        if (l.band) v[o + FIELD.act_sat_frac] = a.sat / Math.max(1, a.numel);
        v[o + FIELD.act_nonfinite] = nonFinite(a);
      }
      const d = this.bnDev[l.index];
      if (d) { v[o + FIELD.bn_mean_dev] = d.meanDev; v[o + FIELD.bn_var_dev] = d.varDev; v[o + FIELD.bn_mean_noise] = d.meanNoise; v[o + FIELD.bn_var_noise] = d.varNoise; }
      const g = gout[l.index];
      if (g) { v[o + FIELD.grad_out_norm] = l2(g); v[o + FIELD.grad_nonfinite] = nonFinite(g); }
      const gin = gins[l.index];
      if (gin) v[o + FIELD.grad_in_norm] = l2(gin);
    }
    const ps = paramStats(this.owned.map((e) => e.p));
    this.owned.forEach(({ layer, weight }, k) => {
      const o = layer * NF;
      const { param, grad } = ps[k];
      let pBad = nonFinite(param);
      maxParam = Math.max(maxParam, param.maxAbs);
      if (grad) {
        sumsq += grad.sumsq;
        maxGrad = Math.max(maxGrad, grad.maxAbs);
        if (nonFinite(grad) > 0) { finite = false; pBad += nonFinite(grad); }
      }
      if (weight) {
        v[o + FIELD.w_norm] = l2(param);
        if (grad) v[o + FIELD.grad_w_norm] = l2(grad);
      } else if (grad) v[o + FIELD.grad_b_norm] = l2(grad);
      v[o + FIELD.param_nonfinite] = (Number.isNaN(v[o + FIELD.param_nonfinite]) ? 0 : v[o + FIELD.param_nonfinite]) + pBad;
    });
    return { values: v, input: stats(input), firstForwardBad: this.firstBad, gradNorm: finite ? Math.sqrt(sumsq) : Infinity,
      gradsFinite: finite, maxParam, maxGrad, hist };
  }

  /**
   * Fills update_ratio = |update applied| / |weight before it| into a record from end(), once the
   * optimizer has stepped (applied: from SGD.step; after clipping and momentum, not lr * |grad|).
   */
  updateRatios(values: Float32Array, applied: ReadonlyMap<Tensor, number>): void {
    for (const l of this.layers) {
      const w = this.weightOf[l.index];
      const u = w ? applied.get(w) : undefined;
      if (u === undefined) continue;
      const o = l.index * NF;
      values[o + FIELD.update_ratio] = u / Math.max(values[o + FIELD.w_norm], 1e-30);
    }
  }

  /** Stops a step without a backward (the loss was already bad). */
  abort(): void {
    this.active = false;
    this.disarmHist();
    native.readGradProbes(2 * this.layers.length);
  }

  remove(): void { for (const h of this.hooks) h.remove(); this.hooks = []; }
}

/**
 * For each layer, the layer whose output is its only input source by construction: its
 * predecessor in a chain its parent declares (Module.soleConsumerChains: a Sequential running
 * the stock forward, a Residual's conv1 -> bn1 and conv2 -> bn2). -1 elsewhere: first children,
 * inputs that also feed something else (a residual block's input, Inception's four branches,
 * DenseBlock's concatenations), the model's own input.
 */
function feeders(net: Module, layers: readonly LayerInfo[]): number[] {
  const indexOf = new Map(layers.map((l) => [l.module, l.index]));
  const feeds = new Map<Module, number>();
  for (const [, m] of net.namedModules()) {
    for (const chain of m.soleConsumerChains()) {
      chain.forEach((c, k) => { if (k > 0 && indexOf.has(chain[k - 1]) && !feeds.has(c)) feeds.set(c, indexOf.get(chain[k - 1])!); });
    }
  }
  return layers.map((l) => feeds.get(l.module) ?? -1);
}

/** Global gradient check without per-layer probes: one stats pass per parameter. */
export function gradientSummary(params: readonly Tensor[]): { norm: number; finite: boolean; maxAbs: number } {
  let sumsq = 0;
  let finite = true;
  let maxAbs = 0;
  for (const p of params) {
    const g = p.grad;
    if (!g) continue;
    const s = stats(g);
    sumsq += s.sumsq;
    maxAbs = Math.max(maxAbs, s.maxAbs);
    if (nonFinite(s) > 0) finite = false;
  }
  return { norm: finite ? Math.sqrt(sumsq) : Infinity, finite, maxAbs };
}
