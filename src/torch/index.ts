// The torch namespace: `import * as torch from '../torch/index.js'` reads like PyTorch.
export { Tensor, isDType, type DType, type Device, type Shape, type TypedArray } from './tensor.js';
export * from './creation.js';
export * from './autograd.js';
export * from './runtime.js';
export type { ProcessEffects, CpuCacheStats } from './native.js';
export { tidy, keep, dispose } from './scope.js';
export * as F from './functional.js';
export { stats, histogram, HIST_BINS, HIST_ZERO, HIST_NONFINITE, histBinLower, histBinOf, STAT_FIELDS, type TensorStats } from './stats.js';
export { encodeTensors, decodeTensors, writeTensors, readTensors, readTensorsMetadata, verifyTensorFile, type Decoded } from './serialize.js';
