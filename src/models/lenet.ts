// d2l's LeNet (6.6) with sigmoid, and LeNet-BN (8.5): 28x28 inputs, trains in seconds on CPU.
// d2l's BN variant drops the first conv's padding (so the flatten is 16*4*4, not 16*5*5).
import { Sequential, Conv2d, Linear, AvgPool2d, Flatten } from '../nn/index.js';
import { activation, bnLayer, type Activation, type BNMode } from './blocks.js';

export interface LeNetOptions { activation?: Activation; bn?: BNMode; numClasses?: number }

export function lenet(o: LeNetOptions = {}): Sequential {
  const act = o.activation ?? 'sigmoid';
  const bn = o.bn ?? 'none';
  const pad = bn === 'none' ? 2 : 0;
  const flat = bn === 'none' ? 16 * 5 * 5 : 16 * 4 * 4;
  return new Sequential(
    new Conv2d(1, 6, 5, { padding: pad }), ...bnLayer(bn, 6, 4), activation(act), new AvgPool2d(2, 2),
    new Conv2d(6, 16, 5), ...bnLayer(bn, 16, 4), activation(act), new AvgPool2d(2, 2),
    new Flatten(),
    new Linear(flat, 120), ...bnLayer(bn, 120, 2), activation(act),
    new Linear(120, 84), ...bnLayer(bn, 84, 2), activation(act),
    new Linear(84, o.numClasses ?? 10),
  );
}
