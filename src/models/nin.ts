// d2l's NiN (8.3): nin_block = a conv then two 1x1 convs, each followed by ReLU; four blocks
// with max-pools between, dropout, and global average pooling over 10 channels instead of
// fully connected layers. d2l's Fashion-MNIST recipe: 224x224, lr 0.1, batch 128.
import { Sequential, Conv2d, MaxPool2d, Dropout, AdaptiveAvgPool2d, Flatten, type Module } from '../nn/index.js';
import { activation, bnLayer, convSide, type Activation, type BNMode } from './blocks.js';

export interface NiNOptions { resize?: number; activation?: Activation; bn?: BNMode; numClasses?: number }

export function ninBlock(inChannels: number, outChannels: number, kernelSize: number, strides: number, padding: number,
  act: Activation = 'relu', bn: BNMode = 'none'): Sequential {
  const conv = (c: Conv2d): Module[] => [c, ...bnLayer(bn, outChannels, 4), activation(act)];
  return new Sequential(
    ...conv(new Conv2d(inChannels, outChannels, kernelSize, { stride: strides, padding })),
    ...conv(new Conv2d(outChannels, outChannels, 1)),
    ...conv(new Conv2d(outChannels, outChannels, 1)),
  );
}

/** Side of the map entering the last NiN block (the first conv and three 3x3/2 max-pools). */
export function ninFeatureSide(s: number): number {
  let n = convSide(s, 11, 4, 0);
  for (let i = 0; i < 3; i++) n = convSide(n, 3, 2, 0); // the convs between keep the size
  return n;
}

export function nin(o: NiNOptions = {}): Sequential {
  const size = o.resize ?? 224;
  if (ninFeatureSide(size) < 1) throw new Error(`NiN needs a larger input than ${size}x${size}: its third max-pool would have no output`);
  const act = o.activation ?? 'relu';
  const bn = o.bn ?? 'none';
  return new Sequential(
    ninBlock(1, 96, 11, 4, 0, act, bn), new MaxPool2d(3, 2),
    ninBlock(96, 256, 5, 1, 2, act, bn), new MaxPool2d(3, 2),
    ninBlock(256, 384, 3, 1, 1, act, bn), new MaxPool2d(3, 2),
    new Dropout(0.5),
    // d2l: the last block has as many channels as classes; average pooling turns them into scores.
    ninBlock(384, o.numClasses ?? 10, 3, 1, 1, act, bn),
    new AdaptiveAvgPool2d([1, 1]),
    new Flatten(),
  );
}
