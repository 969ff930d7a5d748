// What the diagnosis needs to know about each probed layer, decided in one place from the
// module itself: its name and alias, its kind, whether it mixes its inputs through a weight
// (conv, linear), and which activation it applies. The verdict, the explanations and the
// early warning read only this, so a new way of listing layers (module trees, dotted paths)
// changes layerMeta() and nothing downstream.
import type { Module } from '../nn/index.js';
import type { Band } from '../torch/stats.js';
import { layerAliases } from './fields.js';

export type ActivationKind = 'relu' | 'sigmoid' | 'tanh';

export interface LayerMeta {
  name: string;
  alias: string;
  kind: string;
  /** A weight of rank >= 2 (conv kernel, linear matrix): the layers whose factors the chain rule multiplies. */
  hasWeight: boolean;
  /** The nonlinearity this layer applies, or null. */
  activation: ActivationKind | null;
}

const ACTIVATION_OF: Record<string, ActivationKind> = { ReLU: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh' };

/**
 * A saturating unit passes back at most this fraction of the gradient the same unit passes at
 * its steepest point: sigmoid' = y(1-y) <= 0.01 x 0.25, tanh' = 1-y^2 <= 0.01 x 1. The bands
 * below are those outputs, solved for y (a hundredfold loss per layer is what "saturated" means
 * here, not a tuned number).
 */
export const SATURATION_SLOPE = 0.01;
const sigLo = (1 - Math.sqrt(1 - SATURATION_SLOPE)) / 2;
const tanhHi = Math.sqrt(1 - SATURATION_SLOPE);
export const SATURATION_BAND: Record<'sigmoid' | 'tanh', Band> = {
  sigmoid: { lo: sigLo, hi: 1 - sigLo },
  tanh: { lo: -tanhHi, hi: tanhHi },
};

/** The band a layer's outputs saturate outside of, or undefined (ReLU and linear layers do not saturate). */
export function saturationBand(m: Pick<LayerMeta, 'activation'>): Band | undefined {
  return m.activation === 'sigmoid' || m.activation === 'tanh' ? SATURATION_BAND[m.activation] : undefined;
}

export const saturates = (m: Pick<LayerMeta, 'activation'>): boolean => saturationBand(m) !== undefined;

function hasWeight(m: Module): boolean {
  return m.ownParameters().some(([n, p]) => n === 'weight' && p.ndim >= 2);
}

/** The metadata of each child of a Sequential, in execution order. */
export function layerMeta(children: readonly (readonly [string, Module])[]): LayerMeta[] {
  const aliases = layerAliases(children.map(([, m]) => m.kind));
  return children.map(([name, m], i) => ({ name, alias: aliases[i], kind: m.kind, hasWeight: hasWeight(m), activation: ACTIVATION_OF[m.kind] ?? null }));
}

/** The network's activation as a whole (what its explanations talk about). */
export function netActivation(layers: readonly Pick<LayerMeta, 'activation'>[]): ActivationKind | null {
  return layers.find((l) => l.activation !== null)?.activation ?? null;
}
