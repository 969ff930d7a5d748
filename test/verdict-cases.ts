// The labelled verdict suite: short real runs (LeNet and AlexNet at small sizes, real
// Fashion-MNIST, one intra-op thread) and the failure mode each one is in, with the reason the
// label is right read off the run's own numbers. test/verdict-suite.test.ts checks them;
// scripts/verdicts.ts runs the same cases and writes docs/VERDICTS.md.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../src/store/index.js';
import { loadFashionMnist } from '../src/data/index.js';
import { Trainer } from '../src/train/trainer.js';
import { defaultConfig, validate, type TrainConfig } from '../src/train/config.js';
import { trainFlags } from '../src/experiments/scale.js';
import type { Health, Verdict } from '../src/diagnose/index.js';

export interface VerdictCase { name: string; expect: Health; why: string; patch: Partial<TrainConfig> }

const lenet = (p: Partial<TrainConfig>): Partial<TrainConfig> => ({ model: 'lenet', batchSize: 256, ...p });
const alex = (p: Partial<TrainConfig>): Partial<TrainConfig> => ({ model: 'alexnet', resize: 96, ...p });

export const CASES: VerdictCase[] = [
  { name: 'ReLU LeNet, lr 0.3', expect: 'healthy', why: 'loss falls, accuracy well above chance', patch: lenet({ activation: 'relu', lr: 0.3, maxSteps: 30, limitTrain: 7680 }) },
  { name: 'sigmoid LeNet + BN, lr 0.9', expect: 'healthy', why: 'd2l\'s BN-LeNet learns at once', patch: lenet({ bn: 'builtin', lr: 0.9, maxSteps: 30, limitTrain: 7680 }) },
  { name: 'ReLU LeNet, lr 10', expect: 'non-finite', why: 'an absurd lr: Inf in a few steps', patch: lenet({ activation: 'relu', lr: 10, maxSteps: 16, limitTrain: 4096 }) },
  { name: 'AlexNet, raw 0-255 pixels, lr 0.1 (phenomenon 1)', expect: 'non-finite', why: 'unscaled input blows up by step 4', patch: alex({ scalePixels: false, lr: 0.1, batchSize: 64, maxSteps: 10, limitTrain: 640, seed: 0 }) },
  { name: 'AlexNet, init N(0, 0.1) (phenomenon 1)', expect: 'non-finite', why: 'a huge init: loss 1e4 at step 1, Inf by step 3', patch: alex({ init: 'normal:0.1', lr: 0.01, batchSize: 64, maxSteps: 10, limitTrain: 640, seed: 0 }) },
  { name: 'AlexNet, raw pixels, lr 0.1, stopped one step before the NaN', expect: 'exploding', why: 'loss 1e12 and growing, nothing non-finite yet', patch: alex({ scalePixels: false, lr: 0.1, batchSize: 64, maxSteps: 3, limitTrain: 640, seed: 0 }) },
  { name: 'ReLU LeNet, init N(0, 1), lr 1e-4', expect: 'exploding', why: 'loss in the thousands, 500x the loss of guessing', patch: lenet({ activation: 'relu', init: 'normal:1', lr: 1e-4, maxSteps: 15, limitTrain: 3840 }) },
  { name: 'ReLU LeNet, lr 10, seed 1', expect: 'blew-up-died', why: 'loss 1e35, then every ReLU of a layer outputs 0, accuracy at chance, no NaN', patch: lenet({ activation: 'relu', lr: 10, maxSteps: 16, limitTrain: 4096, seed: 1 }) },
  { name: 'ReLU LeNet, raw pixels, lr 0.3', expect: 'blew-up-died', why: 'loss 2.8e3 early, then a dead layer and chance accuracy', patch: lenet({ activation: 'relu', scalePixels: false, lr: 0.3, maxSteps: 30, limitTrain: 7680 }) },
  { name: 'sigmoid LeNet, lr 100', expect: 'saturated', why: 'sigmoids pinned at 0/1, loss hundreds of times ln 10', patch: lenet({ lr: 100, maxSteps: 20, limitTrain: 5120 }) },
  { name: 'sigmoid LeNet, raw pixels, lr 0.9', expect: 'saturated', why: '0-255 inputs pin the first sigmoids', patch: lenet({ scalePixels: false, lr: 0.9, maxSteps: 30, limitTrain: 7680 }) },
  { name: 'ReLU LeNet, lr 10, more data', expect: 'dead-relu', why: 'one huge step kills the ReLUs without a blow-up of the loss', patch: lenet({ activation: 'relu', lr: 10, maxSteps: 16, limitTrain: 12800, seed: 0 }) },
  // 'ReLU LeNet, lr 3' (30 steps) was a dead-relu case and is gone: its label depends on the
  // machine. On one AMD EPYC host its ReLUs died with the loss flat at ln 10; on another
  // (2026-12-03, the same code) the loss first blew up to 4.4e6 at step 17-18 and then the net
  // died (blew-up-died, correctly read). A case must show its mode on any machine.
  { name: 'sigmoid LeNet, PyTorch default init (d2l-en#1917)', expect: 'vanishing', why: 'without Xavier the first layer gets 1e-4 of the last one\'s relative gradient', patch: lenet({ init: 'default', lr: 0.9, maxSteps: 30, limitTrain: 7680 }) },
  { name: 'sigmoid AlexNet, lr 0.01', expect: 'vanishing', why: 'eight sigmoid layers: the first layer\'s relative gradient is 1e-5 of the last\'s', patch: alex({ activation: 'sigmoid', lr: 0.01, batchSize: 32, maxSteps: 12, limitTrain: 400 }) },
  { name: 'AlexNet + BN (d2l\'s batch_norm), raw pixels, lr 0.1', expect: 'oscillating', why: 'learns (accuracy 0.45) while the loss keeps jumping to several times its recent level', patch: alex({ bn: 'scratch', scalePixels: false, lr: 0.1, batchSize: 32, maxSteps: 60, limitTrain: 1920, seed: 0 }) },
  { name: 'ReLU LeNet, init N(0, 0.01)', expect: 'stuck', why: 'loss 2.30 and accuracy 0.1 throughout: the signal fades from the init', patch: lenet({ activation: 'relu', init: 'normal:0.01', lr: 0.3, maxSteps: 30, limitTrain: 7680 }) },
  { name: 'ReLU AlexNet, lr 3', expect: 'stuck', why: 'loss 2.3, accuracy 0.1 after the first steps rewrote the weights', patch: alex({ lr: 3, batchSize: 32, maxSteps: 24, limitTrain: 768 }) },
];

export function caseConfig(c: VerdictCase): TrainConfig {
  const model = c.patch.model ?? 'lenet';
  return validate({ ...defaultConfig(model), threads: 1, evaluate: false, checkpointEvery: 0, histEvery: 0, ...c.patch });
}

/** The same run from the command line. */
export function caseCommand(c: VerdictCase): string {
  return `nanscope train ${trainFlags(caseConfig(c)).join(' ')}`;
}

export interface CaseResult { c: VerdictCase; verdict: Verdict; steps: number; nanStep: number | null; warningStep: number | null }

/** Runs one case for real, in this process, into `store` (a temporary one by default). */
export async function runCase(c: VerdictCase, store: Store = openStore(mkdtempSync(join(tmpdir(), 'nanscope-verdict-')))): Promise<CaseResult> {
  const config = caseConfig(c);
  const data = await loadFashionMnist({ limitTrain: config.limitTrain ?? undefined, limitTest: 100 });
  const run = store.createRun({ name: c.name, config });
  const t = new Trainer(config, { store, runId: run.id, data, silent: true });
  try {
    const r = await t.run();
    const w = store.getEvents(run.id, 'warning')[0];
    return { c, verdict: r.verdict, steps: r.steps, nanStep: r.report?.step ?? null, warningStep: w?.step ?? null };
  } finally {
    t.dispose();
  }
}
