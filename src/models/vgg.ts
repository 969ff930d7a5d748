// d2l's VGG (8.2): vgg_block = num_convs x (3x3 conv, ReLU) then a 2x2 max-pool; VGG-11 is
// conv_arch ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)) and three fully connected layers.
// d2l trains it on Fashion-MNIST with every conv's channels divided by ratio = 4. Layer names
// match d2l's net: "0.0.weight" (block 0, conv 0) ... "5.weight" (the first Linear).
import { Sequential, Conv2d, Linear, MaxPool2d, Flatten, Dropout, type Module } from '../nn/index.js';
import { activation, bnLayer, type Activation, type BNMode } from './blocks.js';

export const VGG11_ARCH: readonly (readonly [number, number])[] = [[1, 64], [1, 128], [2, 256], [2, 512], [2, 512]];

export interface VggOptions { resize?: number; ratio?: number; activation?: Activation; bn?: BNMode; numClasses?: number }

/** Side of the feature map after the five 2x2 max-pools (7 at 224). */
export const vggFeatureSide = (s: number): number => Math.floor(s / 32);

export function vggBlock(numConvs: number, inChannels: number, outChannels: number, act: Activation = 'relu', bn: BNMode = 'none'): Sequential {
  const layers: Module[] = [];
  for (let i = 0; i < numConvs; i++) {
    layers.push(new Conv2d(inChannels, outChannels, 3, { padding: 1 }), ...bnLayer(bn, outChannels, 4), activation(act));
    inChannels = outChannels;
  }
  layers.push(new MaxPool2d(2, 2));
  return new Sequential(...layers);
}

export function vgg(o: VggOptions = {}): Sequential {
  const side = vggFeatureSide(o.resize ?? 224);
  if (side < 1) throw new Error(`VGG needs input of at least 32x32 (got ${o.resize}): its fifth max-pool would have no output`);
  const ratio = o.ratio ?? 1;
  const act = o.activation ?? 'relu';
  const bn = o.bn ?? 'none';
  const blocks: Module[] = [];
  let inChannels = 1;
  let out = 0;
  for (const [numConvs, channels] of VGG11_ARCH) {
    out = Math.floor(channels / ratio); // d2l: pair[1] // ratio
    blocks.push(vggBlock(numConvs, inChannels, out, act, bn));
    inChannels = out;
  }
  const fc = (i: number, n: number): Module[] => [new Linear(i, n), ...bnLayer(bn, n, 2), activation(act), new Dropout(0.5)];
  return new Sequential(...blocks, new Flatten(), ...fc(out * side * side, 4096), ...fc(4096, 4096), new Linear(4096, o.numClasses ?? 10));
}
