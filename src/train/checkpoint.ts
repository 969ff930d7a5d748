// Checkpoints: the whole state a run needs to continue bit-for-bit (weights and buffers,
// optimizer buffers, the RNG state that draws dropout masks, and the data position), in one
// safetensors file written atomically (temp file + fsync + rename). A kill -9 at any moment
// leaves either the previous checkpoint or the new one, never half of one.
import { existsSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { writeTensors, readTensors, readTensorsMetadata, captureRng, restoreRng, getDefaultDevice, type RngStates, type Tensor } from '../torch/index.js';
import type { Module, SGD } from '../nn/index.js';
import { writeFileAtomicSync, toJson, fromJson } from '../store/index.js';
import { FLOAT32_MAX } from './config.js';
import { startThread } from '../data/thread.js';
import type { WriteJob, WriteDone } from './checkpoint-writer.js';

export interface Position { epoch: number; batch: number }

export interface CheckpointMeta {
  /** Steps completed. */
  step: number;
  /** The next batch to run. */
  next: Position;
  lr: number;
  /** Running sums of the current epoch, so a resumed epoch reports d2l's numbers. */
  epochSums: { loss: number; correct: number; n: number; trainMs: number };
  totalExamples: number;
  totalTrainMs: number;
  skips: number;
  rollbacks: number;
  /** Free-form: why this state was saved (periodic, epoch-end, last-good, sigint). */
  reason: string;
}

/** A generator's key in a checkpoint: 'rng' for the CPU's (as always), 'rng.cuda:0' and so on. */
const rngKey = (device: string): string => (device === 'cpu' ? 'rng' : `rng.${device}`);

/** The tensors of a checkpoint, by their names in the file; `own`: RNG states captured here, to dispose. */
function checkpointTensors(net: Module, opt: SGD, rng?: RngStates): { tensors: Map<string, Tensor>; own: RngStates | null } {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of net.stateDict()) tensors.set(`model.${k}`, t);
  for (const [k, t] of opt.stateTensors()) tensors.set(`optim.${k}`, t);
  const own = rng ? null : captureRng(getDefaultDevice());
  for (const [d, t] of rng ?? own!) tensors.set(rngKey(d), t);
  return { tensors, own };
}

export function saveCheckpoint(path: string, net: Module, opt: SGD, meta: CheckpointMeta, rng?: RngStates): void {
  const { tensors, own } = checkpointTensors(net, opt, rng);
  try {
    // Streamed tensor by tensor from native memory: no whole-file buffer (it cost +164 MB of
    // peak RSS at AlexNet 96, twice the weights).
    writeFileAtomicSync(path, (fd) => writeTensors(fd, tensors, { nanscope: toJson(meta) }));
  } finally {
    for (const t of own?.values() ?? []) t.dispose();
  }
}

/** Bytes of the model's and optimizer's tensors (a checkpoint's size, less its header and RNG state). */
function stateBytes(net: Module, opt: SGD): number {
  let n = 0;
  for (const [, t] of net.stateDict()) n += t.nbytes;
  for (const [, t] of opt.stateTensors()) n += t.nbytes;
  return n;
}

/** A checkpoint's state copied out of the tensors now (the next step may change them), ready to write. */
export function snapshotCheckpoint(path: string, net: Module, opt: SGD, meta: CheckpointMeta, rng?: RngStates): Omit<WriteJob, 'id'> {
  const { tensors, own } = checkpointTensors(net, opt, rng);
  try {
    const entries = [...tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, bytes: t.data().buffer as ArrayBuffer }));
    return { path, metadata: { nanscope: toJson(meta) }, entries };
  } finally {
    for (const t of own?.values() ?? []) t.dispose();
  }
}

/** States up to this size are copied and written in the background (LeNet: 0.25 MB); larger ones stream at once. */
export const BACKGROUND_CHECKPOINT_BYTES = 32 << 20;

/**
 * Checkpoints written off the training thread: save() copies the state out (the only part the
 * step waits for), and a worker thread writes the file, atomically as saveCheckpoint does, while
 * the next steps run. The file is bitwise the one saveCheckpoint would have written at the call.
 * A kill mid-write leaves the previous file in place (the write goes to a temp file, renamed
 * when complete). The thread lives (and holds the process open) only while a write is in flight.
 * A state over BACKGROUND_CHECKPOINT_BYTES is streamed from native memory before save() returns
 * instead: its copy would sit on top of the next step's peak (AlexNet 224: +176 MB), and
 * streaming it costs a fraction of a step that long.
 */
export class CheckpointWriter {
  private thread: Worker | null = null;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  /** Copies the state now (or writes it, when large); resolves once the file is in place, rejects if the write failed. */
  save(path: string, net: Module, opt: SGD, meta: CheckpointMeta, rng?: RngStates): Promise<void> {
    if (stateBytes(net, opt) > BACKGROUND_CHECKPOINT_BYTES) {
      try {
        saveCheckpoint(path, net, opt, meta, rng);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
    const job: WriteJob = { id: this.next++, ...snapshotCheckpoint(path, net, opt, meta, rng) };
    const done = new Promise<void>((resolve, reject) => this.waiting.set(job.id, { resolve, reject }));
    const w = this.worker();
    w.ref();
    w.postMessage(job, job.entries.map((e) => e.bytes)); // moved, not copied
    return done;
  }

  private worker(): Worker {
    if (this.thread) return this.thread;
    const w = startThread(import.meta.url, 'checkpoint-writer');
    w.unref();
    w.on('message', (m: WriteDone) => {
      const p = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      // Idle: the thread exits, and the state copy it was sent goes with its heap. Kept alive, its
      // heap is rarely collected (it allocates almost nothing), so the copy stayed until the next
      // write and that checkpoint held two. Peak RSS of a 2-epoch train: AlexNet 96 (82 MB of
      // weights) 883-891 -> 802-809 MB; AlexNet 224 (178 MB) 2199 -> 2021 MB (1829 without any
      // checkpoint). A new write starts a new thread.
      if (this.waiting.size === 0 && this.thread === w) { this.thread = null; void w.terminate(); }
      if (m.error === null) p?.resolve();
      else p?.reject(new Error(`checkpoint write failed: ${m.error}`));
    });
    const fail = (e: Error): void => {
      this.thread = null;
      for (const p of this.waiting.values()) p.reject(new Error(`checkpoint writer thread failed: ${e.message}`));
      this.waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => { if (this.thread === w) fail(new Error(`exited with code ${code}`)); });
    this.thread = w;
    return w;
  }

  /** Stops the thread (after the writes in flight are answered, if the caller awaited them). */
  async close(): Promise<void> {
    const w = this.thread;
    this.thread = null;
    if (w) await w.terminate();
    for (const p of this.waiting.values()) p.reject(new Error('checkpoint writer closed before the write was done (the previous file is untouched)'));
    this.waiting.clear();
  }
}

/** rng: the CPU generator's state; deviceRng: the CUDA generators' (runs on --device cuda). */
export interface Loaded { meta: CheckpointMeta; model: Map<string, Tensor>; optim: Map<string, Tensor>; rng: Tensor; deviceRng: Map<string, Tensor> }

export function readCheckpoint(path: string): Loaded {
  if (!existsSync(path)) throw new Error(`checkpoint not found: ${path}`);
  const { tensors, metadata } = readTensors(path);
  if (!metadata.nanscope) throw new Error(`${path}: not a nanscope checkpoint (no metadata)`);
  const model = new Map<string, Tensor>();
  const optim = new Map<string, Tensor>();
  const deviceRng = new Map<string, Tensor>();
  let rng: Tensor | null = null;
  for (const [k, t] of tensors) {
    if (k.startsWith('model.')) model.set(k.slice(6), t);
    else if (k.startsWith('optim.')) optim.set(k.slice(6), t);
    else if (k === 'rng') rng = t;
    else if (k.startsWith('rng.')) deviceRng.set(k.slice(4), t);
    else t.dispose();
  }
  if (!rng) throw new Error(`${path}: checkpoint has no RNG state`);
  try {
    return { meta: checkMeta(metadata.nanscope, path), model, optim, rng, deviceRng };
  } catch (e) {
    for (const t of [...model.values(), ...optim.values(), rng, ...deviceRng.values()]) t.dispose();
    throw e;
  }
}

/**
 * The metadata, checked field by field: a step of -5 or 1e15, a NaN learning rate or a missing
 * position is damage, and must not become the state a run continues from.
 */
function checkMeta(text: string, path: string): CheckpointMeta {
  const bad = (m: string): never => { throw new Error(`${path}: damaged checkpoint metadata: ${m}`); };
  let m: CheckpointMeta;
  try { m = fromJson<CheckpointMeta>(text); } catch { return bad('not valid JSON'); }
  if (typeof m !== 'object' || m === null) bad('not an object');
  const count = (v: unknown, name: string): void => { if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > MAX_COUNT) bad(`${name} must be an integer in [0, ${MAX_COUNT}], got ${JSON.stringify(v)}`); };
  const amount = (v: unknown, name: string): void => { if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(`${name} must be a finite number >= 0, got ${JSON.stringify(v)}`); };
  count(m.step, 'step');
  if (typeof m.next !== 'object' || m.next === null) bad('no data position (next)');
  count(m.next.epoch, 'next.epoch');
  count(m.next.batch, 'next.batch');
  if (typeof m.lr !== 'number' || !(m.lr > 0) || m.lr > FLOAT32_MAX) bad(`lr must be in (0, float32 max], got ${JSON.stringify(m.lr)}`);
  if (typeof m.epochSums !== 'object' || m.epochSums === null) bad('no epoch sums');
  amount(m.epochSums.loss, 'epochSums.loss');
  count(m.epochSums.correct, 'epochSums.correct');
  count(m.epochSums.n, 'epochSums.n');
  amount(m.epochSums.trainMs, 'epochSums.trainMs');
  if (m.epochSums.correct > m.epochSums.n) bad('epochSums.correct exceeds epochSums.n');
  count(m.totalExamples, 'totalExamples');
  amount(m.totalTrainMs, 'totalTrainMs');
  count(m.skips, 'skips');
  count(m.rollbacks, 'rollbacks');
  if (typeof m.reason !== 'string') bad('reason must be a string');
  return m;
}

/** Far more steps, epochs or images than any run makes (2^40), far fewer than float64 counts exactly. */
const MAX_COUNT = 2 ** 40;

/**
 * A checkpoint's position must be where its step count says, for this run's data: step =
 * epoch * batches per epoch + batch. Anything else was damaged, or belongs to other data.
 */
export function checkPosition(meta: CheckpointMeta, batchesPerEpoch: number, path: string): void {
  const { epoch, batch } = meta.next;
  if (batch >= batchesPerEpoch || meta.step !== epoch * batchesPerEpoch + batch) {
    throw new Error(`${path}: checkpoint says step ${meta.step} at epoch ${epoch + 1}, batch ${batch}, which does not fit ${batchesPerEpoch} batches per epoch: damaged, or from a run on other data`);
  }
}

/** A checkpoint's metadata from its header alone (no tensor is read). */
export function readCheckpointMeta(path: string): CheckpointMeta {
  if (!existsSync(path)) throw new Error(`checkpoint not found: ${path}`);
  const metadata = readTensorsMetadata(path);
  if (!metadata.nanscope) throw new Error(`${path}: not a nanscope checkpoint (no metadata)`);
  return checkMeta(metadata.nanscope, path);
}

/** Loads a checkpoint into a model and optimizer and restores the RNG; returns its metadata. */
export function restoreCheckpoint(path: string, net: Module, opt: SGD | null, withRng = true): CheckpointMeta {
  const c = readCheckpoint(path);
  try {
    // copy_ would convert silently: a tensor stored with another dtype is damage, not a cast.
    for (const [k, t] of net.stateDict()) {
      const src = c.model.get(k);
      if (src && src.dtype !== t.dtype) throw new Error(`${path}: '${k}' is stored as ${src.dtype} but the model holds ${t.dtype}`);
    }
    net.loadStateDict(c.model);
    opt?.loadStateTensors(c.optim);
    if (withRng) restoreRng(new Map([['cpu', c.rng], ...c.deviceRng]));
    return c.meta;
  } finally {
    for (const t of [...c.model.values(), ...c.optim.values(), c.rng, ...c.deviceRng.values()]) t.dispose();
  }
}
