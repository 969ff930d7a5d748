// Model zoo: d2l's AlexNet and LeNet, built by name from a config.
import type { Sequential } from '../nn/index.js';
import { alexnet, type Activation, type BNMode } from './alexnet.js';
import { lenet } from './lenet.js';

export { alexnet, alexnetFeatureSide, outputShapes, ALEXNET_MIN_RESIZE, type Activation, type BNMode, type AlexNetOptions } from './alexnet.js';
export { lenet, type LeNetOptions } from './lenet.js';

export const MODELS = ['alexnet', 'lenet'] as const;
export type ModelName = (typeof MODELS)[number];

export interface ModelConfig { model: ModelName; resize: number; activation: Activation; bn: BNMode }

export function buildModel(c: ModelConfig): Sequential {
  if (c.model === 'alexnet') return alexnet({ resize: c.resize, activation: c.activation, bn: c.bn });
  if (c.resize !== 28) throw new Error(`LeNet takes 28x28 input (got --resize ${c.resize})`);
  return lenet({ activation: c.activation, bn: c.bn });
}
