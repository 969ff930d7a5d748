// Shared by the dashboard/report tests (test/web*.test.ts, test/server*.test.ts,
// test/report*.test.ts): a fresh front-end build when the sources changed,
// a headless Chromium, and synthetic runs written through the Store API.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_ARGS, DEFAULT_CHROMIUM } from '../src/report/png.js';
import type { LayerInput, ProbeInput, RunRow, StepInput, Store } from '../src/store/index.js';

export const REPO = join(import.meta.dirname, '..');
export const WEB = join(REPO, 'web');
export const DIST = join(WEB, 'dist');
export const ARTIFACTS = join(REPO, 'test-artifacts');
// The report's own Chromium binary and flags, so the tests drive the browser exactly as `report --png` does.
export const CHROMIUM = process.env.NANSCOPE_CHROMIUM ?? DEFAULT_CHROMIUM;

export const tmp = (prefix = 'nanscope-web-'): string => mkdtempSync(join(tmpdir(), prefix));

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, f) => Math.max(m, newest(join(path, f))), st.mtimeMs);
}

/** Build web/dist unless it is newer than every front-end source (one builder at a time). */
export function ensureWebBuilt(): void {
  const lock = join(WEB, '.build-lock');
  const sources = Math.max(newest(join(WEB, 'src')), newest(join(WEB, 'index.html')), newest(join(WEB, 'vite.config.ts')), newest(join(REPO, 'src/server/wire.ts')));
  const fresh = (): boolean => existsSync(join(DIST, 'index.html')) && newest(DIST) >= sources;
  if (fresh()) return;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than two minutes is a crashed builder's.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('timed out waiting for another web build');
      execFileSync('sleep', ['0.2']);
    }
  }
  try {
    if (!fresh()) execFileSync(join(REPO, 'node_modules/.bin/vite'), ['build', 'web'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  errors: string[];
  close(): Promise<void>;
}

/** Headless Chromium with a fresh temp profile; page errors are collected, not thrown. */
export async function launch(opts: { offline?: boolean } = {}): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const profile = tmp('nanscope-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
    offline: opts.offline,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ------------------------------------------------------------ synthetic runs

export const FIELDS = [
  'act_mean',
  'act_std',
  'act_max',
  'act_zero_frac',
  'act_nonfinite',
  'w_norm',
  'grad_w_norm',
  'grad_b_norm',
  'update_ratio',
  'param_nonfinite',
  'grad_out_norm',
  'grad_in_norm',
  'grad_nonfinite',
];

/** d2l's AlexNet as one flat Sequential (names are its indices). */
export const ALEXNET: LayerInput[] = [
  'Conv2d', 'ReLU', 'MaxPool2d', 'Conv2d', 'ReLU', 'MaxPool2d', 'Conv2d', 'ReLU', 'Conv2d', 'ReLU', 'Conv2d', 'ReLU',
  'MaxPool2d', 'Flatten', 'Linear', 'ReLU', 'Dropout', 'Linear', 'ReLU', 'Dropout', 'Linear',
].map((kind, i) => ({ name: String(i), kind }));

export const LENET: LayerInput[] = [
  'Conv2d', 'Sigmoid', 'AvgPool2d', 'Conv2d', 'Sigmoid', 'AvgPool2d', 'Flatten', 'Linear', 'Sigmoid', 'Linear', 'Sigmoid', 'Linear',
].map((kind, i) => ({ name: String(i), kind }));

const hasParams = (kind: string): boolean => kind === 'Conv2d' || kind === 'Linear';

export interface Trouble {
  /** Step whose loss is NaN and whose probe has NaN gradients. */
  nanStep: number;
  /** Layer index where the NaN starts (gradients of it and everything before it go NaN). */
  layer: number;
}

/** One step's probe blob: plausible numbers, NaN where a field does not apply. */
export function probe(layers: LayerInput[], step: number, growth = 1, trouble?: Trouble): Float32Array {
  const nf = FIELDS.length;
  const v = new Float32Array(layers.length * nf);
  const g = growth ** step;
  layers.forEach((l, i) => {
    const p = hasParams(l.kind);
    const relu = l.kind === 'ReLU';
    const bad = trouble && step >= trouble.nanStep && i <= trouble.layer;
    const row: number[] = [
      0.1 * Math.sin(step + i),
      1 + 0.01 * i,
      (2 + i) * g,
      relu ? Math.min(0.99, 0.3 + 0.005 * step + 0.01 * i) : 0,
      0,
      p ? 10 + i : NaN,
      p ? (bad ? NaN : 0.05 * g * (1 + i / 10)) : NaN,
      p ? (bad ? NaN : 0.01 * g) : NaN,
      p ? (bad ? NaN : 1e-3 * g * (1 + i / 20)) : NaN,
      p ? 0 : NaN,
      bad ? NaN : 0.02 * g * (layers.length - i),
      bad ? NaN : 0.02 * g * (layers.length - i + 1),
      bad ? 4096 : 0,
    ];
    v.set(row, i * nf);
  });
  return v;
}

export function stepRow(step: number, perEpoch: number, growth = 1, trouble?: Trouble): StepInput {
  const bad = trouble !== undefined && step >= trouble.nanStep;
  return {
    step,
    epoch: Math.floor((step - 1) / perEpoch),
    batch: (step - 1) % perEpoch,
    loss: bad ? NaN : (2.3 * Math.exp(-step / 40) + 0.3) * growth ** step,
    lr: 0.01,
    gradNorm: bad ? NaN : 0.5 * growth ** step,
    timeMs: 12,
    imgPerS: 1000,
  };
}

export interface FixtureRun {
  name: string;
  layers?: LayerInput[];
  steps: number;
  perEpoch?: number;
  growth?: number;
  trouble?: Trouble;
  status?: RunRow['status'];
  sweepId?: string;
  cellKey?: string;
  config?: Record<string, unknown>;
  verdict?: unknown;
}

export const NAN_REPORT = (nanStep: number, layer = 3) => ({
  step: nanStep,
  epoch: 0,
  batch: nanStep - 1,
  pass: 'backward',
  layer: String(layer),
  layerKind: 'Conv2d',
  alias: 'conv2',
  op: 'ConvolutionBackward0',
  tensor: 'grad_weight',
  counts: { nan: 4096, posInf: 0, negInf: 0 },
  trail: { steps: [nanStep - 3, nanStep - 2, nanStep - 1], actMax: [10, 1e4, 1e9], gradNorm: [1, 1e5, 1e12] },
  explanation: {
    en: 'The gradient of conv2 overflowed to Inf in the backward pass, and Inf - Inf gave NaN.',
    zh: 'conv2 的梯度在反向传播中溢出为 Inf，Inf - Inf 得到 NaN。',
  },
});

export const NAN_VERDICT = {
  run: 'exploding',
  layers: [{ name: '3', alias: 'conv2', verdict: 'exploding' }],
  text: { en: 'Exploding gradients: the global gradient norm grew without bound.', zh: '梯度爆炸：全局梯度范数无限增长。' },
  fixes: [{ en: 'Lower the learning rate.', zh: '降低学习率。' }],
};

/** Write a whole run (layers, steps + probes, epochs, events, verdict) through the Store API. */
export function writeRun(store: Store, f: FixtureRun): RunRow {
  const layers = f.layers ?? ALEXNET;
  const perEpoch = f.perEpoch ?? 20;
  const run = store.createRun({
    name: f.name,
    config: f.config ?? { model: layers === ALEXNET ? 'alexnet' : 'lenet', lr: 0.01 },
    sweepId: f.sweepId,
    cellKey: f.cellKey,
  });
  store.setLayers(run.id, layers, FIELDS);
  const last = f.trouble ? f.trouble.nanStep : f.steps;
  const rows: StepInput[] = [];
  const probes: ProbeInput[] = [];
  for (let s = 1; s <= last; s++) {
    rows.push(stepRow(s, perEpoch, f.growth, f.trouble));
    probes.push({ step: s, values: probe(layers, s, f.growth, f.trouble) });
  }
  store.logSteps(run.id, rows, probes);
  for (let e = 0; e < Math.floor(last / perEpoch); e++) {
    store.logEpoch(run.id, { epoch: e, loss: 1 / (e + 1), trainAcc: 0.6 + 0.1 * e, testAcc: 0.55 + 0.1 * e, imgPerS: 1000 });
  }
  if (f.trouble) {
    const report = NAN_REPORT(f.trouble.nanStep, f.trouble.layer);
    store.addEvent(run.id, f.trouble.nanStep, 'nan', report);
    store.updateRun(run.id, { report, verdict: f.verdict ?? NAN_VERDICT, finalLoss: NaN });
    return store.setStatus(run.id, f.status ?? 'diverged');
  }
  store.updateRun(run.id, {
    verdict: f.verdict ?? { run: 'healthy', layers: [], text: { en: 'Healthy run.', zh: '训练正常。' }, fixes: [] },
    finalLoss: 0.4,
    finalTrainAcc: 0.8,
    finalTestAcc: 0.78,
  });
  return f.status === 'running' ? store.getRun(run.id)! : store.setStatus(run.id, f.status ?? 'finished');
}
