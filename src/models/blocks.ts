// The knobs every zoo model shares: which activation, and where batch normalization goes
// (after each conv/linear, before the activation, as d2l does for LeNet-BN and its modern CNNs).
import { Module, ReLU, Sigmoid, Tanh, BatchNorm, BatchNorm1d, BatchNorm2d } from '../nn/index.js';

export const ACTIVATIONS = ['relu', 'sigmoid', 'tanh'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const BN_MODES = ['none', 'scratch', 'builtin'] as const;
export type BNMode = (typeof BN_MODES)[number];

const LAYER: Record<Activation, () => Module> = { relu: () => new ReLU(), sigmoid: () => new Sigmoid(), tanh: () => new Tanh() };
export function activation(a: Activation): Module { return LAYER[a](); }

/** [] without BN, else d2l's from-scratch BatchNorm or PyTorch's BatchNorm1d/2d. */
export function bnLayer(mode: BNMode, features: number, dims: 2 | 4): Module[] {
  if (mode === 'none') return [];
  if (mode === 'scratch') return [new BatchNorm(features, dims)];
  return [dims === 4 ? new BatchNorm2d(features) : new BatchNorm1d(features)];
}

/** Output side of a conv or pool layer (PyTorch's floor arithmetic). */
export const convSide = (n: number, k: number, stride = 1, pad = 0): number => Math.floor((n + 2 * pad - k) / stride) + 1;
