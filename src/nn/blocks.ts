// d2l's building blocks, written as the book writes them (Dive into Deep Learning 8.5-8.7), so
// sub-module names, registration order (hence init draws and state-dict keys) and forward
// maths equal d2l's PyTorch code. forward() runs inside tidy(): like Python's locals, every
// intermediate is released when forward returns; autograd keeps what backward needs.
import { Tensor, tidy, cat, F } from '../torch/index.js';
import { Module } from './module.js';
import { Conv2d, ReLU, MaxPool2d, AvgPool2d, Sequential } from './layers.js';
import { BatchNorm2d } from './batchnorm.js';

export interface ResidualOptions { use1x1conv?: boolean; strides?: number }

/** d2l 8.6 Residual: two 3x3 convs with batch norm, plus the input (through a 1x1 conv when shapes change). */
export class Residual extends Module {
  static override alias = 'residual';
  static override activation = 'relu' as const; // its output is relu(Y + X)
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly conv3: Conv2d | null;
  readonly bn1: BatchNorm2d;
  readonly bn2: BatchNorm2d;
  constructor(readonly inputChannels: number, readonly numChannels: number, o: ResidualOptions = {}) {
    super();
    const strides = o.strides ?? 1;
    this.conv1 = this.addModule('conv1', new Conv2d(inputChannels, numChannels, 3, { padding: 1, stride: strides }));
    this.conv2 = this.addModule('conv2', new Conv2d(numChannels, numChannels, 3, { padding: 1 }));
    this.conv3 = o.use1x1conv ? this.addModule('conv3', new Conv2d(inputChannels, numChannels, 1, { stride: strides })) : null;
    this.bn1 = this.addModule('bn1', new BatchNorm2d(numChannels));
    this.bn2 = this.addModule('bn2', new BatchNorm2d(numChannels));
  }
  forward(X: Tensor): Tensor {
    return tidy(() => {
      let Y = F.relu(this.bn1.call(this.conv1.call(X)));
      Y = this.bn2.call(this.conv2.call(Y));
      if (this.conv3) X = this.conv3.call(X);
      Y.add_(X); // Y += X
      return F.relu(Y);
    });
  }
  /** conv1's output goes to bn1 only, conv2's to bn2 only; X is not in a chain (it also feeds the skip). */
  override soleConsumerChains(): readonly (readonly Module[])[] {
    return this.forward === Residual.prototype.forward ? [[this.conv1, this.bn1], [this.conv2, this.bn2]] : [];
  }
}

/** d2l 8.4 Inception: four parallel paths (1x1; 1x1 then 3x3; 1x1 then 5x5; 3x3 max-pool then 1x1) concatenated on channels. */
export class Inception extends Module {
  static override alias = 'inception';
  static override activation = 'relu' as const; // every path ends in a ReLU
  readonly p1_1: Conv2d;
  readonly p2_1: Conv2d;
  readonly p2_2: Conv2d;
  readonly p3_1: Conv2d;
  readonly p3_2: Conv2d;
  readonly p4_1: MaxPool2d;
  readonly p4_2: Conv2d;
  /** c1..c4: output channels of each path (c2 and c3: [reduce, out]). */
  constructor(readonly inChannels: number, readonly c1: number, readonly c2: readonly [number, number],
    readonly c3: readonly [number, number], readonly c4: number) {
    super();
    this.p1_1 = this.addModule('p1_1', new Conv2d(inChannels, c1, 1));
    this.p2_1 = this.addModule('p2_1', new Conv2d(inChannels, c2[0], 1));
    this.p2_2 = this.addModule('p2_2', new Conv2d(c2[0], c2[1], 3, { padding: 1 }));
    this.p3_1 = this.addModule('p3_1', new Conv2d(inChannels, c3[0], 1));
    this.p3_2 = this.addModule('p3_2', new Conv2d(c3[0], c3[1], 5, { padding: 2 }));
    this.p4_1 = this.addModule('p4_1', new MaxPool2d(3, 1, 1));
    this.p4_2 = this.addModule('p4_2', new Conv2d(inChannels, c4, 1));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const p1 = F.relu(this.p1_1.call(x));
      const p2 = F.relu(this.p2_2.call(F.relu(this.p2_1.call(x))));
      const p3 = F.relu(this.p3_2.call(F.relu(this.p3_1.call(x))));
      const p4 = F.relu(this.p4_2.call(this.p4_1.call(x)));
      return cat([p1, p2, p3, p4], 1);
    });
  }
}

/** d2l 8.7 conv_block: BN, ReLU, 3x3 conv (the pre-activation order DenseNet uses). */
export function convBlock(inputChannels: number, numChannels: number): Sequential {
  return new Sequential(new BatchNorm2d(inputChannels), new ReLU(), new Conv2d(inputChannels, numChannels, 3, { padding: 1 }));
}

/** d2l 8.7 DenseBlock: each conv_block's output is concatenated onto its input on channels. */
export class DenseBlock extends Module {
  static override alias = 'dense';
  readonly net: Sequential;
  readonly outChannels: number;
  constructor(readonly numConvs: number, readonly inputChannels: number, readonly numChannels: number) {
    super();
    const layer: Module[] = [];
    for (let i = 0; i < numConvs; i++) layer.push(convBlock(numChannels * i + inputChannels, numChannels));
    this.net = this.addModule('net', new Sequential(...layer));
    this.outChannels = inputChannels + numConvs * numChannels;
  }
  forward(input: Tensor): Tensor {
    // As d2l: the blocks are called one by one (the Sequential `net` itself is never called).
    let X = input;
    for (const blk of this.net) {
      const Y = blk.call(X);
      const next = cat([X, Y], 1);
      Y.dispose();
      if (X !== input) X.dispose(); // Python drops the old X when it is rebound
      X = next;
    }
    return X;
  }
}

/** d2l 8.7 transition_block: BN, ReLU, 1x1 conv to fewer channels, 2x2 average pool to half the size. */
export function transitionBlock(inputChannels: number, numChannels: number): Sequential {
  return new Sequential(new BatchNorm2d(inputChannels), new ReLU(), new Conv2d(inputChannels, numChannels, 1), new AvgPool2d(2, 2));
}
