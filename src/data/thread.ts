// Starting a worker thread from a module that sits next to its caller, from source (tsx) or
// from dist/. Node 20 does not run `--import tsx` in worker threads, so from source a worker
// starts in thread-boot.mjs, which registers tsx and then imports the TypeScript entry.
// Shared by the data prefetcher and the checkpoint writer.
import { Worker } from 'node:worker_threads';

/** Starts `./<name>.js` (or `.ts` from source) beside the module whose import.meta.url is `from`. */
export function startThread(from: string, name: string): Worker {
  const source = from.endsWith('.ts');
  const entry = new URL(`./${name}${source ? '.ts' : '.js'}`, from);
  if (!source) return new Worker(entry);
  return new Worker(new URL('./thread-boot.mjs', import.meta.url), { workerData: { entry: entry.href }, execArgv: [] });
}
