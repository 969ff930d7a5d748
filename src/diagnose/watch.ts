// The library's front doors to the diagnostics, for a training loop written by hand:
//   watch(net, shape)  hooks every layer (every module of the tree, found by one traced forward
//                      of an input of that shape); begin() before a step, end() after its backward
//                      gives each layer's numbers (activations, gradients, weights), and
//                      updated(applied) after opt.step(applied) adds the update ratios;
//   locateStep(...)    re-executes one step of a batch under full watch and reports where the
//                      first NaN/Inf appeared (pass, layer, op, tensor), explained in en and zh.
// Thin by design: the Trainer runs the same Probes and locator on every step.
import type { Tensor } from '../torch/index.js';
import type { Module, LossFn } from '../nn/index.js';
import { Probes, type StepHistograms } from './probes.js';
import { locate } from './locator.js';
import { explain } from './explain.js';
import { PROBE_FIELDS, NF, type ProbeField } from './fields.js';
import type { NonFiniteReport } from './report.js';

export interface WatchedLayer { name: string; alias: string; kind: string }

/** One layer on one step; NaN where a field does not apply (a ReLU has no weight). */
export interface LayerReading extends WatchedLayer { values: Record<ProbeField, number> }

export interface StepReading {
  layers: LayerReading[];
  /** Global gradient norm (Infinity when a gradient is non-finite). */
  gradNorm: number;
  gradsFinite: boolean;
  /** The first layer, in execution order, whose output held NaN/Inf in the forward pass. */
  firstNonFiniteLayer: string | null;
  /** |activation| and |gradient| histograms per layer, when begin({ histograms: true }). */
  histograms: StepHistograms | null;
}

export class Watch {
  private readonly probes: Probes;
  private last: { reading: StepReading; values: Float32Array } | null = null;
  /** inputShape: the model's input, e.g. [1, 1, 28, 28] (the batch size does not matter). */
  constructor(net: Module, inputShape: readonly number[]) { this.probes = new Probes(net, inputShape); }

  get layers(): WatchedLayer[] { return this.probes.layers.map(({ name, alias, kind }) => ({ name, alias, kind })); }

  /** Arms the hooks for the next forward and backward. */
  begin(o: { histograms?: boolean } = {}): void { this.probes.begin(true, o.histograms ?? false); }

  /** After backward: every layer's numbers (update_ratio is NaN until updated()). */
  end(input: Tensor): StepReading {
    const p = this.probes.end(input);
    const layers = this.probes.layers.map((l) => ({ name: l.name, alias: l.alias, kind: l.kind, values: this.row(p.values, l.index) }));
    const bad = p.firstForwardBad;
    const reading = { layers, gradNorm: p.gradNorm, gradsFinite: p.gradsFinite, firstNonFiniteLayer: bad >= 0 ? this.probes.layers[bad].name : null,
      histograms: p.hist };
    this.last = { reading, values: p.values };
    return reading;
  }

  /**
   * After `opt.step(applied)` (applied: a Map SGD fills with each parameter's |update|): puts
   * update_ratio = |update| / |weight| into the last reading's layers, and returns it.
   */
  updated(applied: ReadonlyMap<Tensor, number>): StepReading {
    if (!this.last) throw new Error('Watch.updated: call end() after backward first');
    const { reading, values } = this.last;
    this.probes.updateRatios(values, applied);
    reading.layers.forEach((l, i) => { l.values.update_ratio = values[i * NF + PROBE_FIELDS.indexOf('update_ratio')]; });
    return reading;
  }

  private row(values: Float32Array, i: number): Record<ProbeField, number> {
    const r = values.subarray(i * NF, (i + 1) * NF);
    return Object.fromEntries(PROBE_FIELDS.map((f, j) => [f, r[j]])) as Record<ProbeField, number>;
  }

  /** Ends a step that had no backward (e.g. the loss was already NaN). */
  abort(): void { this.probes.abort(); }

  /** Removes the hooks; the model runs unwatched again. */
  remove(): void { this.probes.remove(); }
}

export function watch(net: Module, inputShape: readonly number[]): Watch { return new Watch(net, inputShape); }

export interface LocateOptions {
  /** The step's loss; default cross-entropy. */
  loss?: LossFn;
  /** Step number to put in the report. */
  step?: number;
}

/**
 * Runs forward and backward of (X, y) without updating and returns the report of the first
 * non-finite value, or null when the step is clean. A net with dropout draws new masks:
 * restore the step's RNG state first (torch.setRngState) to re-execute exactly that step.
 */
export function locateStep(net: Module, X: Tensor, y: Tensor, o: LocateOptions = {}): NonFiniteReport | null {
  const origin = locate(net, X, y, undefined, o.loss);
  if (!origin) return null;
  const body = { ...origin, step: o.step ?? 0, epoch: 0, batch: 0, trail: { steps: [], actMax: [], gradNorm: [], loss: [], globalGradNorm: [] } };
  return { ...body, explanation: explain(body) };
}
