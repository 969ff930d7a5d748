// torch.nn for nanscope: modules, layers, init and the optimizer.
export { Module, type ForwardHook, type ForwardPreHook, type HookHandle, type ActivationKind } from './module.js';
export { Linear, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, ReLU, Sigmoid, Tanh, Dropout, Flatten, Sequential } from './layers.js';
export { BatchNorm1d, BatchNorm2d, BatchNorm, batchNorm } from './batchnorm.js';
export { Residual, Inception, DenseBlock, convBlock, transitionBlock, type ResidualOptions } from './blocks.js';
export * as init from './init.js';
export { SGD, type SGDOptions } from './optim.js';
export { crossEntropyLoss, type LossFn } from './loss.js';
export { F } from '../torch/index.js';
