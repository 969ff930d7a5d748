// A training run's configuration: d2l's train_ch6 recipe as the defaults, plus the knobs the
// experiments turn. validate() rejects bad values before anything starts (exit code 2).
import { availableParallelism } from 'node:os';
import { ZOO, MODELS, ACTIVATIONS, BN_MODES, isModelName, recipeOf, knobsOf, type ModelSpec, type ModelSource, type Knob, type Activation, type BNMode } from '../models/index.js';
import { flagOf } from './config-flags.js';

export type OnNan = 'stop' | 'skip' | 'rollback';

export interface TrainConfig {
  /** A zoo name, 'file' (modelFile) or 'code' (a Module passed to the Trainer). */
  model: ModelSource;
  /** With model 'file': the module file's absolute path, loaded again by replay and resume. */
  modelFile: string | null;
  resize: number;
  activation: Activation;
  bn: BNMode;
  /** VGG: conv channels divided by this (d2l trains VGG-11 on Fashion-MNIST at ratio 4). */
  ratio: number;
  /** xavier (d2l) | default (PyTorch's layer init) | normal:STD | kaiming */
  init: string;
  lr: number;
  batchSize: number;
  epochs: number;
  seed: number;
  momentum: number;
  weightDecay: number;
  device: string;
  limitTrain: number | null;
  limitTest: number | null;
  threads: number | null;
  onNan: OnNan;
  maxSkips: number;
  maxRollbacks: number;
  rollbackFactor: number;
  probeEvery: number;
  /** Probed steps between magnitude histograms of every layer (0: none); step 1 always has one. */
  histEvery: number;
  /** Steps between checkpoints (0: only at epoch ends). */
  checkpointEvery: number;
  clip: number | null;
  warmup: number;
  /** d2l's ToTensor divides pixels by 255; false feeds raw 0-255 bytes (a classic mistake). */
  scalePixels: boolean;
  /** Stop after this many steps in total (experiments); null = run all epochs. */
  maxSteps: number | null;
  /** Evaluate on the test set at each epoch end. */
  evaluate: boolean;
  dataDir: string | null;
}

/** d2l's recipe for the model (ZOO), the rest nanscope's defaults. */
export function defaultConfig(model: ModelSource = 'alexnet'): TrainConfig {
  const r = recipeOf(model);
  return {
    model, modelFile: null, resize: r.resize, activation: r.activation, bn: 'none', ratio: r.ratio,
    init: 'xavier', lr: r.lr, batchSize: r.batchSize, epochs: r.epochs, seed: 42,
    momentum: 0, weightDecay: 0, device: 'cpu', limitTrain: null, limitTest: null, threads: null, onNan: 'stop',
    maxSkips: 10, maxRollbacks: 5, rollbackFactor: 0.5, probeEvery: 1, histEvery: 10, checkpointEvery: 200, clip: null, warmup: 0,
    scalePixels: true, maxSteps: null, evaluate: true, dataDir: null,
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The engine computes in float32: a setting beyond its range overflows to Inf on the first use. */
export const FLOAT32_MAX = 3.4028234663852886e38;
/** More intra-op threads than this many per core only thrash (and 100000 of them exhaust the machine). */
export const MAX_THREADS_PER_CORE = 4;

/** The config keys that hold a count or a number (or null: unset). */
type NumberKey = { [K in keyof TrainConfig]: TrainConfig[K] extends number | null ? K : never }[keyof TrainConfig];

export function validate(c: TrainConfig): TrainConfig {
  const bad = (m: string): never => { throw new ConfigError(m); };
  const custom = c.model === 'file' || c.model === 'code';
  if (!custom && !isModelName(c.model)) bad(`unknown model '${c.model}' (choose: ${MODELS.join(', ')}, or a module file ./my-net.ts)`);
  if (c.model === 'file' && !c.modelFile) bad(`model 'file' needs the module file's path`);
  // Every number in the config, whatever its own bounds below: finite and inside float32's range.
  for (const [k, v] of Object.entries(c)) {
    if (typeof v === 'number' && !(Math.abs(v) <= FLOAT32_MAX)) bad(`${flagOf(k as keyof TrainConfig)} must be a finite number within float32's range (±${FLOAT32_MAX.toExponential(4)}), got ${v}`);
  }
  // Safe integers: 1e300 passes Number.isInteger, but is no count and no seed libtorch takes.
  // Each names the key's flag (config-flags.ts), as the user typed it; an unset (null) value passes.
  const posInt = (k: NumberKey) => { const v = c[k]; if (v !== null && (!Number.isSafeInteger(v) || v < 1)) bad(`${flagOf(k)} must be a positive integer, got ${v}`); };
  const nonNegInt = (k: NumberKey) => { const v = c[k]; if (v !== null && (!Number.isSafeInteger(v) || v < 0)) bad(`${flagOf(k)} must be a non-negative integer, got ${v}`); };
  if (!(c.lr > 0) || !Number.isFinite(c.lr)) bad(`${flagOf('lr')} must be > 0, got ${c.lr}`);
  posInt('batchSize');
  nonNegInt('epochs');
  nonNegInt('seed');
  posInt('resize');
  posInt('probeEvery');
  nonNegInt('histEvery');
  nonNegInt('checkpointEvery');
  nonNegInt('warmup');
  nonNegInt('maxSkips');
  if (!custom) {
    const spec: ModelSpec = ZOO[c.model as keyof typeof ZOO];
    const why = spec.check(c);
    if (why) bad(why);
  }
  // A knob the net does not have is refused, not silently ignored (a model file builds its own layers).
  const takes: readonly Knob[] = knobsOf(c.model);
  const r = recipeOf(c.model);
  const what = c.model === 'file' ? `the model file ${c.modelFile}` : c.model === 'code' ? 'a model given in code' : c.model;
  const also = `it takes ${takes.map((k) => `${flagOf(k)}, `).join('')}${flagOf('init')}`;
  if (!takes.includes('bn') && c.bn !== 'none') bad(`${flagOf('bn')} does not apply to ${what} (${also})`);
  if (!takes.includes('activation') && c.activation !== r.activation) bad(`${flagOf('activation')} does not apply to ${what} (${also})`);
  if (!takes.includes('ratio') && c.ratio !== r.ratio) bad(`${flagOf('ratio')} does not apply to ${what} (${also})`);
  if (!ACTIVATIONS.includes(c.activation)) bad(`unknown ${flagOf('activation')} '${c.activation}' (${ACTIVATIONS.join(', ')})`);
  if (!BN_MODES.includes(c.bn)) bad(`unknown ${flagOf('bn')} '${c.bn}' (${BN_MODES.join(', ')})`);
  posInt('ratio');
  if (!/^(xavier|default|kaiming|normal:[0-9.eE+-]+)$/.test(c.init) || (c.init.startsWith('normal:') && !(Number(c.init.slice(7)) > 0))) {
    bad(`unknown ${flagOf('init')} '${c.init}' (xavier, default, kaiming, normal:STD with STD > 0)`);
  }
  if (!(c.momentum >= 0 && c.momentum < 1)) bad(`${flagOf('momentum')} must be in [0, 1), got ${c.momentum}`);
  if (!(c.weightDecay >= 0)) bad(`${flagOf('weightDecay')} must be >= 0, got ${c.weightDecay}`);
  posInt('limitTrain');
  posInt('limitTest');
  if (c.threads !== null) {
    posInt('threads');
    const cap = MAX_THREADS_PER_CORE * availableParallelism();
    if (c.threads > cap) bad(`${flagOf('threads')} ${c.threads} is more than ${MAX_THREADS_PER_CORE} per core: at most ${cap} on this machine (${availableParallelism()} cores)`);
  }
  posInt('maxSteps');
  if (!['stop', 'skip', 'rollback'].includes(c.onNan)) bad(`unknown ${flagOf('onNan')} '${c.onNan}' (stop, skip, rollback)`);
  if (!(c.rollbackFactor > 0 && c.rollbackFactor < 1)) bad(`${flagOf('rollbackFactor')} must be in (0, 1), got ${c.rollbackFactor}`);
  if (c.clip !== null && !(c.clip > 0)) bad(`${flagOf('clip')} must be > 0, got ${c.clip}`);
  if (!/^(cpu|cuda(:\d+)?)$/.test(c.device)) bad(`unknown ${flagOf('device')} '${c.device}' (cpu, cuda, cuda:N)`);
  return c;
}
