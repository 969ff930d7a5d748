// From the loader's uint8 batch to tensors: one copy into native memory, then d2l's ToTensor
// (float, divide by 255) as two native passes, the division in place on the fresh float copy
// (bitwise the same as out of place; measured 10x faster for a 600 MB batch, which no longer
// needs a second buffer). No per-pixel work in JS.
import { tensor, tidy, type Tensor } from '../torch/index.js';
import type { Batch } from '../data/index.js';

export function batchTensors(b: Pick<Batch, 'pixels' | 'labels' | 'size'>, side: number, scalePixels: boolean, device: string): { X: Tensor; y: Tensor } {
  return tidy(() => {
    const raw = tensor(b.pixels, [b.size, 1, side, side], { device });
    const X = scalePixels ? raw.float().div_(255) : raw.float();
    const y = tensor(b.labels, [b.size], { dtype: 'int64', device });
    return { X, y };
  });
}
