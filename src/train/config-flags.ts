// The one list of a training run's settings and the flags that set them: each TrainConfig key,
// its flag (the key in kebab-case unless named here), its type and its help. The train flags
// (parsing and --help, src/cli/train-flags.ts), configFromFlags, the flag names in validate()'s
// errors and the `nanscope train ...` commands printed from a config are all derived from it, so
// a new setting is added here once. Defaults are not here: they are read from defaultConfig().
import type { TrainConfig } from './config.js';
import { MODELS, ACTIVATIONS, BN_MODES } from '../models/index.js';

export type ConfigFlagType = 'string' | 'number' | 'int' | 'bool';

export interface ConfigFlag {
  key: keyof TrainConfig;
  /** The flag without its --, only where it is not the key in kebab-case. */
  flag?: string;
  type: ConfigFlagType;
  help: string;
  /** A switch (type bool): the value it gives the key (--no-scale: scalePixels = false). */
  sets?: boolean;
}

/** In the order `nanscope train --help` lists them (and sweeps forward fixed settings). */
export const CONFIG_FLAGS = [
  { key: 'model', type: 'string', help: `${MODELS.join(' | ')} | ./my-net.ts (a file exporting a function that returns a Module)` },
  { key: 'lr', type: 'number', help: 'learning rate' },
  { key: 'batchSize', type: 'int', help: 'batch size' },
  { key: 'epochs', type: 'int', help: 'epochs' },
  { key: 'resize', type: 'int', help: 'image side' },
  { key: 'seed', type: 'int', help: 'seed for init, dropout and data order' },
  { key: 'init', type: 'string', help: 'xavier (d2l) | default (PyTorch) | kaiming | normal:STD' },
  { key: 'activation', type: 'string', help: ACTIVATIONS.join(' | ') },
  { key: 'bn', type: 'string', help: `${BN_MODES.join(' | ')}: none, d2l's from-scratch batch_norm, or BatchNorm1d/2d` },
  { key: 'ratio', type: 'int', help: 'VGG: divide conv channels by this' },
  { key: 'momentum', type: 'number', help: 'SGD momentum' },
  { key: 'weightDecay', type: 'number', help: 'SGD weight decay' },
  { key: 'device', type: 'string', help: 'cpu | cuda | cuda:N' },
  { key: 'limitTrain', type: 'int', help: 'use N training images (stratified: first N/10 per class)' },
  { key: 'limitTest', type: 'int', help: 'use N test images (stratified)' },
  { key: 'maxSteps', type: 'int', help: 'stop after N steps in total' },
  { key: 'threads', type: 'int', help: 'intra-op threads (default: all cores)' },
  { key: 'onNan', type: 'string', help: 'stop | skip | rollback' },
  { key: 'maxSkips', type: 'int', help: 'with --on-nan skip: stop after this many skipped steps' },
  { key: 'rollbackFactor', type: 'number', help: 'with --on-nan rollback: multiply lr by this' },
  { key: 'probeEvery', type: 'int', help: 'probe every N steps (NaN checks still run every step)' },
  { key: 'histEvery', type: 'int', help: 'record |activation| and |gradient| histograms of every layer every N probed steps (0: off)' },
  { key: 'checkpointEvery', type: 'int', help: 'checkpoint every N steps (0: epoch ends only)' },
  { key: 'clip', type: 'number', help: 'clip the global gradient norm to this value' },
  { key: 'warmup', type: 'int', help: 'linear learning-rate warm-up over N steps' },
  { key: 'scalePixels', flag: 'no-scale', type: 'bool', sets: false, help: 'feed raw 0-255 pixels (skip d2l\'s divide by 255)' },
  { key: 'evaluate', flag: 'no-eval', type: 'bool', sets: false, help: 'skip the test-set evaluation at epoch ends' },
  { key: 'dataDir', type: 'string', help: 'folder with the Fashion-MNIST IDX files (.gz or raw)' },
] as const satisfies readonly ConfigFlag[];

/** The keys no flag sets, and why (every other key is in CONFIG_FLAGS; the check below holds that). */
export const NO_FLAG = {
  modelFile: '--model ./FILE.ts sets it with model \'file\'',
  maxRollbacks: 'a limit of the rollback policy, not offered on the command line',
} as const satisfies Partial<Record<keyof TrainConfig, string>>;

// A TrainConfig key in neither list fails to compile here: a new setting needs a flag or a reason.
type Listed = (typeof CONFIG_FLAGS)[number]['key'] | keyof typeof NO_FLAG;
const everyKeyListed: Record<Exclude<keyof TrainConfig, Listed>, never> = {};
void everyKeyListed;

const kebab = (key: string): string => key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);

/** An entry's flag without its --: weightDecay -> weight-decay, scalePixels -> no-scale. */
export const flagName = (e: ConfigFlag): string => e.flag ?? kebab(e.key);

const BY_KEY = new Map<keyof TrainConfig, ConfigFlag>(CONFIG_FLAGS.map((e) => [e.key, e]));

/**
 * The flag that sets a config key, for messages: lr -> --lr. A key with no flag (NO_FLAG) is
 * named in kebab-case as well (--max-rollbacks), so a message about it still says which setting.
 */
export function flagOf(key: keyof TrainConfig): string {
  const e = BY_KEY.get(key);
  return `--${e ? flagName(e) : kebab(key)}`;
}

/**
 * The argv that gives a key this value: ['--lr', '0.1']; a switch when the value is the one it
 * sets (['--no-scale'] for scalePixels false), nothing when the value is unset (null) or is the
 * one a switch leaves. model 'file' is given as its module file's path, as --model takes it.
 */
export function flagArgs(c: TrainConfig, key: keyof TrainConfig): string[] {
  const e = BY_KEY.get(key);
  if (!e) throw new Error(`${key} has no train flag (${NO_FLAG[key as keyof typeof NO_FLAG] ?? 'not a config key'})`);
  const v = key === 'model' && c.model === 'file' ? c.modelFile : c[key];
  if (e.type === 'bool') return v === e.sets ? [`--${flagName(e)}`] : [];
  return v === null ? [] : [`--${flagName(e)}`, String(v)];
}

/** The train flags that set `c` on top of its model's defaults `d`: --model and each flag whose value differs, in table order. */
export function configArgs(c: TrainConfig, d: TrainConfig): string[] {
  return CONFIG_FLAGS.flatMap((e) => (e.key === 'model' || c[e.key] !== d[e.key] ? flagArgs(c, e.key) : []));
}
