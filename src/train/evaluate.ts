// d2l's evaluate_accuracy_gpu: eval mode, no gradients, accuracy over a split.
import { noGrad, tidy } from '../torch/index.js';
import type { Module } from '../nn/index.js';
import type { BatchSource } from '../data/index.js';
import { batchTensors } from './batch.js';

export function evaluateAccuracy(net: Module, loader: BatchSource, side: number, scalePixels: boolean, device: string): number {
  const wasTraining = net.training;
  net.eval();
  let correct = 0;
  let n = 0;
  try {
    for (let i = 0; i < loader.numBatches; i++) {
      const b = loader.batch(0, i);
      correct += tidy(() => noGrad(() => {
        const { X, y } = batchTensors(b, side, scalePixels, device);
        return net.call(X).argmax(1).eq(y).sum().item();
      }));
      n += b.size;
    }
  } finally {
    net.train(wasTraining);
  }
  return correct / Math.max(1, n);
}
