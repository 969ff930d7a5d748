// What one `npm run bench` measured, as data: what the console lines and docs/PERFORMANCE.md's
// generated blocks are both rendered from (bench/perf-doc.ts), so the document quotes the run.
import type { Machine } from '../src/store/index.js';

/** One nanscope training step as the trainer runs it: engine only, + NaN checks, + per-layer probes. */
export type Mode = 'engine' | 'checks' | 'probes';

/** A step case: seconds per step, PyTorch's and each nanscope mode's, in A/B pair order. */
export interface StepRow { name: string; batch: number; torch: number[]; ns: Partial<Record<Mode, number[]>> }

/** The data pipeline alone: n images resized to side and scaled, seconds for each side. */
export interface DataRow { n: number; side: number; torchS: number; nsS: number }

/** An epoch case: AlexNet at side x side, batch, n train and nTest test images. */
export interface EpochCase { side: number; batch: number; n: number; nTest: number }

/** One epoch of either side, in seconds: its wall and CPU time, and per phase (only the phases that side has). */
export interface Epoch { wall: number; cpu: number; phases: Partial<Record<string, { wall: number; cpu: number }>> }
/** One fresh process of either side: its epochs and its peak RSS (VmHWM). */
export interface Side { epochs: Epoch[]; rssMb: number }
/** An epoch case's pairs: torch[i] and ns[i] ran as pair i. */
export interface EpochResult {
  torch: Side[]; ns: Side[]; epochs: number; workers: number; threads: number;
  /** Whether nanscope's trainer ran compiled, as the package runs ('built'), or from the TypeScript source through tsx. */
  nanscopeFrom: 'built' | 'source';
}

/** Where and how the run was made: printed beside every generated table. */
export interface RunInfo {
  /** The command as typed, e.g. `npm run bench -- --write-performance`. */
  command: string;
  date: Date;
  /** The whole run's wall time. */
  seconds: number;
  /** Short commit hash, with ' + uncommitted changes' when the tree differed from it. */
  commit: string;
  machine: Machine;
  /** 1, 5 and 15-minute load averages just before the run: how quiet the machine was. */
  loadBefore: number[];
  /** Intra-op threads each side gets when nothing sets them (PyTorch's torch.get_num_threads(), nanscope train's). */
  defaults: { torch: number; nanscope: number };
}

export interface PerfRun { info: RunInfo; steps: StepRow[]; data: DataRow | null; epochs: { case: EpochCase; result: EpochResult }[] }
