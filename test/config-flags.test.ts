// The flag table (src/train/config-flags.ts) is the one source of the train flags: parsing,
// --help's defaults, configFromFlags, validate()'s flag names and the commands printed from a
// config all follow it. No training here: configs are built, printed and parsed back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIG_FLAGS, NO_FLAG, flagName, flagOf, configArgs } from '../src/train/config-flags.js';
import { defaultConfig, validate, type TrainConfig } from '../src/train/config.js';
import { TRAIN_FLAGS, configFromFlags } from '../src/cli/train-flags.js';
import { parseArgs, helpText } from '../src/cli/args.js';
import { cellArgs } from '../src/cli/experiment-queue.js';
import { trainFlags } from '../src/experiments/scale.js';
import { EXPERIMENTS } from '../src/experiments/index.js';
import { recipeOf, MODELS } from '../src/models/index.js';

const back = (args: string[]): TrainConfig => configFromFlags(parseArgs(args, TRAIN_FLAGS, 'train'));

test('TRAIN_FLAGS is the table: its flags in order, each default read from defaultConfig() or named as the recipe\'s', () => {
  assert.deepEqual(Object.keys(TRAIN_FLAGS), CONFIG_FLAGS.map(flagName));
  const listed = new Set<string>([...CONFIG_FLAGS.map((e) => e.key), ...Object.keys(NO_FLAG)]);
  assert.deepEqual([...listed].sort(), Object.keys(defaultConfig()).sort(), 'every config key has a flag or a reason');
  const d = defaultConfig();
  for (const e of CONFIG_FLAGS) {
    const s = TRAIN_FLAGS[flagName(e)];
    if (Object.hasOwn(recipeOf('alexnet'), e.key)) {
      assert.equal(s.default, undefined, e.key);
      assert.match(s.help, /\(default: the model's d2l recipe\)$/, e.key);
    } else if (e.type !== 'bool' && d[e.key] !== null) assert.equal(s.default, d[e.key], e.key);
    else assert.equal(s.default, undefined, e.key);
  }
  const h = helpText('train', '[flags]', TRAIN_FLAGS);
  assert.match(h, /--checkpoint-every <int> +checkpoint every N steps \(0: epoch ends only\) \(default 200\)/);
  assert.match(h, /--ratio <int> +VGG: divide conv channels by this \(default: the model's d2l recipe\)/);
  assert.match(h, /--no-scale +feed raw 0-255 pixels/);
});

test('configFromFlags: no flags is defaultConfig(model); every flag sets its key; the switches set theirs to false', () => {
  for (const m of MODELS) assert.deepEqual(back(['--model', m]), defaultConfig(m), m);
  assert.deepEqual(back([]), defaultConfig());
  const c = back(['--model', 'lenet', '--lr', '0.5', '--weight-decay', '0.001', '--on-nan', 'skip', '--limit-train', '100', '--no-scale', '--no-eval', '--data-dir', '/tmp/d']);
  assert.deepEqual(c, { ...defaultConfig('lenet'), lr: 0.5, weightDecay: 0.001, onNan: 'skip', limitTrain: 100, scalePixels: false, evaluate: false, dataDir: '/tmp/d' });
  assert.equal(back(['--no-scale=false']).scalePixels, true);
});

test('configArgs parses back to the same config: every experiment cell, and a config with every flagged setting changed', () => {
  for (const e of EXPERIMENTS) {
    for (const scale of ['cpu', 'full'] as const) {
      for (const cell of e.cells(scale, [0, 1])) assert.deepEqual(back(cellArgs(cell.config)), cell.config, `${e.name} ${scale} ${cell.arm}`);
    }
  }
  const all: TrainConfig = validate({
    ...defaultConfig('vgg11'), resize: 64, activation: 'sigmoid', bn: 'scratch', ratio: 8, init: 'kaiming', lr: 0.2, batchSize: 32, epochs: 3, seed: 7,
    momentum: 0.9, weightDecay: 1e-4, limitTrain: 640, limitTest: 100, threads: 1, onNan: 'rollback', maxSkips: 3, rollbackFactor: 0.25,
    probeEvery: 2, histEvery: 0, checkpointEvery: 0, clip: 1, warmup: 10, scalePixels: false, maxSteps: 50, evaluate: false, dataDir: '/tmp/d',
  });
  const args = configArgs(all, defaultConfig('vgg11'));
  for (const e of CONFIG_FLAGS) if (e.key !== 'device') assert.ok(args.includes(`--${flagName(e)}`), `${flagName(e)} is sent`);
  assert.deepEqual(back(args), all);
  const file = validate({ ...defaultConfig('file'), model: 'file', modelFile: '/tmp/my-net.ts' });
  assert.deepEqual(back(configArgs(file, defaultConfig('file'))), file, 'a model file is sent as its path');
  // A setting no flag sets cannot be sent: refused, not silently dropped.
  assert.throws(() => cellArgs({ ...defaultConfig('lenet'), maxRollbacks: 2 }), /maxRollbacks/);
});

test('the per-arm commands print as they always have: the changed knobs in their order, the seed, then the switches', () => {
  const p1 = EXPERIMENTS.find((e) => e.name === 'phenomenon-1')!.cells('cpu', [0])[0];
  assert.equal(trainFlags(p1.config).join(' '), '--model alexnet --resize 96 --batch-size 64 --lr 0.1 --epochs 1 --seed 0 --limit-train 6400 --limit-test 1000 --threads 1 --no-scale');
  const c = { ...defaultConfig('lenet'), lr: 0.3, activation: 'relu' as const, limitTrain: 7680, maxSteps: 30, threads: 1, evaluate: false, checkpointEvery: 0 };
  assert.equal(trainFlags(c).join(' '), '--model lenet --lr 0.3 --activation relu --limit-train 7680 --max-steps 30 --threads 1 --seed 42 --no-eval');
});

test('validate() names the flag the table gives each key', () => {
  const d = defaultConfig('lenet');
  const cases: [Partial<TrainConfig>, keyof TrainConfig][] = [
    [{ batchSize: 0 }, 'batchSize'], [{ limitTrain: 0 }, 'limitTrain'], [{ probeEvery: 0 }, 'probeEvery'], [{ weightDecay: -1 }, 'weightDecay'],
    [{ rollbackFactor: 2 }, 'rollbackFactor'], [{ onNan: 'x' as TrainConfig['onNan'] }, 'onNan'], [{ momentum: 1e39 }, 'momentum'],
  ];
  for (const [patch, key] of cases) assert.throws(() => validate({ ...d, ...patch }), (e: Error) => e.message.includes(flagOf(key)), key);
  assert.equal(flagOf('weightDecay'), '--weight-decay');
  assert.equal(flagOf('scalePixels'), '--no-scale');
  assert.throws(() => validate({ ...d, maxRollbacks: 1e39 }), /--max-rollbacks must be a finite number/);
});
