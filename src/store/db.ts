// Opening the SQLite file: connection settings and schema migration.

import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations.js';

// URI filenames, read once when better-sqlite3 loads its addon (on the first open): only a name
// starting with "file:" is read as one, and the store's paths are absolute, so this changes
// nothing else. openDatabaseReadOnly needs them for ?immutable=1.
process.env.SQLITE_USE_URI ??= '1';

export interface OpenOptions {
  /** How long a writer waits for another process's lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** Override the schema history (tests). */
  migrations?: readonly Migration[];
  /**
   * Commands that only read (runs, serve, report): if the store cannot be opened for writing
   * (a read-only folder or file), open it read-only instead of failing.
   */
  readOnlyFallback?: boolean;
  /** Open read-only from the start: no WAL switch, no migration (a store on an older schema is refused). */
  readOnly?: boolean;
}

/** Errors that mean "not writable here" rather than "broken". */
export function isReadOnlyError(err: unknown): boolean {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  return code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EROFS' || code === 'EPERM';
}

/**
 * Opens an existing store without writing anything: no WAL switch, no migration (a store that
 * needs one says so). A WAL database normally needs its -shm file, which a read-only folder
 * cannot hold; then it is opened as immutable, which is right for a folder nobody can write.
 */
export function openDatabaseReadOnly(file: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  let db: Db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('schema_version'); // the first read: where a missing -shm shows up
  } catch (err) {
    if (!isReadOnlyError(err)) throw err;
    db = new Database(`file:${encodeURI(file).replace(/[?#]/g, encodeURIComponent)}?immutable=1`, { readonly: true, fileMustExist: true });
  }
  const v = schemaVersion(db);
  if (v !== migrations.length) {
    db.close();
    throw new Error(`${file} has schema v${v}, this nanscope needs v${migrations.length}: it upgrades the store when it can write to it, but the store is read-only here`);
  }
  return db;
}

// Sweep workers commit small transactions often; 30 s is far longer than any
// single commit should hold the lock, so hitting it means something is stuck.
export const DEFAULT_BUSY_TIMEOUT_MS = 30_000;

export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  const timeout = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const db = new Database(file, { timeout });
  try {
    // busy_timeout first: switching to WAL on a fresh file needs a lock that a
    // concurrently opening process may hold.
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(timeout))}`);
    // WAL: readers (dashboard) never block the writer and several writers queue
    // on one lock instead of failing. The mode is persistent in the file.
    const mode = withBusyRetry(() => db.pragma('journal_mode = WAL', { simple: true }), timeout);
    if (String(mode).toLowerCase() !== 'wal') throw new Error(`could not enable WAL (journal_mode=${String(mode)})`);
    // NORMAL in WAL mode: a process crash loses nothing committed; a power loss
    // may drop the last few commits but never corrupts the file.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, opts.migrations ?? MIGRATIONS);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

// Switching a fresh file to WAL can answer SQLITE_BUSY at once, without consulting the busy
// handler, while another process is doing the same: retry it until the timeout.
function withBusyRetry<T>(fn: () => T, timeoutMs: number): T {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw e;
      Atomics.wait(pause, 0, 0, 20);
    }
  }
}

export function schemaVersion(db: Db): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/**
 * Bring the schema up to the last migration. All pending migrations and the
 * version bump run in one IMMEDIATE transaction, so a crash leaves the old
 * schema intact, and processes opening a new file at once serialise here: the
 * loser re-reads the version inside the lock and finds nothing to do.
 */
export function migrate(db: Db, migrations: readonly Migration[]): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
  const latest = migrations.length;
  const check = (v: number): void => {
    if (v > latest) {
      throw new Error(`database schema is v${v} but this nanscope knows only up to v${latest}; upgrade nanscope`);
    }
  };
  const before = schemaVersion(db);
  check(before);
  if (before === latest) return { from: before, to: before };

  let from = before;
  db.transaction(() => {
    from = schemaVersion(db);
    check(from);
    for (const m of migrations.slice(from)) {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      // user_version lives in the file header, which is part of the transaction.
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
  return { from, to: latest };
}
