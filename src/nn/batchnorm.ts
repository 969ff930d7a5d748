// Batch normalization two ways: PyTorch's built-in layer (F.batch_norm, one fused kernel) and
// d2l's from-scratch version on tensor ops, which reads line by line like d2l 7.5.
import { Tensor, ones, zeros, F, isGradEnabled, noGrad } from '../torch/index.js';
import { Module } from './module.js';

abstract class BatchNormBase extends Module {
  static override alias = 'bn';
  static override normalizes = true;
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(readonly numFeatures: number, readonly eps = 1e-5, readonly momentum = 0.1, private readonly dims: 2 | 4) {
    super();
    this.weight = this.registerParameter('weight', ones([numFeatures]))!;
    this.bias = this.registerParameter('bias', zeros([numFeatures]))!;
    this.registerBuffer('running_mean', zeros([numFeatures]));
    this.registerBuffer('running_var', ones([numFeatures]));
    this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int64' }));
  }
  forward(x: Tensor): Tensor {
    const ok = this.dims === 4 ? x.ndim === 4 : x.ndim === 2 || x.ndim === 3;
    if (!ok) throw new Error(`${this.kind}: expected ${this.dims === 4 ? '4D' : '2D or 3D'} input (got ${x.ndim}D input)`);
    if (this.training) noGrad(() => this.buffer('num_batches_tracked').add_(1));
    return F.batchNorm(x, this.buffer('running_mean'), this.buffer('running_var'), this.weight, this.bias,
      this.training, this.momentum, this.eps);
  }
  override extraRepr(): string { return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}`; }
}
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, eps = 1e-5, momentum = 0.1) { super(numFeatures, eps, momentum, 2); }
}
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, eps = 1e-5, momentum = 0.1) { super(numFeatures, eps, momentum, 4); }
}

/**
 * d2l's batch_norm. Training or prediction mode is decided as d2l does: by whether gradients
 * are being recorded (evaluation runs under noGrad). Note d2l's momentum weighs the OLD
 * average (0.9), the opposite convention to PyTorch's momentum=0.1.
 */
export function batchNorm(X: Tensor, gamma: Tensor, beta: Tensor, movingMean: Tensor, movingVar: Tensor,
  eps: number, momentum: number): [Tensor, Tensor, Tensor] {
  let XHat: Tensor;
  if (!isGradEnabled()) {
    // Prediction mode: use the moving averages.
    XHat = X.sub(movingMean).div(movingVar.add(eps).sqrt());
  } else {
    if (X.ndim !== 2 && X.ndim !== 4) throw new Error(`batchNorm: expected 2D or 4D input, got ${X.ndim}D`);
    let mean: Tensor, variance: Tensor;
    if (X.ndim === 2) {
      // Fully connected: mean and variance over the batch (dim 0).
      mean = X.mean(0);
      variance = X.sub(mean).pow(2).mean(0);
    } else {
      // Convolutional: per channel, over batch, height and width, keeping the shape to broadcast.
      mean = X.mean([0, 2, 3], true);
      variance = X.sub(mean).pow(2).mean([0, 2, 3], true);
    }
    XHat = X.sub(mean).div(variance.add(eps).sqrt());
    // Update the moving averages (outside the graph, as d2l's `.data`).
    const newMean = noGrad(() => movingMean.mul(momentum).add(mean.detach().mul(1 - momentum)));
    const newVar = noGrad(() => movingVar.mul(momentum).add(variance.detach().mul(1 - momentum)));
    movingMean = newMean;
    movingVar = newVar;
  }
  const Y = gamma.mul(XHat).add(beta);
  return [Y, movingMean, movingVar];
}

/** d2l's BatchNorm module: gamma/beta trained, moving statistics kept as buffers. */
export class BatchNorm extends Module {
  static override alias = 'bn';
  static override normalizes = true;
  readonly gamma: Tensor;
  readonly beta: Tensor;
  constructor(readonly numFeatures: number, readonly numDims: 2 | 4) {
    super();
    const shape = numDims === 2 ? [1, numFeatures] : [1, numFeatures, 1, 1];
    this.gamma = this.registerParameter('gamma', ones(shape))!;
    this.beta = this.registerParameter('beta', zeros(shape))!;
    this.registerBuffer('moving_mean', zeros(shape));
    this.registerBuffer('moving_var', ones(shape));
  }
  forward(X: Tensor): Tensor {
    const [Y, movingMean, movingVar] = batchNorm(X, this.gamma, this.beta, this.buffer('moving_mean'),
      this.buffer('moving_var'), 1e-5, 0.9);
    this.setBuffer('moving_mean', movingMean);
    this.setBuffer('moving_var', movingVar);
    return Y;
  }
  override extraRepr(): string { return `${this.numFeatures}, num_dims=${this.numDims}`; }
}
