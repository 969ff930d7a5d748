// d2l's ResNet-18 (8.6): b1 (7x7 conv, BN, ReLU, max-pool), four stages of two Residual blocks
// (the first of stages 2-4 halves the size through a 1x1 conv), global average pooling and a
// Linear. d2l trains it on Fashion-MNIST at 96x96, lr 0.05, batch 256.
import { Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Residual, AdaptiveAvgPool2d, Flatten, Linear } from '../nn/index.js';

export interface ResNetOptions { numClasses?: number }

/** d2l's resnet_block: num_residuals Residual blocks; all but the first stage start by halving. */
export function resnetBlock(inputChannels: number, numChannels: number, numResiduals: number, firstBlock = false): Residual[] {
  const blk: Residual[] = [];
  for (let i = 0; i < numResiduals; i++) {
    blk.push(i === 0 && !firstBlock ? new Residual(inputChannels, numChannels, { use1x1conv: true, strides: 2 }) : new Residual(numChannels, numChannels));
  }
  return blk;
}

export function resnet18(o: ResNetOptions = {}): Sequential {
  const b1 = new Sequential(new Conv2d(1, 64, 7, { stride: 2, padding: 3 }), new BatchNorm2d(64), new ReLU(), new MaxPool2d(3, 2, 1));
  const b2 = new Sequential(...resnetBlock(64, 64, 2, true));
  const b3 = new Sequential(...resnetBlock(64, 128, 2));
  const b4 = new Sequential(...resnetBlock(128, 256, 2));
  const b5 = new Sequential(...resnetBlock(256, 512, 2));
  return new Sequential(b1, b2, b3, b4, b5, new AdaptiveAvgPool2d([1, 1]), new Flatten(), new Linear(512, o.numClasses ?? 10));
}
