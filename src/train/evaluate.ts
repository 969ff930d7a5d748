// d2l's evaluate_accuracy_gpu: eval mode, no gradients, accuracy over a split.
import { noGrad, tidy } from '../torch/index.js';
import type { Module } from '../nn/index.js';
import type { DataLoader } from '../data/index.js';
import { batchTensors } from './batch.js';

export function evaluateAccuracy(net: Module, loader: DataLoader, scalePixels: boolean, device: string): number {
  const wasTraining = net.training;
  net.eval();
  let correct = 0;
  let n = 0;
  try {
    for (const b of loader.batches(0)) {
      correct += tidy(() => noGrad(() => {
        const { X, y } = batchTensors(b, loader.size, scalePixels, device);
        return net.call(X).argmax(1).eq(y).sum().item();
      }));
      n += b.size;
    }
  } finally {
    net.train(wasTraining);
  }
  return correct / Math.max(1, n);
}
