// d2l's AlexNet (Dive into Deep Learning 8.1), one flat Sequential as d2l writes it, so state
// dict keys match d2l's PyTorch net ("0.weight", "3.weight", ... "20.bias"). Options add what
// the experiments vary: the activation and where batch normalization goes (after each
// conv/linear, before the activation, as d2l does for LeNet-BN).
import { zeros, noGrad, tidy } from '../torch/index.js';
import { Sequential, Conv2d, Linear, MaxPool2d, Flatten, Dropout } from '../nn/index.js';
import { activation, bnLayer, convSide, type Activation, type BNMode } from './blocks.js';

export interface AlexNetOptions {
  /** Input height = width (224 in d2l; 96 is the smallest convenient size). */
  resize?: number;
  activation?: Activation;
  bn?: BNMode;
  numClasses?: number;
}

/** Output side of AlexNet's feature extractor for an input side s (conv/pool arithmetic). */
export function alexnetFeatureSide(s: number): number {
  const conv = convSide;
  let n = conv(s, 11, 4, 1);
  n = conv(n, 3, 2, 0);
  n = conv(n, 5, 1, 2);
  n = conv(n, 3, 2, 0);
  n = conv(n, 3, 1, 1);
  return conv(n, 3, 2, 0);
}
/** Smallest input side whose third max-pool still has an output (alexnetFeatureSide >= 1). */
export const ALEXNET_MIN_RESIZE = 65;

export function alexnet(o: AlexNetOptions = {}): Sequential {
  const size = o.resize ?? 224;
  const side = alexnetFeatureSide(size);
  if (!Number.isInteger(size) || side < 1) {
    throw new Error(`AlexNet needs input of at least ${ALEXNET_MIN_RESIZE}x${ALEXNET_MIN_RESIZE} (got ${size}): the third max-pool would have no output`);
  }
  const act = o.activation ?? 'relu';
  const bn = o.bn ?? 'none';
  const conv = (i: number, out: number, k: number, s: number, p: number) => [new Conv2d(i, out, k, { stride: s, padding: p }), ...bnLayer(bn, out, 4), activation(act)];
  const fc = (i: number, out: number) => [new Linear(i, out), ...bnLayer(bn, out, 2), activation(act), new Dropout(0.5)];
  const flat = 256 * side * side; // 6400 at 224
  const net = new Sequential(
    ...conv(1, 96, 11, 4, 1), new MaxPool2d(3, 2),
    ...conv(96, 256, 5, 1, 2), new MaxPool2d(3, 2),
    ...conv(256, 384, 3, 1, 1),
    ...conv(384, 384, 3, 1, 1),
    ...conv(384, 256, 3, 1, 1), new MaxPool2d(3, 2),
    new Flatten(),
    ...fc(flat, 4096),
    ...fc(4096, 4096),
    new Linear(4096, o.numClasses ?? 10),
  );
  return net;
}

/** Shape check by a dummy forward, as d2l's layer-by-layer shape printout. */
export function outputShapes(net: Sequential, inputShape: number[]): [string, number[]][] {
  return tidy(() => noGrad(() => {
    const rows: [string, number[]][] = [];
    let x = zeros(inputShape);
    net.eval();
    for (const [name, m] of net.children()) { x = m.call(x); rows.push([`${name} ${m.kind}`, x.shape]); }
    net.train();
    return rows;
  }));
}
