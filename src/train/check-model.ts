// Before a run starts on a network nanscope did not build (a model file, a Module from code):
// one forward of the first two training images, in eval mode without gradients (no dropout
// draw, no BN statistics update, so the run's RNG stream and weights are untouched). A shape
// mistake then reads as one sentence about the user's model, not as a libtorch trace at step 1.
import { noGrad, tidy } from '../torch/index.js';
import type { Module } from '../nn/index.js';
import type { Batch } from '../data/index.js';
import { ModelError } from '../models/file.js';
import { batchTensors } from './batch.js';

export function checkFirstBatch(net: Module, b: Batch, o: { side: number; scalePixels: boolean; device: string; label: string; classes: number | null }): void {
  const n = Math.min(2, b.size);
  const rr = o.side * o.side;
  const shape = `[${n}, 1, ${o.side}, ${o.side}]`;
  const wasTraining = net.training;
  net.eval();
  try {
    tidy(() => noGrad(() => {
      const { X } = batchTensors({ pixels: b.pixels.subarray(0, n * rr), labels: b.labels.subarray(0, n), size: n }, o.side, o.scalePixels, o.device);
      let out;
      try {
        out = net.call(X);
      } catch (e) {
        throw new ModelError(`${o.label} failed on the first batch (input ${shape}): ${e instanceof Error ? e.message : String(e)}`);
      }
      const s = out.shape;
      if (o.classes !== null && (s.length !== 2 || s[0] !== n || s[1] < o.classes)) {
        throw new ModelError(`${o.label} maps the first batch (input ${shape}) to [${s.join(', ')}]; cross-entropy needs [${n}, ${o.classes}] (one score per class)`);
      }
    }));
  } finally {
    net.train(wasTraining);
  }
}
