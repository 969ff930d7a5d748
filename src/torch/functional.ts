// torch.nn.functional: the ops layers are made of. Argument order and defaults follow PyTorch.
import { native } from './native.js';
import { Tensor } from './tensor.js';

export type Pair = number | readonly [number, number];
const pair = (v: Pair): number[] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
const h = (t: Tensor | null | undefined) => (t ? t.handle : null);

export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return new Tensor(native.linear(x.handle, weight.handle, h(bias)));
}

export interface Conv2dOptions { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number }
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: Conv2dOptions = {}): Tensor {
  return new Tensor(native.conv2d(x.handle, weight.handle, h(bias), pair(o.stride ?? 1), pair(o.padding ?? 0),
    pair(o.dilation ?? 1), o.groups ?? 1));
}

export interface PoolOptions { stride?: Pair | null; padding?: Pair; dilation?: Pair; ceilMode?: boolean }
export function maxPool2d(x: Tensor, kernelSize: Pair, o: PoolOptions = {}): Tensor {
  return new Tensor(native.maxPool2d(x.handle, pair(kernelSize), pair(o.stride ?? kernelSize), pair(o.padding ?? 0),
    pair(o.dilation ?? 1), o.ceilMode ?? false));
}
export function avgPool2d(x: Tensor, kernelSize: Pair, o: PoolOptions & { countIncludePad?: boolean } = {}): Tensor {
  return new Tensor(native.avgPool2d(x.handle, pair(kernelSize), pair(o.stride ?? kernelSize), pair(o.padding ?? 0),
    o.ceilMode ?? false, o.countIncludePad ?? true));
}
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  return new Tensor(native.adaptiveAvgPool2d(x.handle, pair(outputSize)));
}

export function relu(x: Tensor): Tensor { return x.relu(); }
export function sigmoid(x: Tensor): Tensor { return x.sigmoid(); }
export function tanh(x: Tensor): Tensor { return x.tanh(); }
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p}`);
  return new Tensor(native.dropout(x.handle, p, training));
}
export function flatten(x: Tensor, startDim = 1, endDim = -1): Tensor { return x.flatten(startDim, endDim); }
export function logSoftmax(x: Tensor, dim: number): Tensor { return new Tensor(native.logSoftmax(x.handle, dim)); }
export function softmax(x: Tensor, dim: number): Tensor { return new Tensor(native.softmax(x.handle, dim)); }

export type Reduction = 'mean' | 'sum' | 'none';
/** Cross-entropy over logits (N, C) and int64 class indices (N), as F.cross_entropy. */
export function crossEntropy(logits: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return new Tensor(native.crossEntropy(logits.handle, target.handle, reduction));
}
export function nllLoss(logProbs: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return new Tensor(native.nllLoss(logProbs.handle, target.handle, reduction));
}
export function mseLoss(x: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return new Tensor(native.mseLoss(x.handle, target.handle, reduction));
}

/** F.batch_norm: running stats are updated in place when training (momentum weighs the new batch). */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight: Tensor | null,
  bias: Tensor | null, training = false, momentum = 0.1, eps = 1e-5): Tensor {
  return new Tensor(native.batchNorm(x.handle, h(weight), h(bias), h(runningMean), h(runningVar), training, momentum, eps));
}

export function interpolateBilinear(x: Tensor, size: Pair, alignCorners = false): Tensor {
  return new Tensor(native.upsampleBilinear(x.handle, pair(size), alignCorners));
}
