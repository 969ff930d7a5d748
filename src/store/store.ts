// The run store: one SQLite file (<root>/nanscope.db) for every run's metadata
// and metrics, plus one folder per run (<root>/<runId>/) for big files that the
// database references by relative path.
//
// Every write that touches more than one row runs in a single IMMEDIATE
// transaction: a writer killed mid-call leaves either all of the call's rows or
// none, and taking the write lock up front lets concurrent sweep workers queue
// on busy_timeout instead of failing with SQLITE_BUSY on a lock upgrade.

import type { Database as Db, Statement } from 'better-sqlite3';
import { existsSync, lstatSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isReadOnlyError, openDatabase, openDatabaseReadOnly, type OpenOptions } from './db.js';
import { assertSafeId, isSafeId, makeRunId, makeSweepId } from './ids.js';
import { isThisWriter, thisWriter, writerState, type Writer } from './liveness.js';
import { toJson } from './json.js';
import { runPatchSql } from './patch.js';
import { decodeCounts, decodeProbe, encodeCounts, encodeProbe, extractSeries } from './probes.js';
import {
  artifactFromDb,
  epochFromDb,
  epochToDb,
  eventFromDb,
  parseJsonColumn,
  runFromDb,
  STEP_COLUMNS,
  stepFromDb,
  stepIsNonfinite,
  stepToDb,
  sweepFromDb,
  type ArtifactDbRow,
  type EpochDbRow,
  type EventDbRow,
  type RunDbRow,
  type StepDbRow,
  type SweepDbRow,
} from './rows.js';
import type {
  ArtifactInput,
  ArtifactKind,
  ArtifactRow,
  EpochInput,
  EpochRow,
  EventKind,
  EventRow,
  LayerInput,
  LayerRow,
  NewRun,
  NewSweep,
  HistogramSet,
  ProbeInput,
  ProbeSeries,
  ProbeSet,
  RunFilter,
  RunPatch,
  RunRow,
  RunStatus,
  StepInput,
  StepRange,
  StepRow,
  SweepRow,
  SweepStatus,
} from './types.js';
import { STEP_SQL_COLUMNS } from './step-columns.js';
import { checkEventKind, checkRunKind, checkRunStatus, checkSweepStatus, rangeParams } from './validate.js';

export const DB_FILE = 'nanscope.db';

const RANGE_SQL = 'step >= ? AND step <= ? AND (? = 1 OR step % ? = 0)';

function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A second writer for a run or sweep that has a live one: the CLI answers it with exit code 2. */
export class BusyError extends Error {
  override name = 'BusyError';
}

/** A run folder recorded in the database that does not resolve to a plain folder inside the root. */
export class UnsafePathError extends Error {
  override name = 'UnsafePathError';
}

const describeWriter = (w: Writer): string => `process ${w.pid ?? '?'}${w.host ? ` on ${w.host}` : ''}`;

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export class Store {
  /** Absolute runs root. */
  readonly root: string;
  readonly dbPath: string;
  private readonly db: Db;
  private readonly host = thisWriter().host!;
  private readonly statements = new Map<string, Statement>();

  /** True when opened read-only (readOnlyFallback on a folder this process cannot write). */
  readonly readonly: boolean;

  constructor(rootDir: string, opts: OpenOptions = {}) {
    this.root = resolve(rootDir);
    this.dbPath = join(this.root, DB_FILE);
    let db: Db;
    let readonly = false;
    if (opts.readOnly) {
      this.db = openDatabaseReadOnly(this.dbPath, opts.migrations);
      this.readonly = true;
      return;
    }
    try {
      mkdirSync(this.root, { recursive: true });
      db = openDatabase(this.dbPath, opts);
    } catch (err) {
      const ro = isReadOnlyError(err);
      if (!(ro && opts.readOnlyFallback && existsSync(this.dbPath))) {
        const why = (err as Error).message;
        throw new Error(`cannot open the run store ${this.dbPath}: ${why}${ro ? ' (this user cannot write to the runs folder or its database; training, resume and replay need write access: use another --runs-dir or fix the permissions)' : ''}`);
      }
      db = openDatabaseReadOnly(this.dbPath, opts.migrations);
      readonly = true;
    }
    this.db = db;
    this.readonly = readonly;
  }

  // Prepared statements are cached by SQL text; preparing is the costly part.
  private stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Runs fn in one IMMEDIATE transaction: every store call inside it lands, or none does. */
  atomically<T>(fn: () => T): T {
    return this.write(fn);
  }

  // ---------------------------------------------------------------- runs

  createRun(r: NewRun): RunRow {
    const kind = checkRunKind(r.kind ?? (r.sweepId ? 'sweep-cell' : 'train'));
    const status = checkRunStatus(r.status ?? 'running');
    if (r.id !== undefined) assertSafeId(r.id, 'run id');
    const now = Date.now();
    const createdAt = r.createdAt ?? now;
    const insert = this.stmt(
      `INSERT INTO runs (id, name, kind, parent_id, sweep_id, cell_key, status, config, seed,
                         created_at, updated_at, finished_at, pid, host, pid_start, machine, dir)
       VALUES (@id, @name, @kind, @parent_id, @sweep_id, @cell_key, @status, @config, @seed,
               @created_at, @now, @finished_at, @pid, @host, @pid_start, @machine, @id)`,
    );
    const pid = r.pid === undefined ? process.pid : r.pid;
    // A generated id can collide with one made in the same second; try a new suffix.
    for (let attempt = 0; ; attempt++) {
      const id = r.id ?? makeRunId(r.name, new Date(createdAt));
      try {
        insert.run({
          id,
          name: r.name,
          kind,
          parent_id: r.parentId ?? null,
          sweep_id: r.sweepId ?? null,
          cell_key: r.cellKey ?? null,
          status,
          config: r.config === undefined || r.config === null ? null : toJson(r.config),
          seed: r.seed ?? null,
          now,
          created_at: createdAt,
          finished_at: status === 'running' ? null : now,
          pid,
          host: r.host === undefined ? this.host : r.host,
          pid_start: pid === process.pid ? thisWriter().pidStart : null,
          machine: r.machine ? toJson(r.machine) : null,
        });
        return this.requireRun(id);
      } catch (err) {
        const code = sqliteCode(err);
        if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' && r.id === undefined && attempt < 8) continue;
        if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new Error(`run ${id} already exists`);
        if (code === 'SQLITE_CONSTRAINT_UNIQUE' && r.cellKey != null) {
          throw new Error(`sweep ${r.sweepId} already has a run for cell ${JSON.stringify(r.cellKey)}`);
        }
        if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
          throw new Error(`unknown parent run ${r.parentId ?? '-'} or sweep ${r.sweepId ?? '-'}`);
        }
        throw err;
      }
    }
  }

  getRun(id: string): RunRow | undefined {
    const row = this.stmt('SELECT * FROM runs WHERE id = ?').get(id) as RunDbRow | undefined;
    return row && runFromDb(row);
  }

  private requireRun(id: string): RunRow {
    const run = this.getRun(id);
    if (!run) throw new Error(`unknown run ${id}`);
    return run;
  }

  /** Newest first. */
  listRuns(filter: RunFilter = {}): RunRow[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const addIn = (column: string, v: string | string[] | undefined): void => {
      if (v === undefined) return;
      const list = Array.isArray(v) ? v : [v];
      where.push(list.length ? `${column} IN (${list.map(() => '?').join(', ')})` : '0');
      params.push(...list);
    };
    addIn('status', filter.status);
    addIn('kind', filter.kind);
    addIn('sweep_id', filter.sweepId);
    addIn('parent_id', filter.parentId);
    let sql = 'SELECT * FROM runs';
    if (where.length) sql += ` WHERE ${where.join(' AND ')}`;
    sql += ' ORDER BY created_at DESC, rowid DESC';
    if (filter.limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(Math.max(0, Math.floor(filter.limit)));
    }
    return (this.stmt(sql).all(...params) as RunDbRow[]).map(runFromDb);
  }

  updateRun(id: string, patch: RunPatch): RunRow {
    const { sql, params } = runPatchSql(id, patch, Date.now());
    const res = this.stmt(sql).run(params);
    if (res.changes === 0) throw new Error(`unknown run ${id}`);
    return this.requireRun(id);
  }

  /**
   * Change status. Leaving 'running' stamps finishedAt (unless given); going
   * back to 'running' (resume) clears it and claims the run for this process.
   */
  setStatus(id: string, status: RunStatus, extra: RunPatch = {}): RunRow {
    checkRunStatus(status);
    const me = thisWriter();
    const patch: RunPatch =
      status === 'running'
        ? { finishedAt: null, pid: me.pid, host: me.host, pidStart: me.pidStart, ...extra, status }
        : { finishedAt: Date.now(), ...extra, status };
    return this.updateRun(id, patch);
  }

  /**
   * Take over a run as its one writer (resume): refused with a BusyError while another live
   * process writes it. Check and claim are one IMMEDIATE transaction, so of two processes
   * resuming the same run at once exactly one wins. Returns the row as it was before.
   */
  claimRun(id: string, extra: RunPatch = {}): RunRow {
    return this.write(() => {
      const run = this.requireRun(id);
      this.refuseLiveWriter(`run ${id}`, run);
      this.setStatus(id, 'running', extra);
      return run;
    });
  }

  /** 'alive' while the run is 'running' and its writer process still exists (see liveness.ts). */
  writerState(run: Pick<RunRow, 'status' | 'pid' | 'host' | 'pidStart'>): 'alive' | 'dead' | 'unknown' {
    return run.status === 'running' ? writerState(run) : 'dead';
  }

  /** Throws a BusyError when `row` (a run or sweep) is 'running' with a live writer other than this process. */
  refuseLiveWriter(what: string, row: { status: string } & Writer): void {
    if (row.status !== 'running' || isThisWriter(row)) return;
    const state = writerState(row);
    if (state === 'dead') return;
    throw new BusyError(
      state === 'alive'
        ? `${what} is still being written by ${describeWriter(row)}; stop it first (Ctrl-C or kill ${row.pid}) or wait for it to end`
        : `${what} is marked running by ${describeWriter(row)}, another machine; it cannot be checked from here, so it is left alone`,
    );
  }

  /**
   * Absolute path of the run's folder, created if missing (unless create is false). The folder
   * name is read back from the database, so it is checked before anything is created, read,
   * served or deleted there: one plain name inside the root (no '..', no '/'), not the
   * database's own files, and not a symlink or a file.
   */
  runDir(id: string, opts: { create?: boolean } = {}): string {
    const run = this.requireRun(id);
    const bad = (why: string): never => {
      throw new UnsafePathError(`run ${id}: its recorded folder ${JSON.stringify(run.dir)} ${why}; refusing to use it`);
    };
    if (!isSafeId(run.dir) || run.dir.startsWith(DB_FILE)) bad(`is not a plain folder name inside ${this.root}`);
    const dir = join(this.root, run.dir);
    let st;
    try {
      st = lstatSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (st?.isSymbolicLink()) bad(`(${dir}) is a symlink`);
    if (st && !st.isDirectory()) bad(`(${dir}) is not a folder`);
    if (!st && opts.create !== false) mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Absolute path for a file inside the run folder; refuses paths that escape it. */
  artifactPath(runId: string, relPath: string): string {
    const dir = this.runDir(runId);
    const full = resolve(dir, relPath);
    const rel = relative(dir, full);
    if (isAbsolute(relPath) || rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new Error(`artifact path ${JSON.stringify(relPath)} must be relative and inside the run folder`);
    }
    return full;
  }

  /** Delete a run and all its rows (cascade); optionally its folder too. */
  deleteRun(id: string, opts: { removeFiles?: boolean } = {}): boolean {
    if (!this.getRun(id)) return false;
    // Checked first: a folder that fails the checks keeps its row and its files.
    const dir = opts.removeFiles ? this.runDir(id, { create: false }) : null;
    this.stmt('DELETE FROM runs WHERE id = ?').run(id);
    if (dir) rmSync(dir, { recursive: true, force: true });
    return true;
  }

  /**
   * Removes a run that never started training (failed or interrupted before its first step,
   * no artifacts) so its name can be used again; its folder goes too if it is empty. A run
   * with steps, artifacts or files is kept. Returns whether the run was removed.
   */
  discardUnstarted(id: string): boolean {
    const run = this.getRun(id);
    if (!run || (run.status !== 'failed' && run.status !== 'interrupted') || run.stepsDone > 0) return false;
    if (this.getArtifacts(id).length > 0) return false;
    let dir: string;
    try {
      dir = this.runDir(id, { create: false });
    } catch (err) {
      if (err instanceof UnsafePathError) return false; // not ours to touch
      throw err;
    }
    if (existsSync(dir) && readdirSync(dir).length > 0) return false;
    this.stmt('DELETE FROM runs WHERE id = ?').run(id);
    if (existsSync(dir)) rmdirSync(dir); // empty: checked above
    return true;
  }

  /**
   * Mark 'running' runs of this host whose writer process is gone (kill -9,
   * OOM, reboot) as 'interrupted'. Returns the runs it changed.
   */
  interruptStaleRuns(): RunRow[] {
    const candidates = this.stmt(
      "SELECT id, pid, host, pid_start AS pidStart FROM runs WHERE status = 'running' AND host = ? AND pid IS NOT NULL",
    ).all(this.host) as ({ id: string } & Writer)[];
    const stale = candidates.filter((c) => writerState(c) === 'dead');
    // Re-checked inside the lock: a resume may have claimed the run in between.
    return this.write(() =>
      stale
        .filter((c) => {
          const now = this.getRun(c.id);
          return now?.status === 'running' && now.pid === c.pid && now.pidStart === c.pidStart;
        })
        .map((c) => this.setStatus(c.id, 'interrupted', { error: `writer process ${c.pid} is gone` })),
    );
  }

  // -------------------------------------------------------------- layers

  /**
   * Record the probed layers and the probe field names (blob layout). Calling
   * it again with the same lists (resume) is a no-op; changing them is refused
   * once probes exist, because the stored blobs would no longer decode.
   */
  setLayers(runId: string, layers: readonly LayerInput[], probeFields: readonly string[]): void {
    if (new Set(probeFields).size !== probeFields.length) throw new Error('probe field names must be unique');
    this.write(() => {
      const run = this.requireRun(runId);
      const current = this.getLayers(runId);
      const sameLayers =
        current.length === layers.length &&
        current.every((l, i) => l.name === layers[i].name && l.kind === layers[i].kind);
      if (sameLayers && run.probeFields && sameStrings(run.probeFields, probeFields)) return;
      if (this.stmt('SELECT 1 FROM probes WHERE run_id = ? LIMIT 1').get(runId)) {
        throw new Error(`run ${runId} already has probes with a different layer/field layout`);
      }
      this.stmt('DELETE FROM layers WHERE run_id = ?').run(runId);
      const insert = this.stmt('INSERT INTO layers (run_id, idx, name, kind, parent, depth, alias, has_weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      layers.forEach((l, idx) => {
        const dot = l.name.lastIndexOf('.');
        insert.run(runId, idx, l.name, l.kind, l.parent ?? (dot < 0 ? '' : l.name.slice(0, dot)), l.depth ?? l.name.split('.').length,
          l.alias ?? null, l.hasWeight === undefined || l.hasWeight === null ? null : Number(l.hasWeight));
      });
      this.stmt('UPDATE runs SET probe_fields = ?, updated_at = ? WHERE id = ?').run(
        toJson(probeFields),
        Date.now(),
        runId,
      );
    });
  }

  getLayers(runId: string): LayerRow[] {
    const rows = this.stmt('SELECT idx, name, kind, parent, depth, alias, has_weight FROM layers WHERE run_id = ? ORDER BY idx').all(runId) as
      (Omit<LayerRow, 'hasWeight'> & { has_weight: number | null })[];
    return rows.map(({ has_weight: hw, ...r }) => ({ ...r, hasWeight: hw === null ? null : hw !== 0 }));
  }

  // --------------------------------------------------------------- steps

  /**
   * Write a batch of steps (and their probes) in one transaction. A step that
   * already exists is replaced, so replaying after a resume is harmless. Also
   * advances runs.steps_done/updated_at and, the first time a non-finite step
   * is seen, runs.first_nan_step/first_nan_epoch.
   */
  logSteps(runId: string, rows: readonly StepInput[], probes: readonly ProbeInput[] = []): void {
    if (rows.length === 0 && probes.length === 0) return;
    const params = rows.map(stepToDb); // validate before taking the lock
    let last: number | null = null;
    let firstBad: StepInput | undefined;
    for (const r of rows) {
      if (last === null || r.step > last) last = r.step;
      if (stepIsNonfinite(r) && (!firstBad || r.step < firstBad.step)) firstBad = r;
    }
    this.write(() => {
      if (probes.length) {
        const width = this.probeWidth(runId);
        for (const p of probes) {
          if (p.values.length !== width) {
            throw new Error(`probe for step ${p.step} has ${p.values.length} values, expected layers×fields = ${width}`);
          }
        }
      }
      const insertStep = this.stmt(
        `INSERT OR REPLACE INTO steps (run_id, ${STEP_COLUMNS}) VALUES (?, ${STEP_SQL_COLUMNS.map(() => '?').join(', ')})`,
      );
      for (const p of params) insertStep.run(runId, ...p);
      const insertProbe = this.stmt('INSERT OR REPLACE INTO probes (run_id, step, data) VALUES (?, ?, ?)');
      for (const p of probes) insertProbe.run(runId, p.step, encodeProbe(p.values));
      for (const p of probes) if (p.hist) this.insertHistogram(runId, p.step, p.hist);
      const res = this.stmt(
        `UPDATE runs SET
           updated_at = @now,
           steps_done = COALESCE(@last, steps_done),
           first_nan_epoch = CASE WHEN first_nan_step IS NULL THEN @nan_epoch ELSE first_nan_epoch END,
           first_nan_step = COALESCE(first_nan_step, @nan_step)
         WHERE id = @id`,
      ).run({
        id: runId,
        now: Date.now(),
        last,
        nan_step: firstBad?.step ?? null,
        nan_epoch: firstBad?.epoch ?? null,
      });
      if (res.changes === 0) throw new Error(`unknown run ${runId}`);
    });
  }

  private probeWidth(runId: string): number {
    const row = this.stmt(
      'SELECT probe_fields, (SELECT COUNT(*) FROM layers WHERE run_id = runs.id) AS n FROM runs WHERE id = ?',
    ).get(runId) as { probe_fields: string | null; n: number } | undefined;
    if (!row) throw new Error(`unknown run ${runId}`);
    if (row.probe_fields === null) throw new Error(`run ${runId}: call setLayers before logging probes`);
    return row.n * (parseJsonColumn(row.probe_fields) as string[]).length;
  }

  /**
   * Drop steps, probes and histograms after `step` (rollback/resume from a checkpoint), and
   * recompute steps_done and first_nan_step from what is left. Returns steps removed.
   */
  truncateSteps(runId: string, afterStep: number): number {
    return this.write(() => {
      this.stmt('DELETE FROM probes WHERE run_id = ? AND step > ?').run(runId, afterStep);
      this.stmt('DELETE FROM histograms WHERE run_id = ? AND step > ?').run(runId, afterStep);
      const n = this.stmt('DELETE FROM steps WHERE run_id = ? AND step > ?').run(runId, afterStep).changes;
      // A rollback removes the non-finite step it recovered from: the first NaN step is then
      // whatever non-finite step is still logged (none: the run is not diverged).
      this.stmt(
        `UPDATE runs SET steps_done = COALESCE((SELECT MAX(step) FROM steps WHERE run_id = @id), 0),
           first_nan_step = (SELECT MIN(step) FROM steps WHERE run_id = @id AND nonfinite = 1),
           first_nan_epoch = (SELECT epoch FROM steps WHERE run_id = @id AND nonfinite = 1 ORDER BY step LIMIT 1),
           updated_at = @now WHERE id = @id`,
      ).run({ id: runId, now: Date.now() });
      return n;
    });
  }

  getSteps(runId: string, range?: StepRange): StepRow[] {
    const [from, to, every] = rangeParams(range);
    const rows = this.stmt(
      `SELECT ${STEP_COLUMNS} FROM steps WHERE run_id = ? AND ${RANGE_SQL} ORDER BY step`,
    ).all(runId, from, to, every, every) as StepDbRow[];
    return rows.map(stepFromDb);
  }

  /** Highest logged step, or null; an index lookup, cheap enough to poll. */
  latestStep(runId: string): number | null {
    const row = this.stmt('SELECT MAX(step) AS s FROM steps WHERE run_id = ?').get(runId) as { s: number | null };
    return row.s;
  }

  getProbes(runId: string, range?: StepRange): ProbeSet {
    const run = this.requireRun(runId);
    const layers = this.getLayers(runId).map((l) => l.name);
    const [from, to, every] = rangeParams(range);
    const rows = this.stmt(
      `SELECT step, data FROM probes WHERE run_id = ? AND ${RANGE_SQL} ORDER BY step`,
    ).all(runId, from, to, every, every) as { step: number; data: Buffer }[];
    return {
      steps: rows.map((r) => r.step),
      layers,
      fields: run.probeFields ?? [],
      values: rows.map((r) => decodeProbe(r.data)),
    };
  }

  private insertHistogram(runId: string, step: number, hist: NonNullable<ProbeInput['hist']>): void {
    if (hist.act.length !== hist.grad.length || hist.act.length === 0) throw new Error(`histograms for step ${step}: act and grad must be equal, non-empty layers x bins`);
    this.stmt('INSERT OR REPLACE INTO histograms (run_id, step, act, grad) VALUES (?, ?, ?, ?)')
      .run(runId, step, encodeCounts(hist.act), encodeCounts(hist.grad));
  }

  /** Histograms of one step outside logSteps (the locator's re-execution of a bad step). */
  logHistogram(runId: string, step: number, hist: NonNullable<ProbeInput['hist']>): void {
    this.requireRun(runId);
    this.write(() => this.insertHistogram(runId, step, hist));
  }

  /** The newest histograms at or before `step`, or null when none were recorded by then. */
  histogramAt(runId: string, step: number): HistogramSet | null {
    this.requireRun(runId);
    const row = this.stmt('SELECT step, act, grad FROM histograms WHERE run_id = ? AND step <= ? ORDER BY step DESC LIMIT 1')
      .get(runId, step) as { step: number; act: Buffer; grad: Buffer } | undefined;
    if (!row) return null;
    const layers = this.getLayers(runId).map((l) => l.name);
    const act = decodeCounts(row.act);
    return { step: row.step, layers, bins: layers.length ? act.length / layers.length : 0, act, grad: decodeCounts(row.grad) };
  }

  /** Steps that have histograms, ascending. */
  histogramSteps(runId: string): number[] {
    return (this.stmt('SELECT step FROM histograms WHERE run_id = ? ORDER BY step').all(runId) as { step: number }[]).map((r) => r.step);
  }

  /** One probe field as a steps×layers matrix (dashboard heatmap). */
  probeSeries(runId: string, field: string, range?: StepRange): ProbeSeries {
    const p = this.getProbes(runId, range);
    return extractSeries(field, p.fields, p.layers, p.steps, p.values);
  }

  // -------------------------------------------------------------- epochs

  /** Insert or replace one epoch summary; runs.epochs_done becomes the number of epochs logged. */
  logEpoch(runId: string, row: EpochInput): void {
    const params = epochToDb(row);
    this.write(() => {
      this.stmt(
        `INSERT OR REPLACE INTO epochs (run_id, epoch, loss, train_acc, test_acc, img_per_s, time_s, nan_mask, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(runId, ...params, Date.now());
      this.stmt(
        'UPDATE runs SET epochs_done = (SELECT COUNT(*) FROM epochs WHERE run_id = ?), updated_at = ? WHERE id = ?',
      ).run(runId, Date.now(), runId);
    });
  }

  getEpochs(runId: string): EpochRow[] {
    const rows = this.stmt(
      'SELECT epoch, loss, train_acc, test_acc, img_per_s, time_s, nan_mask, at FROM epochs WHERE run_id = ? ORDER BY epoch',
    ).all(runId) as EpochDbRow[];
    return rows.map(epochFromDb);
  }

  // -------------------------------------------------------------- events

  addEvent(runId: string, step: number | null, kind: EventKind, payload?: unknown): EventRow {
    checkEventKind(kind);
    const at = Date.now();
    const res = this.stmt('INSERT INTO events (run_id, step, kind, payload, at) VALUES (?, ?, ?, ?, ?)').run(
      runId,
      step,
      kind,
      payload === undefined || payload === null ? null : toJson(payload),
      at,
    );
    return { id: Number(res.lastInsertRowid), runId, step, kind, payload: payload ?? null, at };
  }

  /** In the order they were added. */
  getEvents(runId: string, kind?: EventKind): EventRow[] {
    const rows = (
      kind === undefined
        ? this.stmt('SELECT * FROM events WHERE run_id = ? ORDER BY id').all(runId)
        : this.stmt('SELECT * FROM events WHERE run_id = ? AND kind = ? ORDER BY id').all(runId, kind)
    ) as EventDbRow[];
    return rows.map(eventFromDb);
  }

  // ----------------------------------------------------------- artifacts

  /** Record a file in the run folder; the same relPath again replaces the record. */
  addArtifact(runId: string, a: ArtifactInput): ArtifactRow {
    this.artifactPath(runId, a.relPath); // validates the path
    // Stored with '/' so the database reads the same on every platform.
    const relPath = a.relPath.split(sep).join('/');
    const row = this.stmt(
      `INSERT OR REPLACE INTO artifacts (run_id, kind, rel_path, step, bytes, at)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
    ).get(runId, a.kind, relPath, a.step ?? null, a.bytes ?? null, Date.now()) as ArtifactDbRow;
    return artifactFromDb(row);
  }

  getArtifacts(runId: string, kind?: ArtifactKind): ArtifactRow[] {
    const rows = (
      kind === undefined
        ? this.stmt('SELECT * FROM artifacts WHERE run_id = ? ORDER BY id').all(runId)
        : this.stmt('SELECT * FROM artifacts WHERE run_id = ? AND kind = ? ORDER BY id').all(runId, kind)
    ) as ArtifactDbRow[];
    return rows.map(artifactFromDb);
  }

  /** The artifact of this kind with the highest step (e.g. the checkpoint to resume from). */
  latestArtifact(runId: string, kind: ArtifactKind): ArtifactRow | undefined {
    const row = this.stmt(
      'SELECT * FROM artifacts WHERE run_id = ? AND kind = ? ORDER BY step DESC NULLS LAST, id DESC LIMIT 1',
    ).get(runId, kind) as ArtifactDbRow | undefined;
    return row && artifactFromDb(row);
  }

  // -------------------------------------------------------------- sweeps

  createSweep(s: NewSweep): SweepRow {
    const id = s.id ?? makeSweepId(s.name);
    assertSafeId(id, 'sweep id');
    const now = Date.now();
    const me = thisWriter();
    const row = this.stmt(
      `INSERT INTO sweeps (id, name, grid, status, created_at, updated_at, pid, host, pid_start)
       VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?) RETURNING *`,
    ).get(id, s.name ?? null, toJson(s.grid), now, now, me.pid, me.host, me.pidStart) as SweepDbRow;
    return sweepFromDb(row);
  }

  getSweep(id: string): SweepRow | undefined {
    const row = this.stmt('SELECT * FROM sweeps WHERE id = ?').get(id) as SweepDbRow | undefined;
    return row && sweepFromDb(row);
  }

  /** Newest first. */
  listSweeps(limit?: number): SweepRow[] {
    const rows = (
      limit === undefined
        ? this.stmt('SELECT * FROM sweeps ORDER BY created_at DESC, rowid DESC').all()
        : this.stmt('SELECT * FROM sweeps ORDER BY created_at DESC, rowid DESC LIMIT ?').all(Math.max(0, Math.floor(limit)))
    ) as SweepDbRow[];
    return rows.map(sweepFromDb);
  }

  /** Take over a sweep as its one driver (sweep --resume); a BusyError while a live process drives it. */
  claimSweep(id: string): SweepRow {
    return this.write(() => {
      const s = this.getSweep(id);
      if (!s) throw new Error(`unknown sweep ${id}`);
      this.refuseLiveWriter(`sweep ${id}`, s);
      const me = thisWriter();
      this.stmt('UPDATE sweeps SET pid = ?, host = ?, pid_start = ? WHERE id = ?').run(me.pid, me.host, me.pidStart, id);
      return this.setSweepStatus(id, 'running');
    });
  }

  /**
   * No process drives the sweep any more, yet it is not over: its cells run elsewhere (a queue
   * sweep with --detach). It stays 'running', and is not mistaken for one whose process died.
   */
  releaseSweep(id: string): void {
    this.stmt('UPDATE sweeps SET pid = NULL, host = NULL, pid_start = NULL, updated_at = ? WHERE id = ?').run(Date.now(), id);
  }

  /** Sweeps left 'running' by a process of this host that is gone become 'interrupted'. */
  interruptStaleSweeps(): SweepRow[] {
    const stale = this.listSweeps().filter((s) => s.status === 'running' && s.pid !== null && s.host === this.host && writerState(s) === 'dead');
    return this.write(() => stale.map((s) => this.setSweepStatus(s.id, 'interrupted')));
  }

  /** Replace a sweep's recorded grid (an experiment resumed with cells added to its list). */
  setSweepGrid(id: string, grid: unknown): SweepRow {
    const row = this.stmt('UPDATE sweeps SET grid = ?, updated_at = ? WHERE id = ? RETURNING *').get(toJson(grid), Date.now(), id) as SweepDbRow | undefined;
    if (!row) throw new Error(`unknown sweep ${id}`);
    return sweepFromDb(row);
  }

  setSweepStatus(id: string, status: SweepStatus): SweepRow {
    checkSweepStatus(status);
    const row = this.stmt('UPDATE sweeps SET status = ?, updated_at = ? WHERE id = ? RETURNING *').get(
      status,
      Date.now(),
      id,
    ) as SweepDbRow | undefined;
    if (!row) throw new Error(`unknown sweep ${id}`);
    return sweepFromDb(row);
  }

  findCell(sweepId: string, cellKey: string): RunRow | undefined {
    const row = this.stmt('SELECT * FROM runs WHERE sweep_id = ? AND cell_key = ?').get(sweepId, cellKey) as
      | RunDbRow
      | undefined;
    return row && runFromDb(row);
  }

  /** In creation order. */
  listSweepCells(sweepId: string): RunRow[] {
    const rows = this.stmt('SELECT * FROM runs WHERE sweep_id = ? ORDER BY created_at, rowid').all(sweepId) as RunDbRow[];
    return rows.map(runFromDb);
  }

  /**
   * Atomically return the cell's existing run, or create it. Lets several
   * sweep workers pull cells without two of them starting the same one; the
   * caller decides what to do with an existing run (skip if finished, resume or
   * deleteRun + claim again otherwise).
   */
  claimCell(
    sweepId: string,
    cellKey: string,
    run: Omit<NewRun, 'sweepId' | 'cellKey'>,
  ): { run: RunRow; created: boolean } {
    return this.write(() => {
      const existing = this.findCell(sweepId, cellKey);
      if (existing) return { run: existing, created: false };
      return { run: this.createRun({ ...run, sweepId, cellKey }), created: true };
    });
  }

  // --------------------------------------------------------------- misc

  /** PRAGMA integrity_check; ok is true when SQLite reports nothing wrong. */
  checkIntegrity(): { ok: boolean; messages: string[] } {
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[];
    const messages = rows.map((r) => r.integrity_check);
    return { ok: messages.length === 1 && messages[0] === 'ok', messages };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Open (creating and migrating as needed) the store under `rootDir`, e.g. './runs'. */
export function openStore(rootDir: string, opts?: OpenOptions): Store {
  return new Store(rootDir, opts);
}
