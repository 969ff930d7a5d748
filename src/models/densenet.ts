// d2l's DenseNet (8.7): ResNet's b1, four DenseBlocks of 4 conv_blocks (growth rate 32) with
// transition blocks halving channels and size between them, then BN, ReLU, global average
// pooling and a Linear. d2l trains it on Fashion-MNIST at 96x96, lr 0.1, batch 256.
import { Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, DenseBlock, transitionBlock, AdaptiveAvgPool2d, Flatten, Linear, type Module } from '../nn/index.js';
import { convSide } from './blocks.js';

export interface DenseNetOptions { numClasses?: number }

/** Side after b1 and the three transition blocks' 2x2 average pools. */
export function densenetFeatureSide(s: number): number {
  let n = convSide(convSide(s, 7, 2, 3), 3, 2, 1);
  for (let i = 0; i < 3; i++) n = Math.floor(n / 2);
  return n;
}

export function densenet(o: DenseNetOptions = {}): Sequential {
  const b1 = new Sequential(new Conv2d(1, 64, 7, { stride: 2, padding: 3 }), new BatchNorm2d(64), new ReLU(), new MaxPool2d(3, 2, 1));
  let numChannels = 64;
  const growthRate = 32;
  const numConvsInDenseBlocks = [4, 4, 4, 4];
  const blks: Module[] = [];
  numConvsInDenseBlocks.forEach((numConvs, i) => {
    blks.push(new DenseBlock(numConvs, numChannels, growthRate));
    numChannels += numConvs * growthRate;
    if (i !== numConvsInDenseBlocks.length - 1) {
      blks.push(transitionBlock(numChannels, Math.floor(numChannels / 2)));
      numChannels = Math.floor(numChannels / 2);
    }
  });
  return new Sequential(b1, ...blks, new BatchNorm2d(numChannels), new ReLU(), new AdaptiveAvgPool2d([1, 1]), new Flatten(), new Linear(numChannels, o.numClasses ?? 10));
}
