// A worker thread's start when nanscope runs from source: registers tsx in this thread (Node 20
// does not apply the parent's --import to workers), then loads the TypeScript entry. See thread.ts.
import { workerData } from 'node:worker_threads';
const { register } = await import('tsx/esm/api');
register();
await import(workerData.entry);
