// The layers nanscope watches in a model of any shape, and what the diagnosis knows about
// each, decided in one place from the module itself. A layer is every module below the model
// (leaves and containers), in execution order, named by PyTorch's dotted path. The order is
// recorded when the forward hooks fire in one traced forward, so a residual block's bn1 comes
// before conv2 whatever order they were registered in, and a container's row follows its
// children's (its hook fires when its forward returns). Identity comes from the module: its
// class's alias prefix and activation, and whether it mixes its inputs through its own weight.
// The probes, the store, the verdict, the explanations and the dashboard read only this (or
// its stored copy).
import { zeros, noGrad, tidy } from '../torch/index.js';
import type { Band } from '../torch/stats.js';
import type { Module, ActivationKind } from '../nn/index.js';

export type { ActivationKind } from '../nn/index.js';

export interface LayerMeta {
  /** Execution index: the order the layer's forward finished in. Probe blobs use this order. */
  index: number;
  /** PyTorch dotted path ("features.3", "1.0.conv2"). */
  name: string;
  /** The enclosing module's path ('' is the model itself). */
  parent: string;
  /** Path segments: 1 for the model's own children. */
  depth: number;
  /** Module class, e.g. 'Conv2d', 'Residual'. */
  kind: string;
  /** Friendly name: the class's alias prefix numbered in execution order (conv1, fc2, residual1). */
  alias: string;
  /** Its own weight has rank >= 2 (conv kernel, linear matrix): the layers whose factors the chain rule multiplies. */
  hasWeight: boolean;
  /** The nonlinearity this layer applies (its class's), or null. */
  activation: ActivationKind | null;
  /** It normalizes by batch statistics (its class's: BatchNorm1d/2d, d2l's BatchNorm). */
  normalizes: boolean;
  /** Has no sub-modules. */
  leaf: boolean;
}
export interface LayerInfo extends LayerMeta {
  module: Module;
  /** Saturation band of its outputs (sigmoid, tanh). */
  band?: Band;
}

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

const parentOf = (path: string): string => (path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '');

const traced = new WeakMap<Module, { key: string; layers: LayerInfo[] }>();

/**
 * The model's layers in execution order, from one forward of a zero input of `inputShape`
 * (batch size 1) in eval mode without gradients: no dropout draw, no running-stat update, so
 * the trace changes nothing. Modules never called (d2l's DenseBlock calls its Sequential's
 * children itself) are not layers. Cached per model and input shape.
 */
export function traceLayers(net: Module, inputShape: readonly number[]): LayerInfo[] {
  const key = inputShape.slice(1).join('x');
  const hit = traced.get(net);
  if (hit && hit.key === key) return hit.layers;
  const order: [string, Module][] = [];
  const seen = new Set<Module>();
  const named = [...net.namedModules()].filter(([p]) => p !== '');
  const hooks = named.map(([path, m]) => m.registerForwardHook(() => { if (!seen.has(m)) { seen.add(m); order.push([path, m]); } }));
  const modes = [...net.namedModules()].map(([, m]) => [m, m.training] as const);
  try {
    net.eval();
    tidy(() => noGrad(() => { net.call(zeros([1, ...inputShape.slice(1)])); }));
  } finally {
    for (const [m, t] of modes) m.training = t;
    for (const h of hooks) h.remove();
  }
  const count = new Map<string, number>();
  const layers = order.map(([path, m], index): LayerInfo => {
    const prefix = m.aliasPrefix;
    const n = (count.get(prefix) ?? 0) + 1;
    count.set(prefix, n);
    const meta: LayerMeta = { index, name: path, parent: parentOf(path), depth: path.split('.').length, kind: m.kind,
      alias: `${prefix}${n}`, hasWeight: (m.ownWeight()?.ndim ?? 0) >= 2, activation: m.activationKind, normalizes: m.normalizes, leaf: m.children().length === 0 };
    return { ...meta, module: m, band: saturationBand(meta) };
  });
  traced.set(net, { key, layers });
  return layers;
}

/** The stored and reported part of each layer (no module, no band). */
export function layerMeta(layers: readonly LayerInfo[]): LayerMeta[] {
  return layers.map(({ module: _m, band: _b, ...meta }) => meta);
}

/**
 * Whether the net normalizes by batch statistics anywhere: BN added by --bn, or BN layers of its
 * own (d2l's ResNet and DenseNet, a model file's). Stored layers may lack the flag.
 */
export function netNormalizes(layers: readonly Partial<Pick<LayerMeta, 'normalizes'>>[], bn: string): boolean {
  return bn !== 'none' || layers.some((l) => l.normalizes === true);
}

/** The network's activation as a whole (what its explanations talk about). */
export function netActivation(layers: readonly Pick<LayerMeta, 'activation'>[]): ActivationKind | null {
  return layers.find((l) => l.activation !== null)?.activation ?? null;
}
