// The flags that describe a training run, shared by train, resume, experiment and sweep.
import { defaultConfig, validate, type TrainConfig, type OnNan } from '../train/config.js';
import type { ModelName, Activation, BNMode } from '../models/index.js';
import { cuda } from '../torch/index.js';
import { num, str, bool, UsageError, type Flags, type Parsed } from './args.js';

export const TRAIN_FLAGS: Flags = {
  model: { type: 'string', help: 'alexnet | lenet', default: 'alexnet' },
  lr: { type: 'number', help: 'learning rate (d2l AlexNet: 0.01, LeNet: 0.9)' },
  'batch-size': { type: 'int', help: 'batch size (d2l AlexNet: 128, LeNet: 256)' },
  epochs: { type: 'int', help: 'epochs', default: 10 },
  resize: { type: 'int', help: 'image side (AlexNet: 224, or >= 63 e.g. 96; LeNet: 28)' },
  seed: { type: 'int', help: 'seed for init, dropout and data order', default: 42 },
  init: { type: 'string', help: 'xavier (d2l) | default (PyTorch) | kaiming | normal:STD', default: 'xavier' },
  activation: { type: 'string', help: 'relu | sigmoid (AlexNet: relu, LeNet: sigmoid)' },
  bn: { type: 'string', help: 'none | scratch (d2l batch_norm) | builtin (BatchNorm2d)', default: 'none' },
  momentum: { type: 'number', help: 'SGD momentum', default: 0 },
  'weight-decay': { type: 'number', help: 'SGD weight decay', default: 0 },
  device: { type: 'string', help: 'cpu | cuda | cuda:N', default: 'cpu' },
  'limit-train': { type: 'int', help: 'use N training images (stratified: first N/10 per class)' },
  'limit-test': { type: 'int', help: 'use N test images (stratified)' },
  'max-steps': { type: 'int', help: 'stop after N steps in total' },
  threads: { type: 'int', help: 'intra-op threads (default: all cores)' },
  'on-nan': { type: 'string', help: 'stop | skip | rollback', default: 'stop' },
  'max-skips': { type: 'int', help: 'with --on-nan skip: stop after this many skipped steps', default: 10 },
  'rollback-factor': { type: 'number', help: 'with --on-nan rollback: multiply lr by this', default: 0.5 },
  'probe-every': { type: 'int', help: 'probe every N steps (NaN checks still run every step)', default: 1 },
  'hist-every': { type: 'int', help: 'record |activation| and |gradient| histograms of every layer every N probed steps (0: off)', default: 10 },
  'checkpoint-every': { type: 'int', help: 'checkpoint every N steps (0: epoch ends only)', default: 200 },
  clip: { type: 'number', help: 'clip the global gradient norm to this value' },
  warmup: { type: 'int', help: 'linear learning-rate warm-up over N steps', default: 0 },
  'no-scale': { type: 'bool', help: 'feed raw 0-255 pixels (skip d2l\'s divide by 255)' },
  'no-eval': { type: 'bool', help: 'skip the test-set evaluation at epoch ends' },
  'data-dir': { type: 'string', help: 'folder with the Fashion-MNIST IDX files (.gz or raw)' },
};

export function configFromFlags(p: Parsed, base?: TrainConfig): TrainConfig {
  const model = (str(p, 'model') ?? base?.model ?? 'alexnet') as ModelName;
  const d = base ?? defaultConfig(model === 'lenet' ? 'lenet' : 'alexnet');
  const pick = <T>(v: T | undefined, dflt: T): T => (v === undefined ? dflt : v);
  const c: TrainConfig = {
    ...d,
    model,
    lr: pick(num(p, 'lr'), d.lr),
    batchSize: pick(num(p, 'batch-size'), d.batchSize),
    epochs: pick(num(p, 'epochs'), d.epochs),
    resize: pick(num(p, 'resize'), d.resize),
    seed: pick(num(p, 'seed'), d.seed),
    init: pick(str(p, 'init'), d.init),
    activation: pick(str(p, 'activation') as Activation | undefined, d.activation),
    bn: pick(str(p, 'bn') as BNMode | undefined, d.bn),
    momentum: pick(num(p, 'momentum'), d.momentum),
    weightDecay: pick(num(p, 'weight-decay'), d.weightDecay),
    device: pick(str(p, 'device'), d.device),
    limitTrain: pick(num(p, 'limit-train'), d.limitTrain),
    limitTest: pick(num(p, 'limit-test'), d.limitTest),
    maxSteps: pick(num(p, 'max-steps'), d.maxSteps),
    threads: pick(num(p, 'threads'), d.threads),
    onNan: pick(str(p, 'on-nan') as OnNan | undefined, d.onNan),
    maxSkips: pick(num(p, 'max-skips'), d.maxSkips),
    rollbackFactor: pick(num(p, 'rollback-factor'), d.rollbackFactor),
    probeEvery: pick(num(p, 'probe-every'), d.probeEvery),
    histEvery: pick(num(p, 'hist-every'), d.histEvery),
    checkpointEvery: pick(num(p, 'checkpoint-every'), d.checkpointEvery),
    clip: pick(num(p, 'clip'), d.clip),
    warmup: pick(num(p, 'warmup'), d.warmup),
    scalePixels: bool(p, 'no-scale') ? false : d.scalePixels,
    evaluate: bool(p, 'no-eval') ? false : d.evaluate,
    dataDir: pick(str(p, 'data-dir'), d.dataDir),
  };
  // d2l's defaults differ by model; the model flag picks them unless given explicitly.
  if (!base && model === 'lenet') {
    c.resize = pick(num(p, 'resize'), 28);
  }
  validate(c);
  if (c.device.startsWith('cuda') && !cuda.isAvailable()) {
    throw new UsageError(`--device ${c.device}: CUDA is not available in this libtorch build (Debian's libtorch-dev is CPU-only; rebuild against a CUDA libtorch: LIBTORCH=/path or LIBTORCH_USE_PYTORCH=1 npm run build:native -- --force)`);
  }
  return c;
}
