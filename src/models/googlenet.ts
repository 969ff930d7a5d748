// d2l's GoogLeNet (8.4): b1 (7x7 conv, max-pool), b2 (1x1 and 3x3 convs, max-pool), then nine
// Inception blocks in b3-b5 and global average pooling, as the book writes it. d2l trains it
// on Fashion-MNIST at 96x96, lr 0.1, batch 128 (the builds that printed `loss nan`).
import { Sequential, Conv2d, ReLU, MaxPool2d, Inception, AdaptiveAvgPool2d, Flatten, Linear } from '../nn/index.js';

export interface GoogLeNetOptions { numClasses?: number }

export function googlenet(o: GoogLeNetOptions = {}): Sequential {
  const b1 = new Sequential(new Conv2d(1, 64, 7, { stride: 2, padding: 3 }), new ReLU(), new MaxPool2d(3, 2, 1));
  const b2 = new Sequential(new Conv2d(64, 64, 1), new ReLU(), new Conv2d(64, 192, 3, { padding: 1 }), new ReLU(), new MaxPool2d(3, 2, 1));
  const b3 = new Sequential(new Inception(192, 64, [96, 128], [16, 32], 32), new Inception(256, 128, [128, 192], [32, 96], 64),
    new MaxPool2d(3, 2, 1));
  const b4 = new Sequential(new Inception(480, 192, [96, 208], [16, 48], 64), new Inception(512, 160, [112, 224], [24, 64], 64),
    new Inception(512, 128, [128, 256], [24, 64], 64), new Inception(512, 112, [144, 288], [32, 64], 64),
    new Inception(528, 256, [160, 320], [32, 128], 128), new MaxPool2d(3, 2, 1));
  const b5 = new Sequential(new Inception(832, 256, [160, 320], [32, 128], 128), new Inception(832, 384, [192, 384], [48, 128], 128),
    new AdaptiveAvgPool2d([1, 1]), new Flatten());
  return new Sequential(b1, b2, b3, b4, b5, new Linear(1024, o.numClasses ?? 10));
}
