// The two scales every experiment runs at.
//   full: d2l's train_ch6 setting for AlexNet (8.1): 224x224, batch 128, lr 0.01, xavier, all
//         60000 training and 10000 test images, 10 epochs; LeNet (6.6): 28x28, batch 256, lr 0.9.
//   cpu:  the reduction that fits a 2-core CPU: AlexNet at 96x96 (every layer is kept; the first
//         fully connected layer sees 256x1x1 instead of 256x5x5 features), batch 64, a
//         stratified subset of the data and fewer epochs. Each experiment states which of these it keeps and measures that its
//         phenomenon survives the reduction.
import { defaultConfig, validate, type TrainConfig } from '../train/config.js';
import { flagArgs } from '../train/config-flags.js';
import type { ModelName } from '../models/index.js';
import type { Scale } from './types.js';

interface CpuScale { resize: number; batchSize: number; limitTrain: number; limitTest: number }
/** Each net's reduction for a 2-core CPU: smaller images (every layer kept), batch and data. */
export const CPU: Record<ModelName, CpuScale> = {
  alexnet: { resize: 96, batchSize: 64, limitTrain: 6400, limitTest: 1000 },
  lenet: { resize: 28, batchSize: 256, limitTrain: 12800, limitTest: 2000 },
  vgg11: { resize: 64, batchSize: 64, limitTrain: 6400, limitTest: 1000 },
  nin: { resize: 96, batchSize: 64, limitTrain: 6400, limitTest: 1000 },
  googlenet: { resize: 64, batchSize: 64, limitTrain: 6400, limitTest: 1000 },
  resnet18: { resize: 64, batchSize: 64, limitTrain: 6400, limitTest: 1000 },
  densenet: { resize: 64, batchSize: 64, limitTrain: 6400, limitTest: 1000 },
};

/** d2l's config for the model at this scale (before the experiment's own deviations). */
export function baseConfig(model: ModelName, scale: Scale, patch: Partial<TrainConfig> = {}): TrainConfig {
  const d = defaultConfig(model);
  const scaled: TrainConfig = scale === 'full'
    ? { ...d }
    : { ...d, ...CPU[model], epochs: 2 };
  // Experiments keep checkpoints to epoch ends (plus the state before a bad step): AlexNet's
  // state is 100-170 MB, and the runs are short.
  // cpu scale pins 1 intra-op thread: the recorded outcomes were measured so, and the thread
  // count changes float summation order, which moves a chaotic divergence. Measured: d2l's
  // AlexNet at lr 1, seeds 0 and 1, went NaN at steps 242 and 120 on 1 thread, and not at all
  // within 300 steps on 2 (phenomenon 3 in its purest form). --threads overrides it.
  const threads = scale === 'cpu' ? 1 : null;
  return validate({ ...scaled, checkpointEvery: 0, threads, ...patch });
}

/** Human-readable summary of a config: everything the experiments vary, spelled out. */
export function describeConfig(c: TrainConfig): string {
  const data = c.limitTrain === null ? 'all 60000 train' : `${c.limitTrain} train`;
  const test = c.limitTest === null ? 'all 10000 test' : `${c.limitTest} test`;
  const parts = [`${c.model} ${c.resize}px`, `batch ${c.batchSize}`, `lr ${c.lr}`, `init ${c.init}`, c.activation, `bn ${c.bn}`,
    `${c.epochs} epochs`, `${data} / ${test} images`, c.scalePixels ? 'pixels/255' : 'raw 0-255 pixels'];
  if (c.maxSteps !== null) parts.push(`max ${c.maxSteps} steps`);
  return parts.join(', ');
}

/**
 * The settings an arm's printed command names where they differ from the model's defaults, in
 * the order docs/RESULTS.md and docs/VERDICTS.md have always printed them (a regenerated block
 * then differs only where a measurement did). The harness's own settings (checkpoints, probes,
 * histograms) are left out: they do not change what an arm measures. cellArgs
 * (cli/experiment-queue.ts) sends every setting. Flag names and spelling: config-flags.ts.
 */
const ARM_KNOBS = ['resize', 'batchSize', 'lr', 'init', 'activation', 'bn', 'epochs', 'seed', 'limitTrain', 'limitTest',
  'maxSteps', 'momentum', 'clip', 'warmup', 'threads'] as const satisfies readonly (keyof TrainConfig)[];
const ARM_SWITCHES = ['scalePixels', 'evaluate'] as const satisfies readonly (keyof TrainConfig)[];

/** The train flags that reproduce one cell with `nanscope train` (printed beside each table). */
export function trainFlags(c: TrainConfig): string[] {
  const d = defaultConfig(c.model);
  return [
    ...flagArgs(c, 'model'),
    ...ARM_KNOBS.flatMap((k) => (c[k] !== d[k] ? flagArgs(c, k) : [])),
    // A cell is one seed, so the command names it even at the default (then after the knobs).
    ...(c.seed === d.seed ? flagArgs(c, 'seed') : []),
    ...ARM_SWITCHES.flatMap((k) => flagArgs(c, k)),
  ];
}
