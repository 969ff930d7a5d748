// The flags that describe a training run, shared by train, resume, experiment and sweep.
import { resolve } from 'node:path';
import { defaultConfig, validate, type TrainConfig, type OnNan } from '../train/config.js';
import { ZOO, MODELS, ACTIVATIONS, BN_MODES, isModelPath, type ModelSpec, type ModelSource, type Activation, type BNMode } from '../models/index.js';
import { cuda } from '../torch/index.js';
import { num, str, bool, UsageError, type Flags, type Parsed } from './args.js';

export const TRAIN_FLAGS: Flags = {
  model: { type: 'string', help: `${MODELS.join(' | ')} | ./my-net.ts (a file exporting a function that returns a Module)`, default: 'alexnet' },
  lr: { type: 'number', help: 'learning rate (default: the model\'s d2l recipe, below)' },
  'batch-size': { type: 'int', help: 'batch size (default: the model\'s d2l recipe)' },
  epochs: { type: 'int', help: 'epochs (default: the model\'s d2l recipe)' },
  resize: { type: 'int', help: 'image side (default: the model\'s d2l recipe)' },
  seed: { type: 'int', help: 'seed for init, dropout and data order', default: 42 },
  init: { type: 'string', help: 'xavier (d2l) | default (PyTorch) | kaiming | normal:STD', default: 'xavier' },
  activation: { type: 'string', help: `${ACTIVATIONS.join(' | ')} (default: the model's d2l recipe)` },
  bn: { type: 'string', help: `${BN_MODES.join(' | ')}: none, d2l's from-scratch batch_norm, or BatchNorm1d/2d`, default: 'none' },
  ratio: { type: 'int', help: 'VGG: divide conv channels by this (d2l on Fashion-MNIST: 4)' },
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


/** The zoo as `nanscope train --help` lists it: each net's d2l recipe and the knobs it takes. */
export function modelsHelp(): string {
  const rows = MODELS.map((m) => {
    const s: ModelSpec = ZOO[m];
    const r = s.recipe;
    const knobs = s.takes.map((k) => `--${k}`).join(' ');
    return `  ${m.padEnd(10)} ${s.title.padEnd(40)} lr ${r.lr}, batch ${r.batchSize}, ${r.resize}x${r.resize}, ${r.epochs} epochs${r.ratio !== 1 ? `, ratio ${r.ratio}` : ''}; ${knobs ? `${knobs} --init` : '--init'}`;
  });
  return `\nmodels (--model), with d2l's Fashion-MNIST recipe as their defaults:\n${rows.join('\n')}\n` +
    `  ./FILE.ts  your own network: a module file whose default export (or \`model\`) returns an nn.Module; --init applies\n`;
}

/** --model's value: a zoo name, or a path to a module file (recorded absolute for replay). */
function modelOf(v: string): { model: ModelSource; modelFile: string | null } {
  return isModelPath(v) ? { model: 'file', modelFile: resolve(v) } : { model: v as ModelSource, modelFile: null };
}

export function configFromFlags(p: Parsed, base?: TrainConfig): TrainConfig {
  const { model, modelFile } = base ? { model: base.model, modelFile: base.modelFile } : modelOf(str(p, 'model') ?? 'alexnet');
  const d = base ?? defaultConfig(model);
  const pick = <T>(v: T | undefined, dflt: T): T => (v === undefined ? dflt : v);
  const c: TrainConfig = {
    ...d,
    model,
    modelFile,    lr: pick(num(p, 'lr'), d.lr),
    batchSize: pick(num(p, 'batch-size'), d.batchSize),
    epochs: pick(num(p, 'epochs'), d.epochs),
    resize: pick(num(p, 'resize'), d.resize),
    seed: pick(num(p, 'seed'), d.seed),
    init: pick(str(p, 'init'), d.init),
    activation: pick(str(p, 'activation') as Activation | undefined, d.activation),
    bn: pick(str(p, 'bn') as BNMode | undefined, d.bn),
    ratio: pick(num(p, 'ratio'), d.ratio),
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
  validate(c);
  if (c.device.startsWith('cuda') && !cuda.isAvailable()) {
    throw new UsageError(`--device ${c.device}: CUDA is not available in this libtorch build (Debian's libtorch-dev is CPU-only; rebuild against a CUDA libtorch: LIBTORCH=/path or LIBTORCH_USE_PYTORCH=1 npm run build:native -- --force)`);
  }
  return c;
}
