// Public surface of the run store.
export { openStore, Store, DB_FILE, BusyError, UnsafePathError } from './store.js';
export { writerState, thisWriter, type Writer } from './liveness.js';
export type { OpenOptions } from './db.js';
export { DEFAULT_BUSY_TIMEOUT_MS } from './db.js';
export { toJson, fromJson } from './json.js';
export {
  writeFileAtomic,
  writeFileAtomicSync,
  writeJsonAtomic,
  writeJsonAtomicSync,
  readJson,
  readJsonSync,
  type FileData,
} from './atomic.js';
export { makeRunId, isSafeId } from './ids.js';
export * from './types.js';
export { spread } from './thin.js';
export { exportRun, importBundle, BUNDLE_LIMITS, type RunBundle, type BundleLimits } from './bundle.js';
export { describeMachine, shortMachine, machineKey, asMachine, type Machine } from './machine.js';
