// Checkpoints: the whole state a run needs to continue bit-for-bit (weights and buffers,
// optimizer buffers, the RNG state that draws dropout masks, and the data position), in one
// safetensors file written atomically (temp file + fsync + rename). A kill -9 at any moment
// leaves either the previous checkpoint or the new one, never half of one.
import { existsSync } from 'node:fs';
import { writeTensors, readTensors, readTensorsMetadata, captureRng, restoreRng, getDefaultDevice, type RngStates, type Tensor } from '../torch/index.js';
import type { Module, SGD } from '../nn/index.js';
import { writeFileAtomicSync, toJson, fromJson } from '../store/index.js';

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

export function saveCheckpoint(path: string, net: Module, opt: SGD, meta: CheckpointMeta, rng?: RngStates): void {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of net.stateDict()) tensors.set(`model.${k}`, t);
  for (const [k, t] of opt.stateTensors()) tensors.set(`optim.${k}`, t);
  const own = rng ? null : captureRng(getDefaultDevice());
  for (const [d, t] of rng ?? own!) tensors.set(rngKey(d), t);
  try {
    // Streamed tensor by tensor from native memory: no whole-file buffer (it cost +164 MB of
    // peak RSS at AlexNet 96, twice the weights).
    writeFileAtomicSync(path, (fd) => writeTensors(fd, tensors, { nanscope: toJson(meta) }));
  } finally {
    for (const t of own?.values() ?? []) t.dispose();
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
  return { meta: fromJson<CheckpointMeta>(metadata.nanscope), model, optim, rng, deviceRng };
}

/** A checkpoint's metadata from its header alone (no tensor is read). */
export function readCheckpointMeta(path: string): CheckpointMeta {
  if (!existsSync(path)) throw new Error(`checkpoint not found: ${path}`);
  const metadata = readTensorsMetadata(path);
  if (!metadata.nanscope) throw new Error(`${path}: not a nanscope checkpoint (no metadata)`);
  return fromJson<CheckpointMeta>(metadata.nanscope);
}

/** Loads a checkpoint into a model and optimizer and restores the RNG; returns its metadata. */
export function restoreCheckpoint(path: string, net: Module, opt: SGD | null, withRng = true): CheckpointMeta {
  const c = readCheckpoint(path);
  try {
    net.loadStateDict(c.model);
    opt?.loadStateTensors(c.optim);
    if (withRng) restoreRng(new Map([['cpu', c.rng], ...c.deviceRng]));
    return c.meta;
  } finally {
    for (const t of [...c.model.values(), ...c.optim.values(), c.rng, ...c.deviceRng.values()]) t.dispose();
  }
}
