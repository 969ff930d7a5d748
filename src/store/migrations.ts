// Schema history. Append only: never edit a migration that has shipped, add a
// new one. Migration N brings PRAGMA user_version from N-1 to N.
//
// Enumerated columns (status, kind) are validated in TypeScript rather than
// with CHECK constraints, because SQLite cannot alter a CHECK without
// rebuilding the table, and new event kinds should not need a migration.
// Columns that may hold NaN have a companion bit in the row's nan_mask (see nan.ts).

import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  up: string | ((db: Database) => void);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    up: `
      CREATE TABLE sweeps (
        id          TEXT PRIMARY KEY,
        name        TEXT,
        grid        TEXT NOT NULL,
        status      TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      );

      CREATE TABLE runs (
        id              TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        kind            TEXT NOT NULL,
        parent_id       TEXT REFERENCES runs(id) ON DELETE SET NULL,
        sweep_id        TEXT REFERENCES sweeps(id) ON DELETE SET NULL,
        cell_key        TEXT,
        status          TEXT NOT NULL,
        config          TEXT,
        seed            INTEGER,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        finished_at     INTEGER,
        pid             INTEGER,
        host            TEXT,
        dir             TEXT NOT NULL,
        epochs_done     INTEGER NOT NULL DEFAULT 0,
        steps_done      INTEGER NOT NULL DEFAULT 0,
        final_loss      REAL,
        final_train_acc REAL,
        final_test_acc  REAL,
        first_nan_step  INTEGER,
        first_nan_epoch INTEGER,
        verdict         TEXT,
        report          TEXT,
        error           TEXT,
        probe_fields    TEXT,
        nan_mask        INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX runs_by_created ON runs(created_at);
      CREATE INDEX runs_by_status ON runs(status);
      CREATE INDEX runs_by_parent ON runs(parent_id);
      -- One run per sweep cell, so a restarted sweep can find and skip finished cells.
      CREATE UNIQUE INDEX runs_by_cell ON runs(sweep_id, cell_key)
        WHERE sweep_id IS NOT NULL AND cell_key IS NOT NULL;

      CREATE TABLE layers (
        run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        idx     INTEGER NOT NULL,
        name    TEXT NOT NULL,
        kind    TEXT NOT NULL,
        PRIMARY KEY (run_id, idx)
      ) WITHOUT ROWID;

      CREATE TABLE steps (
        run_id      TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        step        INTEGER NOT NULL,
        epoch       INTEGER NOT NULL,
        batch       INTEGER NOT NULL,
        loss        REAL,
        lr          REAL,
        grad_norm   REAL,
        time_ms     REAL,
        img_per_s   REAL,
        input_min   REAL,
        input_max   REAL,
        input_mean  REAL,
        input_std   REAL,
        nonfinite   INTEGER NOT NULL DEFAULT 0,
        nan_mask    INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, step)
      ) WITHOUT ROWID;

      -- A rowid table: blobs of a few hundred bytes and up are a poor fit for WITHOUT ROWID.
      CREATE TABLE probes (
        run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        step    INTEGER NOT NULL,
        data    BLOB NOT NULL,
        PRIMARY KEY (run_id, step)
      );

      CREATE TABLE epochs (
        run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        epoch      INTEGER NOT NULL,
        loss       REAL,
        train_acc  REAL,
        test_acc   REAL,
        img_per_s  REAL,
        time_s     REAL,
        nan_mask   INTEGER NOT NULL DEFAULT 0,
        at         INTEGER NOT NULL,
        PRIMARY KEY (run_id, epoch)
      ) WITHOUT ROWID;

      CREATE TABLE events (
        id       INTEGER PRIMARY KEY,
        run_id   TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        step     INTEGER,
        kind     TEXT NOT NULL,
        payload  TEXT,
        at       INTEGER NOT NULL
      );
      CREATE INDEX events_by_run ON events(run_id, kind, id);

      CREATE TABLE artifacts (
        id        INTEGER PRIMARY KEY,
        run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        kind      TEXT NOT NULL,
        rel_path  TEXT NOT NULL,
        step      INTEGER,
        bytes     INTEGER,
        at        INTEGER NOT NULL,
        UNIQUE (run_id, rel_path)
      );
    `,
  },
  {
    version: 2,
    name: 'magnitude histograms per layer',
    up: `
      -- Written on histogram steps only (every --hist-every steps): per layer, counts of
      -- |activation| and of |gradient at the layer's output| in the probe kernel's bins, as
      -- Float32 blobs of layers x bins (a row of NaN: nothing seen for that layer).
      CREATE TABLE histograms (
        run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        step    INTEGER NOT NULL,
        act     BLOB NOT NULL,
        grad    BLOB NOT NULL,
        PRIMARY KEY (run_id, step)
      );
    `,
  },
  {
    version: 3,
    name: 'writer start times; sweeps record their writer',
    up: `
      -- A writer is pid + host + the process's start time, so a reused pid is not mistaken
      -- for the writer that died (see liveness.ts). Sweeps get the same, so a killed sweep
      -- process is noticed instead of showing 'running' forever.
      ALTER TABLE runs ADD COLUMN pid_start TEXT;
      ALTER TABLE sweeps ADD COLUMN pid INTEGER;
      ALTER TABLE sweeps ADD COLUMN host TEXT;
      ALTER TABLE sweeps ADD COLUMN pid_start TEXT;
    `,
  },
  {
    version: 4,
    name: 'histogram counts as exact Float64',
    // Float32 counts lose everything above 2^24 in a bin. Counts already stored were rounded
    // when written; they are widened as they are, and new ones are exact.
    up: (db) => {
      const rows = db.prepare('SELECT run_id, step, act, grad FROM histograms').all() as { run_id: string; step: number; act: Buffer; grad: Buffer }[];
      const put = db.prepare('UPDATE histograms SET act = ?, grad = ? WHERE run_id = ? AND step = ?');
      const widen = (b: Buffer): Buffer => {
        const f32 = new Float32Array(b.byteLength / 4);
        new Uint8Array(f32.buffer).set(b);
        const f64 = Float64Array.from(f32);
        return Buffer.from(f64.buffer);
      };
      for (const r of rows) put.run(widen(r.act), widen(r.grad), r.run_id, r.step);
    },
  },
  {
    version: 5,
    name: 'layers of module trees: parent path, depth, alias, has_weight',
    up: (db) => {
      // idx stays the blob position, which is now the execution index (the order the layers'
      // forwards finished in); name is the PyTorch dotted path.
      db.exec(`
        ALTER TABLE layers ADD COLUMN parent TEXT NOT NULL DEFAULT '';
        ALTER TABLE layers ADD COLUMN depth INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE layers ADD COLUMN alias TEXT;
        ALTER TABLE layers ADD COLUMN has_weight INTEGER;
      `);
      // Databases before this held flat Sequentials only (names '0', '1', ...: parent '' and
      // depth 1, the defaults). Their aliases and has_weight (a weight of rank >= 2) follow the
      // rule of that time, frozen here: a table of the kinds those models had.
      const OLD: Record<string, [string, number]> = {
        Conv2d: ['conv', 1], Linear: ['fc', 1], ReLU: ['relu', 0], Sigmoid: ['sigmoid', 0], Tanh: ['tanh', 0],
        MaxPool2d: ['pool', 0], AvgPool2d: ['pool', 0], Dropout: ['dropout', 0], Flatten: ['flatten', 0],
        BatchNorm: ['bn', 0], BatchNorm1d: ['bn', 0], BatchNorm2d: ['bn', 0],
      };
      const rows = db.prepare('SELECT run_id, idx, kind FROM layers ORDER BY run_id, idx').all() as { run_id: string; idx: number; kind: string }[];
      const set = db.prepare('UPDATE layers SET alias = ?, has_weight = ? WHERE run_id = ? AND idx = ?');
      let run = '';
      let count: Record<string, number> = {};
      for (const r of rows) {
        if (r.run_id !== run) { run = r.run_id; count = {}; }
        const [prefix, hasWeight] = OLD[r.kind] ?? [r.kind.toLowerCase(), 0];
        count[prefix] = (count[prefix] ?? 0) + 1;
        set.run(prefix === 'flatten' ? prefix : `${prefix}${count[prefix]}`, hasWeight, r.run_id, r.idx);
      }
    },
  },
  {
    version: 6,
    name: 'the machine each run trained on',
    // JSON (store/machine.ts): CPU model, its ISA and the one ATen dispatches to, threads,
    // libtorch/oneDNN/BLAS, GPU. A run near the edge of divergence goes non-finite at a step that
    // depends on these. Runs recorded before this are left NULL: their machine was not written
    // down, and guessing it (this machine) could be wrong for a database copied from elsewhere.
    up: `ALTER TABLE runs ADD COLUMN machine TEXT;`,
  },
  {
    version: 7,
    name: 'each step\'s batch accuracy',
    // The fraction of the batch the step's forward pass classified right (step-columns.ts:
    // trainAcc). d2l prints train accuracy per epoch only; per step it answers "how many steps
    // until the net learned", e.g. BN's faster convergence. Earlier rows read it as null.
    up: `ALTER TABLE steps ADD COLUMN train_acc REAL;`,
  },
];
