// torch.nn.init: in-place initialisers drawing from the global generator in PyTorch's order,
// so the same seed gives PyTorch's exact initial weights.
import { Tensor, noGrad } from '../torch/index.js';

export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  const s = t.shape;
  if (s.length < 2) throw new Error('fan in and fan out can not be computed for a tensor with fewer than 2 dimensions');
  const receptive = s.slice(2).reduce((a, b) => a * b, 1);
  return [s[1] * receptive, s[0] * receptive];
}

export type Nonlinearity = 'linear' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu';
export function calculateGain(nl: Nonlinearity, param?: number): number {
  switch (nl) {
    case 'linear': case 'conv2d': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': { const a = param ?? 0.01; return Math.sqrt(2 / (1 + a * a)); }
  }
}

export function uniform_(t: Tensor, a = 0, b = 1): Tensor { return noGrad(() => t.uniform_(a, b)); }
export function normal_(t: Tensor, mean = 0, std = 1): Tensor { return noGrad(() => t.normal_(mean, std)); }
export function zeros_(t: Tensor): Tensor { return noGrad(() => t.zero_()); }
export function constant_(t: Tensor, v: number): Tensor { return noGrad(() => t.fill_(v)); }

export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fi, fo] = calculateFanInAndFanOut(t);
  const a = gain * Math.sqrt(6 / (fi + fo));
  return uniform_(t, -a, a);
}
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const [fi, fo] = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fi + fo)));
}

export interface KaimingOptions { a?: number; mode?: 'fan_in' | 'fan_out'; nonlinearity?: Nonlinearity }
function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const [fi, fo] = calculateFanInAndFanOut(t);
  const fan = (o.mode ?? 'fan_in') === 'fan_in' ? fi : fo;
  return calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan);
}
export function kaimingUniform_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, o);
  return uniform_(t, -bound, bound);
}
export function kaimingNormal_(t: Tensor, o: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, o));
}
