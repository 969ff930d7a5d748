// The layers AlexNet and LeNet are made of. Constructors follow PyTorch: store hyper-parameters,
// create parameters, then resetParameters() with PyTorch's default init (kaiming_uniform with
// a=sqrt(5), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))), in the same generator order.
import { Tensor, empty, F } from '../torch/index.js';
import type { Pair } from '../torch/functional.js';
import { Module } from './module.js';
import * as init from './init.js';

const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

function defaultInit(weight: Tensor, bias: Tensor | null): void {
  init.kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const [fanIn] = init.calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    init.uniform_(bias, -bound, bound);
  }
}

export class Linear extends Module {
  static override alias = 'fc';
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, bias = true) {
    super();
    if (!(inFeatures > 0 && outFeatures > 0)) throw new Error(`Linear(${inFeatures}, ${outFeatures}): sizes must be positive`);
    this.weight = this.registerParameter('weight', empty([outFeatures, inFeatures]))!;
    this.bias = this.registerParameter('bias', bias ? empty([outFeatures]) : null);
    this.resetParameters();
  }
  resetParameters(): void { defaultInit(this.weight, this.bias); }
  forward(x: Tensor): Tensor { return F.linear(x, this.weight, this.bias); }
  override extraRepr(): string { return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}`; }
}

export interface Conv2dOptions { stride?: Pair; padding?: Pair; bias?: boolean }
export class Conv2d extends Module {
  static override alias = 'conv';
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, o: Conv2dOptions = {}) {
    super();
    this.kernelSize = pair(kernelSize);
    this.stride = pair(o.stride ?? 1);
    this.padding = pair(o.padding ?? 0);
    this.weight = this.registerParameter('weight', empty([outChannels, inChannels, ...this.kernelSize]))!;
    this.bias = this.registerParameter('bias', (o.bias ?? true) ? empty([outChannels]) : null);
    this.resetParameters();
  }
  resetParameters(): void { defaultInit(this.weight, this.bias); }
  forward(x: Tensor): Tensor { return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding }); }
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize}), stride=(${this.stride}), padding=(${this.padding})`;
  }
}

export class MaxPool2d extends Module {
  static override alias = 'pool';
  constructor(readonly kernelSize: Pair, readonly stride: Pair | null = null, readonly padding: Pair = 0) { super(); }
  forward(x: Tensor): Tensor { return F.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding }); }
  override extraRepr(): string { return `kernel_size=${this.kernelSize}, stride=${this.stride ?? this.kernelSize}, padding=${this.padding}`; }
}

export class AvgPool2d extends Module {
  static override alias = 'pool';
  constructor(readonly kernelSize: Pair, readonly stride: Pair | null = null, readonly padding: Pair = 0) { super(); }
  forward(x: Tensor): Tensor { return F.avgPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding }); }
  override extraRepr(): string { return `kernel_size=${this.kernelSize}, stride=${this.stride ?? this.kernelSize}, padding=${this.padding}`; }
}

/** Pools to a fixed output size whatever the input size; (1, 1) is global average pooling (NiN, GoogLeNet, ResNet). */
export class AdaptiveAvgPool2d extends Module {
  static override alias = 'pool';
  constructor(readonly outputSize: Pair) { super(); }
  forward(x: Tensor): Tensor { return F.adaptiveAvgPool2d(x, this.outputSize); }
  override extraRepr(): string { return `output_size=${typeof this.outputSize === 'number' ? this.outputSize : `(${this.outputSize})`}`; }
}

export class ReLU extends Module { static override activation = 'relu' as const; forward(x: Tensor): Tensor { return x.relu(); } }
export class Sigmoid extends Module { static override activation = 'sigmoid' as const; forward(x: Tensor): Tensor { return x.sigmoid(); } }
export class Tanh extends Module { static override activation = 'tanh' as const; forward(x: Tensor): Tensor { return x.tanh(); } }

export class Dropout extends Module {
  static override alias = 'dropout';
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be in [0, 1], got ${p}`);
  }
  forward(x: Tensor): Tensor { return F.dropout(x, this.p, this.training); }
  override extraRepr(): string { return `p=${this.p}`; }
}

export class Flatten extends Module {
  static override alias = 'flatten';
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.flatten(this.startDim, this.endDim); }
  override extraRepr(): string { return `start_dim=${this.startDim}, end_dim=${this.endDim}`; }
}

/** A container calling its children in order; children are named "0", "1", ... as in PyTorch. */
export class Sequential extends Module {
  static override alias = 'block';
  private readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.addModule(String(i), m));
  }
  forward(x: Tensor): Tensor {
    // Each intermediate's handle is dropped as soon as the next layer has consumed it, as
    // Python drops its last reference: autograd keeps what backward needs (and frees it as
    // backward runs), while a handle held to the end of the step would keep every
    // activation alive through backward (measured: +55 MB peak at AlexNet 96 b128).
    let y = x;
    for (const m of this.layers) {
      const next = m.call(y);
      if (y !== x && next !== y && !y.kept) y.dispose();
      y = next;
    }
    return y;
  }
  /** The stock forward hands each child's output to the next child only. */
  override soleConsumerChains(): readonly (readonly Module[])[] {
    return this.forward === Sequential.prototype.forward ? [this.layers] : [];
  }
  get length(): number { return this.layers.length; }
  at(i: number): Module { return this.layers[i]; }
  /** `for (const blk of net)`, as iterating an nn.Sequential (d2l's DenseBlock does). */
  [Symbol.iterator](): Iterator<Module> { return this.layers[Symbol.iterator](); }
}
