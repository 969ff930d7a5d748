// The model zoo: d2l's networks by name, each with d2l's Fashion-MNIST recipe. ZOO is the one
// list: config defaults, validation, `nanscope train --help` and the experiments derive from it.
import type { Module } from '../nn/index.js';
import { alexnet, alexnetFeatureSide, ALEXNET_MIN_RESIZE } from './alexnet.js';
import { lenet } from './lenet.js';
import { vgg, vggFeatureSide, VGG11_ARCH } from './vgg.js';
import { nin, ninFeatureSide } from './nin.js';
import { googlenet } from './googlenet.js';
import { resnet18 } from './resnet.js';
import { densenet, densenetFeatureSide } from './densenet.js';
import type { Activation, BNMode } from './blocks.js';

export { alexnet, alexnetFeatureSide, outputShapes, ALEXNET_MIN_RESIZE, type AlexNetOptions } from './alexnet.js';
export { lenet, type LeNetOptions } from './lenet.js';
export { vgg, vggBlock, VGG11_ARCH, type VggOptions } from './vgg.js';
export { nin, ninBlock, type NiNOptions } from './nin.js';
export { googlenet } from './googlenet.js';
export { resnet18, resnetBlock } from './resnet.js';
export { densenet } from './densenet.js';
export { activation, bnLayer, convSide, ACTIVATIONS, BN_MODES, type Activation, type BNMode } from './blocks.js';

/** What a zoo builder is given (from the run's config). */
export interface ModelOptions { resize: number; activation: Activation; bn: BNMode; ratio: number }

/** d2l's train_ch6 settings for a net on Fashion-MNIST (the defaults of a run). */
export interface Recipe { lr: number; batchSize: number; resize: number; epochs: number; activation: Activation; ratio: number }

/** A knob beyond --init (which every net takes): only the nets that list it accept it. */
export type Knob = 'bn' | 'activation' | 'ratio';

export interface ModelSpec {
  /** d2l's section and name, as shown in `nanscope train --help`. */
  title: string;
  recipe: Recipe;
  takes: readonly Knob[];
  /** Why these options (input side, ratio) do not fit this net, or null when they do. */
  check(o: ModelOptions): string | null;
  build(o: ModelOptions): Module;
}

/** The smallest input side for which a net's feature map is not empty. */
function minSide(featureSide: (s: number) => number): number {
  let s = 1;
  while (featureSide(s) < 1) s++;
  return s;
}
const tooSmall = (net: string, featureSide: (s: number) => number) => ({ resize: s }: { resize: number }): string | null => {
  const min = minSide(featureSide);
  return s >= min ? null : `--resize ${s} is too small for ${net}: it needs at least ${min}x${min} (its last pooling would have no output)`;
};
const anySide = (): null => null; // padded convs and global average pooling fit every size

export const ZOO = {
  alexnet: {
    title: 'AlexNet (d2l 8.1)',
    recipe: { lr: 0.01, batchSize: 128, resize: 224, epochs: 10, activation: 'relu', ratio: 1 },
    takes: ['bn', 'activation'],
    check: ({ resize: s }) => (alexnetFeatureSide(s) >= 1 ? null
      : `--resize ${s} is too small for AlexNet: its third max-pool needs at least ${ALEXNET_MIN_RESIZE}x${ALEXNET_MIN_RESIZE} (try 96 or 224)`),
    build: (o) => alexnet(o),
  },
  lenet: {
    title: 'LeNet (d2l 7.6; --bn: LeNet-BN, 8.5)',
    recipe: { lr: 0.9, batchSize: 256, resize: 28, epochs: 10, activation: 'sigmoid', ratio: 1 },
    takes: ['bn', 'activation'],
    check: ({ resize: s }) => (s === 28 ? null : `LeNet takes 28x28 images; --resize must be 28, got ${s}`),
    build: (o) => lenet(o),
  },
  vgg11: {
    title: 'VGG-11 (d2l 8.2; --ratio 4: d2l\'s narrow net)',
    recipe: { lr: 0.05, batchSize: 128, resize: 224, epochs: 10, activation: 'relu', ratio: 4 },
    takes: ['bn', 'activation', 'ratio'],
    check: (o) => tooSmall('VGG-11', vggFeatureSide)(o) ?? (o.ratio > VGG11_ARCH[0][1]
      ? `--ratio ${o.ratio} leaves VGG-11's first conv without channels (${VGG11_ARCH[0][1]} / ${o.ratio} < 1; d2l uses 4)` : null),
    build: (o) => vgg(o),
  },
  nin: {
    title: 'NiN (d2l 8.3)',
    recipe: { lr: 0.1, batchSize: 128, resize: 224, epochs: 10, activation: 'relu', ratio: 1 },
    takes: ['bn', 'activation'],
    check: tooSmall('NiN', ninFeatureSide),
    build: (o) => nin(o),
  },
  googlenet: {
    title: 'GoogLeNet (d2l 8.4)',
    recipe: { lr: 0.1, batchSize: 128, resize: 96, epochs: 10, activation: 'relu', ratio: 1 },
    takes: [],
    check: anySide,
    build: () => googlenet(),
  },
  resnet18: {
    title: 'ResNet-18 (d2l 8.6; BN built in)',
    recipe: { lr: 0.05, batchSize: 256, resize: 96, epochs: 10, activation: 'relu', ratio: 1 },
    takes: [],
    check: anySide,
    build: () => resnet18(),
  },
  densenet: {
    title: 'DenseNet (d2l 8.7; BN built in)',
    recipe: { lr: 0.1, batchSize: 256, resize: 96, epochs: 10, activation: 'relu', ratio: 1 },
    takes: [],
    check: tooSmall('DenseNet', densenetFeatureSide),
    build: () => densenet(),
  },
} satisfies Record<string, ModelSpec>;

export type ModelName = keyof typeof ZOO;
export const MODELS = Object.keys(ZOO) as ModelName[];
export const isModelName = (m: string): m is ModelName => Object.hasOwn(ZOO, m);

/**
 * Where a run's network comes from: a zoo name; 'file', a module file the run records
 * (config.modelFile) and replay/resume load again; or 'code', a Module handed to the Trainer
 * by a library user, which only that code can rebuild.
 */
export type ModelSource = ModelName | 'file' | 'code';

/** The knobs a model takes: a zoo net's list; none for a model file or code, which build their own layers. */
export function knobsOf(model: ModelSource): readonly Knob[] {
  return model === 'file' || model === 'code' ? [] : ZOO[model].takes;
}

/** Defaults for a network that is not in the zoo: d2l's batch 256 at 28x28, lr 0.1. */
export const CUSTOM_RECIPE: Recipe = { lr: 0.1, batchSize: 256, resize: 28, epochs: 10, activation: 'relu', ratio: 1 };

export const recipeOf = (m: string): Recipe => (isModelName(m) ? ZOO[m].recipe : CUSTOM_RECIPE);

export function buildModel(c: { model: string } & ModelOptions): Module {
  if (!isModelName(c.model)) throw new Error(`buildModel: '${c.model}' is not a zoo model (${MODELS.join(', ')})`);
  const spec: ModelSpec = ZOO[c.model];
  const why = spec.check(c);
  if (why) throw new Error(why);
  return spec.build(c);
}

export { loadModelFile, isModelPath, ModelError, MODEL_FILE_EXTENSIONS, type ModelFactory } from './file.js';
