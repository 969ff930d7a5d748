// The library's front doors to the diagnostics, for a training loop written by hand:
//   watch(net)         hooks every layer; begin() before a step, end() after its backward
//                      gives each layer's numbers (activations, gradients, weights, updates);
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
  constructor(net: Module) { this.probes = new Probes(net); }

  get layers(): WatchedLayer[] { return this.probes.layers.map(({ name, alias, kind }) => ({ name, alias, kind })); }

  /** Arms the hooks for the next forward and backward. */
  begin(o: { histograms?: boolean } = {}): void { this.probes.begin(true, o.histograms ?? false); }

  /** After backward: every layer's numbers. lr (the step's) gives the update ratios. */
  end(input: Tensor, o: { lr?: number } = {}): StepReading {
    const p = this.probes.end(input, o.lr ?? NaN);
    const layers = this.probes.layers.map((l) => {
      const row = p.values.subarray(l.index * NF, (l.index + 1) * NF);
      const values = Object.fromEntries(PROBE_FIELDS.map((f, i) => [f, row[i]])) as Record<ProbeField, number>;
      return { name: l.name, alias: l.alias, kind: l.kind, values };
    });
    const bad = p.firstForwardBad;
    return { layers, gradNorm: p.gradNorm, gradsFinite: p.gradsFinite, firstNonFiniteLayer: bad >= 0 ? this.probes.layers[bad].name : null,
      histograms: p.hist };
  }

  /** Ends a step that had no backward (e.g. the loss was already NaN). */
  abort(): void { this.probes.abort(); }

  /** Removes the hooks; the model runs unwatched again. */
  remove(): void { this.probes.remove(); }
}

export function watch(net: Module): Watch { return new Watch(net); }

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
