// A loss is a function of the network's output and the targets, returning a scalar tensor, as
// nn.CrossEntropyLoss()(out, y). d2l's train_ch6 uses cross-entropy; the trainer's default.
import { F, type Tensor } from '../torch/index.js';

export type LossFn = (output: Tensor, target: Tensor) => Tensor;

export const crossEntropyLoss: LossFn = (output, target) => F.crossEntropy(output, target);
