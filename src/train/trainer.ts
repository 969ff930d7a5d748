// The training loop: d2l's train_ch6 (SGD, cross-entropy, per-epoch test accuracy, the same
// printed line), with every step watched by the probes. Data flows one way:
//   loader batch -> tensors -> model (probed) -> loss -> backward (probed) -> checks -> SGD
//   -> store (buffered) / checkpoint.
// A non-finite loss or gradient never reaches the optimizer: the step is re-executed under the
// locator from its saved RNG state, the report is stored, and the --on-nan policy (on-nan.ts)
// decides what the loop does next: each step returns an outcome, the policy maps it to an action.
import { d2lLine } from '../diagnose/format.js';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { thisMachine } from './machine.js';
import * as torch from '../torch/index.js';
import { tidy, keep, type Tensor, type TensorStats } from '../torch/index.js';
import { SGD, crossEntropyLoss, type Module, type LossFn } from '../nn/index.js';
import { buildModel, knobsOf, type ModelFactory } from '../models/index.js';
import { DataLoader, NUM_CLASSES, type Batch, type BatchSource, type FashionMnist } from '../data/index.js';
import { Probes, gradientSummary, layerMeta, locate, locateUpdate, explain, History, verdict, netActivation, netNormalizes, EarlyWarning, PROBE_FIELDS, FIELD, NF, type NonFiniteReport, type Origin, type Verdict, type StepHistograms, type LayerMeta } from '../diagnose/index.js';
import { writeFileAtomicSync, type Store, type StepInput, type ProbeInput } from '../store/index.js';
import { FLOAT32_MAX, type TrainConfig } from './config.js';
import { applyInit } from './init.js';
import { batchTensors } from './batch.js';
import { checkFirstBatch } from './check-model.js';
import { evaluateAccuracy } from './evaluate.js';
import { saveCheckpoint, CheckpointWriter, restoreCheckpoint, readCheckpointMeta, checkPosition, type CheckpointMeta, type Position } from './checkpoint.js';
import { Progress } from './progress.js';
import { PhaseTimes, EpochClock, type EpochTiming } from './phases.js';
import { onNanAction, type RollbackAction } from './on-nan.js';
import type { StepOutcome, FiniteStep, NonFiniteStep } from './outcome.js';

export const EXIT_DIVERGED = 3;
export const EXIT_INTERRUPTED = 130;
export const TRAIL_STEPS = 50;
/**
 * Steps are buffered and written in one transaction when this many are pending or FLUSH_MS has
 * passed (the dashboard polls the store, so the time bound is how stale its live view may be),
 * and always before anything that reads them back or ends the run: a checkpoint, a bad step,
 * the run's end, SIGINT and an exception out of the loop.
 */
export const FLUSH_STEPS = 50;
export const FLUSH_MS = 2000;
/** Batches resized ahead by the data loaders' thread: enough to hide the resize, few enough not to crowd the step. */
export const PREFETCH = 2;

export interface EpochResult { epoch: number; loss: number; trainAcc: number; testAcc: number | null; imgPerS: number }
export interface TrainResult {
  status: 'finished' | 'diverged' | 'interrupted';
  steps: number;
  epochs: EpochResult[];
  report: NonFiniteReport | null;
  verdict: Verdict;
  examplesPerSec: number;
  exitCode: number;
}

/** What the run has come to so far, as the epochs go: what finish() reports. */
interface RunState { status: TrainResult['status']; report: NonFiniteReport | null; epochs: EpochResult[] }

export interface TrainerOptions {
  store: Store;
  runId: string;
  /**
   * The network: a Module, or a function building one (called after manualSeed(config.seed),
   * so the same seed gives the same weights). Default: the zoo model config.model names.
   * Either way config.init is applied to it, as d2l's train_ch6 does.
   */
  model?: Module | ModelFactory;
  /** loss(output, labels) -> scalar. Default: cross-entropy, as d2l's train_ch6. */
  loss?: LossFn;
  /** Fashion-MNIST, batched by the config (d2l's load_data_fashion_mnist); or give train/test. */
  data?: FashionMnist;
  /** Training batches (overrides data.train); see BatchSource for what replay needs of it. */
  train?: BatchSource;
  /** Test batches for the epoch-end accuracy (overrides data.test); null: no evaluation. */
  test?: BatchSource | null;
  /** Continue from this checkpoint file (resume). */
  resumeFrom?: string | null;
  /** Where progress and d2l's lines go. */
  out?: NodeJS.WriteStream;
  /** No progress bars (the epoch lines and reports still print). */
  quiet?: boolean;
  /** No output at all (experiments, replay, tests). */
  silent?: boolean;
  /** Set by the CLI's SIGINT handler; checked between steps. */
  stopSignal?: { stop: boolean };
  /** false: no files in the run folder (checkpoints, bad batch, verdict.json); replay re-runs steps this way. */
  files?: boolean;
  /** Test hook: called after each step's backward, before the checks (e.g. to plant faults). */
  afterBackward?: (step: number, net: Module) => void;
  /** Test hook: called before a step's forward. */
  beforeStep?: (step: number, net: Module) => void;
}

/** Copies of the model's buffers (BN running statistics and counters): what a forward mutates. */
function snapshotBuffers(net: Module): Map<string, Tensor> {
  return new Map([...net.namedBuffers()].map(([k, t]) => [k, t.clone()]));
}
function restoreBuffers(net: Module, saved: ReadonlyMap<string, Tensor>): void {
  torch.noGrad(() => { for (const [k, t] of net.namedBuffers()) t.copy_(saved.get(k)!); });
}

export class Trainer {
  readonly net: Module;
  readonly opt: SGD;
  readonly probes: Probes;
  readonly history: History;
  readonly warning: EarlyWarning;
  readonly train: BatchSource;
  readonly test: BatchSource | null;
  readonly loss: LossFn;
  private readonly dir: string;
  private step = 0;
  private pos: Position = { epoch: 0, batch: 0 };
  private sums = { loss: 0, correct: 0, n: 0, trainMs: 0 };
  private totalExamples = 0;
  private totalTrainMs = 0;
  private skips = 0;
  private rollbacks = 0;
  private readonly baseLr: number;
  private pendingSteps: StepInput[] = [];
  private pendingProbes: ProbeInput[] = [];
  private lastFlush = Date.now();
  private lastCheckpoint: string | null = null;
  private readonly log: (s: string) => void;
  /** From the last probed step: bounds the update-overflow check. */
  private lastMaxParam = 0;
  private lastGradNorm = NaN;
  /** Where each epoch's time went (the epoch bench reads these; nothing decides on them). */
  readonly phases = new PhaseTimes();
  readonly epochTimings: EpochTiming[] = [];
  /** Periodic and epoch-end checkpoints are written by this thread while the next steps run. */
  private readonly writer = new CheckpointWriter();
  /** The background checkpoint in flight: resolves once it is in place and recorded. */
  private writing: Promise<void> | null = null;
  /**
   * The generators' states before the current step (CPU, and the CUDA device's on --device cuda):
   * a bad step is re-executed from them and they go into its last-good checkpoint.
   */
  private rng: torch.RngStates | null = null;
  /** Times the epoch being trained (started with its first batch, read after its checkpoint). */
  private readonly epochClock = new EpochClock();

  constructor(readonly config: TrainConfig, private readonly o: TrainerOptions) {
    const c = config;
    // All cores unless told otherwise, as --threads promises. libtorch's own default is its
    // count of physical cores, which on this 2-core VM comes out as 1 (PyTorch says 1 too):
    // left alone, every run used half the machine (measured 62 vs 122 img/s, AlexNet 96 b64).
    torch.setNumThreads(c.threads ?? availableParallelism());
    torch.setDefaultDevice(c.device);
    torch.manualSeed(c.seed);
    // The loaders resize the next PREFETCH batches' images in a worker thread while the step runs.
    const train = o.train ?? (o.data && new DataLoader(o.data.train, { batchSize: c.batchSize, shuffle: true, seed: c.seed, resize: c.resize, prefetch: PREFETCH }));
    if (!train) throw new Error('Trainer: give data (Fashion-MNIST) or a train batch source');
    this.train = train;
    this.test = o.test !== undefined ? o.test : o.data ? new DataLoader(o.data.test, { batchSize: c.batchSize, shuffle: false, resize: c.resize, prefetch: PREFETCH }) : null;
    this.loss = o.loss ?? crossEntropyLoss;
    const m = o.model;
    this.net = m === undefined ? buildModel(c) : typeof m === 'function' ? m() : m;
    applyInit(this.net, c.init);
    if (m !== undefined) {
      try {
        checkFirstBatch(this.net, this.train.batch(0, 0), { side: c.resize, scalePixels: c.scalePixels, device: c.device,
          label: c.modelFile ? `the model of ${c.modelFile}` : 'the model', classes: o.loss ? null : NUM_CLASSES });
      } catch (e) {
        this.net.dispose();
        throw e;
      }
    }
    this.opt = new SGD(this.net.parameters(), { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
    this.baseLr = c.lr;
    this.probes = new Probes(this.net, [1, 1, c.resize, c.resize]);
    this.history = new History(this.probes.layers.length);
    this.warning = new EarlyWarning(this.probes.layers.map((l) => l.alias));
    this.dir = o.store.runDir(o.runId);
    const out = o.out ?? process.stdout;
    this.log = o.silent ? () => {} : (s) => out.write(`${s}\n`);
    o.store.setLayers(o.runId, this.layers, [...PROBE_FIELDS]);
    // The machine this segment trains on (a resumed run: the machine that continued it), since
    // where a run near the edge of divergence goes non-finite depends on it.
    o.store.updateRun(o.runId, { machine: thisMachine() });
    if (o.resumeFrom) this.restore(o.resumeFrom);
  }

  /** The watched layers in execution order, with their paths and identity (see diagnose/layers.ts). */
  get layers(): LayerMeta[] { return layerMeta(this.probes.layers); }

  private restore(path: string): void {
    checkPosition(readCheckpointMeta(path), this.train.numBatches, path); // before any weight is touched
    const m = restoreCheckpoint(path, this.net, this.opt);
    this.step = m.step;
    this.pos = m.next;
    this.sums = { ...m.epochSums };
    this.totalExamples = m.totalExamples;
    this.totalTrainMs = m.totalTrainMs;
    this.skips = m.skips;
    this.rollbacks = m.rollbacks;
    this.opt.lr = m.lr;
    this.o.store.truncateSteps(this.o.runId, m.step);
    this.log(`resumed from ${path} at step ${m.step} (epoch ${m.next.epoch + 1}, batch ${m.next.batch})`);
  }

  private meta(reason: string, next: Position = this.pos): CheckpointMeta {
    return { step: this.step, next, lr: this.opt.lr, epochSums: { ...this.sums }, totalExamples: this.totalExamples,
      totalTrainMs: this.totalTrainMs, skips: this.skips, rollbacks: this.rollbacks, reason };
  }

  /**
   * Saves the current state as the run's checkpoint. A small state is copied now and written
   * (atomically) and recorded in the background while the next steps run; one write at a time,
   * so at most one copy is held. A large one is streamed from native memory before the next
   * step, with no copy: the copy would sit on top of the step's own peak (AlexNet 224: +176 MB,
   * 1.13x PyTorch's epoch peak RSS; streamed, 0.98x), while the write takes 0.10-0.14 s, under
   * 0.5% of an epoch there.
   */
  private async checkpointSoon(reason: string): Promise<void> {
    if (this.o.files === false) return;
    await this.settleCheckpoint();
    const file = 'checkpoint.st';
    const path = join(this.dir, file);
    const step = this.step;
    const written = this.phases.time('checkpoint', () => this.writer.save(path, this.net, this.opt, this.meta(reason)));
    // Step rows wait in the buffer while the file is written (see flush), so a kill -9 at any
    // moment leaves the store at most one checkpoint interval ahead of the checkpoint on disk.
    const recorded = written.then(() => {
      this.lastCheckpoint = path;
      this.flush(true);
      this.o.store.addArtifact(this.o.runId, { kind: 'checkpoint', relPath: file, step });
      this.o.store.addEvent(this.o.runId, step, 'checkpoint', { file, reason });
    });
    recorded.catch(() => {}); // raised by settleCheckpoint, not as an unhandled rejection meanwhile
    this.writing = recorded;
  }

  /** Waits for the background checkpoint in flight (its time counts as checkpoint time); throws its error. */
  private async settleCheckpoint(): Promise<void> {
    const p = this.writing;
    if (!p) return;
    this.writing = null;
    const w = performance.now(), u = process.cpuUsage();
    try {
      await p;
    } finally {
      const c = process.cpuUsage(u);
      this.phases.add('checkpoint', performance.now() - w, (c.user + c.system) / 1000);
    }
  }

  /** Saves the current state as the run's checkpoint (atomic, before returning) and records it. */
  checkpoint(reason: string, file = 'checkpoint.st', rng?: torch.RngStates): string {
    const path = join(this.dir, file);
    if (this.o.files === false) return path;
    this.phases.time('checkpoint', () => saveCheckpoint(path, this.net, this.opt, this.meta(reason), rng));
    this.flush(true);
    this.phases.time('store', () => {
      this.o.store.addArtifact(this.o.runId, { kind: 'checkpoint', relPath: file, step: this.step });
      this.o.store.addEvent(this.o.runId, this.step, 'checkpoint', { file, reason });
    });
    if (file === 'checkpoint.st') this.lastCheckpoint = path;
    return path;
  }

  /** Writes the buffered step rows when due, never while a checkpoint is being written (unless forced). */
  private flush(force = false): void {
    if (!force && (this.writing !== null || (this.pendingSteps.length < FLUSH_STEPS && Date.now() - this.lastFlush < FLUSH_MS))) return;
    if (this.pendingSteps.length) this.phases.time('store', () => this.o.store.logSteps(this.o.runId, this.pendingSteps, this.pendingProbes));
    this.pendingSteps = [];
    this.pendingProbes = [];
    this.lastFlush = Date.now();
  }

  private lrAt(step: number): number {
    const w = this.config.warmup;
    return w > 0 && step <= w ? (this.opt.lr * step) / w : this.opt.lr;
  }

  /**
   * One training step. Returns the locator's origin when the step went non-finite; then no
   * update is applied and everything the step mutated (BN running statistics and counters from
   * its forward and the locator's re-execution, momentum buffers) is put back, so the model in
   * memory, and the last-good checkpoint saved from it, is exactly the state before the step.
   */
  private trainStep(b: Batch, rng: torch.RngStates): { origin: Origin | null; loss: number; correct: number; hist?: StepHistograms | null; input: TensorStats | null } {
    const c = this.config;
    return tidy(() => {
      const { X, y } = batchTensors(b, c.resize, c.scalePixels, c.device);
      const probing = (this.step - 1) % c.probeEvery === 0;
      // Histograms on the first probed step and every histEvery probed steps after it.
      const hist = probing && c.histEvery > 0 && ((this.step - 1) / c.probeEvery) % c.histEvery === 0;
      this.o.beforeStep?.(this.step, this.net);
      const buffers = snapshotBuffers(this.net); // a forward in training mode updates them in place
      if (probing) this.probes.begin(true, hist);
      const out = this.net.call(X);
      const loss = this.loss(out, y);
      const lossVal = loss.item();
      const bad = (): { origin: Origin; hist: StepHistograms | null; input: null } => {
        // Re-execute the step from its RNG state and buffers with every layer watched; its
        // histograms are the picture of the bad step itself.
        restoreBuffers(this.net, buffers);
        torch.restoreRng(rng);
        const got: { hist: StepHistograms | null } = { hist: null };
        const origin = locate(this.net, X, y, c.histEvery > 0 ? (h) => { got.hist = h; } : undefined, this.loss) ?? { pass: 'loss', layer: null, layerIndex: -1, layerKind: 'CrossEntropyLoss', alias: 'loss',
          op: 'cross_entropy', tensor: 'loss', counts: { nan: Number.isNaN(lossVal) ? 1 : 0, posInf: 0, negInf: 0 }, detail: { loss: lossVal, note: 'not reproduced on re-execution' } };
        restoreBuffers(this.net, buffers);
        return { origin, hist: got.hist, input: null };
      };
      if (!Number.isFinite(lossVal)) { this.probes.abort(); return { ...bad(), loss: lossVal, correct: 0 }; }
      const correct = torch.noGrad(() => out.argmax(1).eq(y).sum().item());
      this.opt.zeroGrad();
      loss.backward();
      this.o.afterBackward?.(this.step, this.net);
      const lr = this.lrAt(this.step);
      let gradNorm: number, finite: boolean, maxGrad: number, maxParam = this.lastMaxParam;
      let probe: ReturnType<Probes['end']> | null = null;
      if (probing) {
        probe = this.phases.time('probes', () => this.probes.end(X));
        gradNorm = probe.gradNorm; finite = probe.gradsFinite; maxGrad = probe.maxGrad; maxParam = probe.maxParam;
        this.lastMaxParam = maxParam;
        this.history.push(this.step, lossVal, gradNorm, probe.values, probe.input.max, { correct, size: b.size });
        // update_ratio is filled in below, once the update is applied (flushed after the step).
        this.pendingProbes.push({ step: this.step, values: probe.values, hist: probe.hist });
      } else {
        const g = gradientSummary(this.opt.params);
        gradNorm = g.norm; finite = g.finite; maxGrad = g.maxAbs;
      }
      if (!finite) return { ...bad(), loss: lossVal, correct };
      this.lastGradNorm = gradNorm;
      this.watch(lossVal, gradNorm, probe);
      if (c.clip !== null && gradNorm > c.clip) {
        const scale = c.clip / (gradNorm + 1e-6);
        torch.noGrad(() => { for (const p of this.opt.params) p.grad?.mul_(scale); });
        maxGrad *= scale;
      }
      // The update can only overflow if |p| + lr*|g| nears float32's max; only then keep a copy.
      const risky = maxParam + lr * maxGrad > FLOAT32_MAX / 4;
      const saved = risky ? { params: this.opt.params.map((p) => p.clone()), momentum: this.opt.momentumBuffers.map((m) => m?.clone() ?? null) } : null;
      const applied = probe ? new Map<Tensor, number>() : undefined;
      const lrWas = this.opt.lr;
      this.opt.lr = lr;
      this.opt.step(applied);
      this.opt.lr = lrWas;
      if (saved) {
        const o = locateUpdate(this.net, X.shape, lr);
        if (o) {
          torch.noGrad(() => this.opt.params.forEach((p, i) => p.copy_(saved.params[i])));
          this.opt.momentumBuffers.forEach((m, i) => {
            const was = saved.momentum[i];
            if (was) torch.noGrad(() => m!.copy_(was));
            else { m?.dispose(); this.opt.momentumBuffers[i] = null; }
          });
          restoreBuffers(this.net, buffers);
          return { origin: o, loss: lossVal, correct, input: null };
        }
      }
      if (probe) this.phases.time('probes', () => this.probes.updateRatios(probe.values, applied!));
      return { origin: null, loss: lossVal, correct, input: probe?.input ?? null };
    });
  }
  /** Feeds the early warning a finite step; its first warning is printed and stored, once. */
  private watch(loss: number, gradNorm: number, probe: { values: Float32Array } | null): void {
    const act = probe ? this.probes.layers.map((l) => probe.values[l.index * NF + FIELD.act_max]) : null;
    const w = this.warning.observe(this.step, loss, gradNorm, act);
    if (!w) return;
    this.log(`\nearly warning at step ${w.step}: ${w.en}`);
    this.o.store.addEvent(this.o.runId, w.step, 'warning', w);
  }

  private buildReport(origin: Origin, b: Batch): NonFiniteReport {
    const body = { ...origin, step: this.step, epoch: b.epoch, batch: b.index, trail: this.history.trail(origin.layerIndex, TRAIL_STEPS) };
    return { ...body, explanation: explain(body, { activation: netActivation(this.layers), normalized: netNormalizes(this.layers, this.config.bn) }) };
  }

  /** Saves the state before the bad step and the bad batch; records the report. */
  private saveBadStep(report: NonFiniteReport, b: Batch, rng: torch.RngStates): void {
    this.step -= 1; // the bad step did not happen: the saved state is the one before it
    this.checkpoint('last-good', 'last-good.st', rng);
    this.step += 1;
    if (this.o.files !== false) {
      const batchFile = join(this.dir, 'bad-batch.st');
      tidy(() => {
        const px = torch.tensor(b.pixels, [b.size, 1, this.config.resize, this.config.resize]);
        const lb = torch.tensor(b.labels, [b.size]);
        const ix = torch.tensor(Int32Array.from(b.indices), [b.size]);
        writeFileAtomicSync(batchFile, torch.encodeTensors(new Map([['pixels', px], ['labels', lb], ['indices', ix]]),
          { step: String(report.step), epoch: String(b.epoch), batch: String(b.index) }));
      });
      this.o.store.addArtifact(this.o.runId, { kind: 'bad-batch', relPath: 'bad-batch.st', step: report.step });
    }
    this.o.store.addEvent(this.o.runId, report.step, 'nan', report);
  }

  async run(): Promise<TrainResult> {
    try {
      return await this.runLoop();
    } catch (e) {
      // Whatever ended the run, a checkpoint being written is finished and the steps the run made
      // are in the store (the error stays the one thrown).
      try { await this.settleCheckpoint(); } catch { /* the previous checkpoint stays in place */ }
      try { this.flush(true); } catch { /* the store itself may be what failed */ }
      throw e;
    } finally {
      await this.writer.close();
    }
  }

  /** The epochs in turn, each trained to its end (or to a stop, or a rollback into another epoch) and closed. */
  private async runLoop(): Promise<TrainResult> {
    const run: RunState = { status: 'finished', report: null, epochs: [] };
    while (this.pos.epoch < this.config.epochs) {
      const epoch = this.pos.epoch;
      const end = await this.trainEpoch(epoch, run);
      if (end === 'moved') continue; // rolled back into another epoch: train it from the restored position
      if (end === 'stopped') break;
      const e = await this.endEpoch(epoch);
      if (!e) break;
      run.epochs.push(e);
    }
    return this.finish(run);
  }

  /**
   * Trains epoch `epoch` from the current position to its last batch, applying the --on-nan
   * policy after each step. 'stopped': the run ends here (interrupted, max steps, diverged);
   * 'moved': a rollback put the position in another epoch.
   */
  private async trainEpoch(epoch: number, run: RunState): Promise<'done' | 'moved' | 'stopped'> {
    const c = this.config;
    this.net.train();
    const progress = this.o.quiet || this.o.silent ? null : new Progress(this.o.out ?? process.stdout, this.train.numBatches, `epoch ${epoch + 1}/${c.epochs}`);
    if (this.pos.batch === 0) this.sums = { loss: 0, correct: 0, n: 0, trainMs: 0 };
    let batches = this.batches(epoch, this.pos.batch);
    this.epochClock.start();
    this.phases.take(); // this epoch's phases only
    const next = (): IteratorResult<Batch, void> => this.phases.time('data', () => batches.next());
    for (let it = next(); !it.done; it = next()) {
      if (this.o.stopSignal?.stop) { run.status = 'interrupted'; return 'stopped'; }
      if (c.maxSteps !== null && this.step >= c.maxSteps) return 'stopped';
      const s = this.runStep(epoch, it.value);
      if (s.finite) await this.recordStep(s, progress);
      else { run.report = s.report; await this.recordBadStep(s); }
      const a = onNanAction(s, c, { skips: this.skips, rollbacks: this.rollbacks, lastCheckpoint: this.lastCheckpoint });
      switch (a.kind) {
        case 'continue':
          await new Promise((res) => setImmediate(res)); // let SIGINT and the dashboard in
          break;
        case 'skip':
          this.skip(a.skips, s);
          break;
        case 'rollback':
          this.rollBack(a);
          run.report = null; // recovered from: the NaN is in the events, not the run's outcome
          if (this.pos.epoch !== epoch) return 'moved';
          batches = this.batches(epoch, this.pos.batch);
          break;
        case 'stop':
          run.status = 'diverged';
          return 'stopped';
      }
    }
    progress?.end();
    return 'done';
  }

  /** Runs the next step on batch b (the step count advances either way) and says what it came to. */
  private runStep(epoch: number, b: Batch): StepOutcome {
    this.step += 1;
    for (const t of this.rng?.values() ?? []) t.dispose();
    const rng: torch.RngStates = new Map([...torch.captureRng(this.config.device)].map(([d, t]) => [d, keep(t)]));
    this.rng = rng;
    const t0 = performance.now();
    const r = this.phases.time('step', () => this.trainStep(b, rng));
    const ms = performance.now() - t0;
    return r.origin
      ? { finite: false, epoch, batch: b, loss: r.loss, ms, report: this.buildReport(r.origin, b), hist: r.hist ?? null }
      : { finite: true, epoch, batch: b, loss: r.loss, ms, correct: r.correct, input: r.input };
  }

  /** The position after batch b of `epoch`. */
  private after(epoch: number, b: Batch): Position {
    return b.index + 1 < this.train.numBatches ? { epoch, batch: b.index + 1 } : { epoch: epoch + 1, batch: 0 };
  }

  /** A finite step: into the epoch's sums, the step rows and the progress line; a periodic checkpoint when due. */
  private async recordStep(s: FiniteStep, progress: Progress | null): Promise<void> {
    const c = this.config;
    const { batch: b, ms } = s;
    this.sums.loss += s.loss * b.size;
    this.sums.correct += s.correct;
    this.sums.n += b.size;
    this.sums.trainMs += ms;
    this.totalExamples += b.size;
    this.totalTrainMs += ms;
    this.pos = this.after(s.epoch, b);
    const inp = s.input; // measured on probed steps only; other steps store none
    const n = inp ? Math.max(1, inp.numel) : 1;
    this.pendingSteps.push({ step: this.step, epoch: s.epoch, batch: b.index, loss: s.loss, lr: this.lrAt(this.step), gradNorm: this.lastGradNorm,
      timeMs: ms, imgPerS: (b.size * 1000) / ms, inputMin: inp?.min ?? null, inputMax: inp?.max ?? null,
      inputMean: inp ? inp.sum / n : null, inputStd: inp ? Math.sqrt(Math.max(0, inp.sumsq / n - (inp.sum / n) ** 2)) : null,
      // A finite outcome has a finite loss (a non-finite one always carries an origin), so correct was counted.
      trainAcc: s.correct / b.size });
    this.flush();
    const nb = this.train.numBatches;
    const ips = (this.sums.n * 1000) / this.sums.trainMs;
    progress?.update(b.index + 1, this.sums.loss / this.sums.n, ips, (nb - b.index - 1) * (ms / 1000));
    if (c.checkpointEvery > 0 && this.step % c.checkpointEvery === 0) await this.checkpointSoon('periodic');
  }

  /** A non-finite step: its row, the last-good state and the bad batch, its report and histograms, the line. */
  private async recordBadStep(s: NonFiniteStep): Promise<void> {
    const { store, runId } = this.o;
    const { report, batch: b } = s;
    this.pendingSteps.push({ step: this.step, epoch: s.epoch, batch: b.index, loss: s.loss, lr: this.opt.lr, gradNorm: NaN, timeMs: s.ms, nonfinite: true });
    await this.settleCheckpoint(); // the checkpoint being written lands first (a rollback returns to it)
    this.flush(true);
    this.saveBadStep(report, b, this.rng!);
    if (s.hist) store.logHistogram(runId, this.step, s.hist);
    this.log(`\nnon-finite at step ${report.step}: ${report.pass} pass, ${report.alias}${report.layer !== null ? ` (layer ${report.layer})` : ''}, op ${report.op}, ${report.tensor}`);
  }

  /** --on-nan skip: the bad batch is passed over (no update was applied) and counted. */
  private skip(skips: number, s: StepOutcome): void {
    this.skips = skips;
    this.o.store.addEvent(this.o.runId, this.step, 'skip', { skips });
    this.pos = this.after(s.epoch, s.batch);
  }

  /**
   * --on-nan rollback: the checkpoint's weights, momentum, position and sums come back, with a
   * lower lr; the skip and rollback counts carry on (the checkpoint holds older ones), and the
   * steps after it leave the store and the history.
   */
  private rollBack(a: RollbackAction): void {
    const { store, runId } = this.o;
    this.rollbacks = a.rollbacks;
    const m = restoreCheckpoint(a.checkpoint, this.net, this.opt);
    this.step = m.step; this.pos = m.next; this.sums = { ...m.epochSums };
    this.totalExamples = m.totalExamples; this.totalTrainMs = m.totalTrainMs;
    this.opt.lr = this.baseLr * a.lrScale; // not m.lr: a checkpoint written after a rollback already holds a lowered lr
    store.truncateSteps(runId, m.step);
    this.history.truncateAfter(m.step);
    store.addEvent(runId, m.step, 'rollback', { toStep: m.step, lr: this.opt.lr, rollbacks: this.rollbacks });
    this.log(`rolled back to step ${m.step}, lr now ${this.opt.lr}`);
  }

  /**
   * Closes an epoch trained to its last batch: test accuracy, the epoch's row and d2l's line, the
   * epoch-end checkpoint. null: nothing to close (no batch of it trained), and the run ends.
   */
  private async endEpoch(epoch: number): Promise<EpochResult | null> {
    if (this.sums.n === 0) return null;
    if (this.pos.epoch <= epoch) return null; // max steps reached mid-epoch
    const c = this.config;
    const test = this.test;
    const testAcc = c.evaluate && test ? this.phases.time('eval', () => evaluateAccuracy(this.net, test, c.resize, c.scalePixels, c.device)) : null;
    const e: EpochResult = { epoch, loss: this.sums.loss / this.sums.n, trainAcc: this.sums.correct / this.sums.n, testAcc,
      imgPerS: (this.sums.n * 1000) / this.sums.trainMs };
    this.phases.time('store', () => this.o.store.logEpoch(this.o.runId, { epoch, loss: e.loss, trainAcc: e.trainAcc, testAcc: e.testAcc, imgPerS: e.imgPerS, timeS: this.sums.trainMs / 1000 }));
    this.log(`epoch ${epoch + 1}/${c.epochs}: ${d2lLine(e.loss, e.trainAcc, testAcc)}`);
    await this.checkpointSoon('epoch-end');
    this.epochTimings.push(this.epochClock.end(epoch, this.phases.take()));
    return e;
  }

  /** The run's end: its last checkpoint, the verdict, d2l's closing lines, the run's row and verdict.json. */
  private async finish({ status, report, epochs }: RunState): Promise<TrainResult> {
    const c = this.config;
    const { store, runId } = this.o;
    for (const t of this.rng?.values() ?? []) t.dispose();
    this.rng = null;
    await this.settleCheckpoint();
    this.flush(true);
    if (status === 'interrupted') this.checkpoint('sigint');
    else if (status === 'finished' && this.sums.n > 0 && this.pos.batch !== 0) this.checkpoint('max-steps');
    const warned = this.warning.first;
    const v = verdict(this.history, { layers: this.layers, report, lr: this.baseLr, momentum: c.momentum, bn: c.bn, takes: knobsOf(c.model), init: c.init, activation: c.activation, warnings: warned ? [warned] : [] });
    const examplesPerSec = (this.totalExamples * 1000) / Math.max(1e-9, this.totalTrainMs);
    const last = epochs[epochs.length - 1];
    this.logEnd(status, report, last, examplesPerSec);
    store.updateRun(runId, {
      finalLoss: last?.loss ?? (this.sums.n ? this.sums.loss / this.sums.n : null), finalTrainAcc: last?.trainAcc ?? null,
      finalTestAcc: last?.testAcc ?? null, verdict: v, report,
      // A NaN that a skip or rollback recovered from is in the events, not the run's outcome.
      ...(status === 'diverged' ? {} : { firstNanStep: null, firstNanEpoch: null }),
    });
    store.setStatus(runId, status === 'interrupted' ? 'stopped' : status);
    if (this.o.files !== false) writeFileAtomicSync(join(this.dir, 'verdict.json'), JSON.stringify({ verdict: v.run, causes: v.causes, chain: v.chain, numbers: v.numbers, layers: v.layers, text: v.text, fixes: v.fixes }, null, 2));
    return { status, steps: this.step, epochs, report, verdict: v, examplesPerSec,
      exitCode: status === 'diverged' ? EXIT_DIVERGED : status === 'interrupted' ? EXIT_INTERRUPTED : 0 };
  }

  /** d2l's closing lines: the last epoch's numbers (a diverged run: nan, and the explanation), then the speed. */
  private logEnd(status: TrainResult['status'], report: NonFiniteReport | null, last: EpochResult | undefined, examplesPerSec: number): void {
    if (status === 'diverged' && report) {
      // d2l's line for a run that went NaN: the loss is nan and accuracies are what was reached.
      this.log(d2lLine(NaN, this.sums.correct / Math.max(1, this.sums.n), null));
      this.log(`\n${report.explanation.en}`);
    } else if (last) {
      this.log(d2lLine(last.loss, last.trainAcc, last.testAcc));
    }
    this.log(`${examplesPerSec.toFixed(1)} examples/sec on ${this.config.device}`);
  }

  private *batches(epoch: number, start: number): Generator<Batch, void, undefined> {
    for (let i = start; i < this.train.numBatches; i++) yield this.train.batch(epoch, i);
  }

  /** The step run() would execute next: its batch position and step number. */
  get next(): { step: number; pos: Position } { return { step: this.step + 1, pos: { ...this.pos } }; }

  /**
   * Re-executes the next step (without applying it) under the locator, from the current RNG
   * state: what replay uses. Returns the origin (null: the step is clean) and its batch.
   */
  locateNext(): { origin: Origin | null; report: NonFiniteReport | null; batch: Batch } {
    const b = this.train.batch(this.pos.epoch, this.pos.batch);
    this.step += 1;
    try {
      const origin = tidy(() => {
        const { X, y } = batchTensors(b, this.config.resize, this.config.scalePixels, this.config.device);
        this.net.train();
        return locate(this.net, X, y, undefined, this.loss);
      });
      return { origin, report: origin ? this.buildReport(origin, b) : null, batch: b };
    } finally {
      this.step -= 1;
    }
  }

  dispose(): void {
    void this.writer.close();
    for (const l of [this.train, this.test]) if (l instanceof DataLoader) l.close();
    this.probes.remove();
    this.opt.dispose();
    this.net.dispose();
  }
}
