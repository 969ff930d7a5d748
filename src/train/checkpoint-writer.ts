// The checkpoint writer's thread: writes a snapshot of a checkpoint's tensors (plain bytes,
// transferred here without a copy) as the same safetensors file saveCheckpoint streams, with
// the same atomic temp-file + fsync + rename. It cannot load the addon (one engine per
// process), so it uses only the layout (torch/layout.ts) and the atomic write (store/atomic.ts).
import { parentPort } from 'node:worker_threads';
import { writeFileAtomicSync } from '../store/atomic.js';
import { CODE, crcOf, headerFor, seed, writeAll } from '../torch/layout.js';
import type { DType } from '../torch/tensor.js';

export interface SnapshotEntry { name: string; dtype: DType; shape: number[]; bytes: ArrayBuffer }
export interface WriteJob { id: number; path: string; metadata: Record<string, string>; entries: SnapshotEntry[] }
export interface WriteDone { id: number; error: string | null }

/** Writes the job's file atomically: the header (with every tensor's checksum), then the data. */
export function writeSnapshot(job: WriteJob): void {
  const data = new Map(job.entries.map((e) => [e.name, new Uint8Array(e.bytes)]));
  const sums = new Map(job.entries.map((e) => {
    const b = data.get(e.name)!;
    return [e.name, crcOf((a, z) => b.subarray(a, z), 0, b.length, seed(CODE[e.dtype], e.shape))];
  }));
  const { head } = headerFor(new Map(job.entries.map((e) => [e.name, e])), job.metadata, sums);
  writeFileAtomicSync(job.path, (fd) => {
    writeAll(fd, head, null);
    for (const b of data.values()) writeAll(fd, b, null);
  });
}

parentPort?.on('message', (job: WriteJob) => {
  let error: string | null = null;
  try {
    writeSnapshot(job);
  } catch (e) {
    error = (e as Error).message;
  }
  parentPort!.postMessage({ id: job.id, error } satisfies WriteDone);
});
