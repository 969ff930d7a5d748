// Small nets built from d2l's blocks, the same as test/oracle/d2l_nets.py SMALL: nested
// Sequentials (dotted paths like "1.0.conv1"), a residual add, Inception's concat, DenseNet's
// concat and transition. Used by the parity and locator tests.
import { Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, AdaptiveAvgPool2d, Flatten, Linear, Residual, Inception,
  DenseBlock, transitionBlock } from '../src/nn/index.js';

export function smallResnet(): Sequential {
  return new Sequential(
    new Sequential(new Conv2d(1, 8, 3, { padding: 1 }), new BatchNorm2d(8), new ReLU()),
    new Sequential(new Residual(8, 8), new Residual(8, 16, { use1x1conv: true, strides: 2 })),
    new AdaptiveAvgPool2d([1, 1]), new Flatten(), new Linear(16, 10));
}

export function smallInception(): Sequential {
  return new Sequential(
    new Sequential(new Conv2d(1, 8, 3, { padding: 1 }), new ReLU(), new MaxPool2d(3, 2, 1)),
    new Sequential(new Inception(8, 4, [4, 8], [2, 4], 4), new Inception(20, 6, [4, 6], [2, 2], 2)),
    new AdaptiveAvgPool2d([1, 1]), new Flatten(), new Linear(16, 10));
}

export function smallDensenet(): Sequential {
  return new Sequential(
    new Conv2d(1, 8, 3, { padding: 1 }),
    new DenseBlock(2, 8, 4), transitionBlock(16, 8),
    new BatchNorm2d(8), new ReLU(),
    new AdaptiveAvgPool2d([1, 1]), new Flatten(), new Linear(8, 10));
}

export const SMALL_NETS = { resnet: smallResnet, inception: smallInception, densenet: smallDensenet } as const;
export type SmallNet = keyof typeof SMALL_NETS;
