// Histogram counts are exact integers: AlexNet 224's first conv has 35.8M outputs, more than a
// Float32 counts exactly (2^24 = 16.8M). Databases written before keep working, upgraded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, DB_FILE } from '../src/store/index.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { HIST_BINS } from '../src/torch/index.js';
import { tmp } from './helpers.js';

const ALEXNET_CONV1 = 128 * 96 * 54 * 54 + 1; // odd and above 2^24: a Float32 cannot hold it

function setup(root: string, migrations = MIGRATIONS) {
  const s = openStore(root, { migrations });
  const run = s.createRun({ id: 'r', name: 'r', config: {} });
  s.setLayers(run.id, [{ name: '0', kind: 'Conv2d' }, { name: '1', kind: 'ReLU' }], ['act_mean']);
  return s;
}

test('histogram counts above 2^24 come back exact', () => {
  const s = setup(tmp());
  try {
    const act = new Float64Array(2 * HIST_BINS);
    act[3] = ALEXNET_CONV1;
    act[HIST_BINS + 5] = 2 ** 53 - 1;
    const grad = new Float64Array(2 * HIST_BINS).fill(NaN); // nothing seen: stays NaN
    s.logHistogram('r', 7, { act, grad });
    const h = s.histogramAt('r', 7)!;
    assert.equal(h.act[3], ALEXNET_CONV1);
    assert.equal(h.act[HIST_BINS + 5], 2 ** 53 - 1);
    assert.ok(Array.from(h.grad).every(Number.isNaN));
    assert.equal(h.bins, HIST_BINS);
  } finally {
    s.close();
  }
});

test('a database with Float32 histogram blobs is upgraded in place', () => {
  const root = tmp();
  const v = MIGRATIONS.find((m) => m.name === 'histogram counts as exact Float64')!.version;
  // The database as it was before that migration, written with that schema's own SQL: today's
  // Store methods write columns later migrations added (layers.parent since module trees,
  // (runs.machine since migration 6), so even the run row is raw SQL of the first schema.
  openStore(root, { migrations: MIGRATIONS.filter((m) => m.version < v) }).close();
  // Histograms as the schema before it stored them: Float32 counts.
  const db = new Database(join(root, DB_FILE));
  db.prepare(`INSERT INTO runs (id, name, kind, status, config, created_at, updated_at, dir) VALUES ('r', 'r', 'train', 'finished', '{}', 0, 0, 'r')`).run();
  for (const [i, kind] of ['Conv2d', 'ReLU'].entries()) db.prepare('INSERT INTO layers (run_id, idx, name, kind) VALUES (?, ?, ?, ?)').run('r', i, String(i), kind);
  const f32 = new Float32Array(2 * HIST_BINS);
  f32[0] = 1234; f32[HIST_BINS] = NaN; f32[HIST_BINS + 1] = 16777216;
  const blob = Buffer.from(f32.buffer);
  db.prepare('INSERT INTO histograms (run_id, step, act, grad) VALUES (?, ?, ?, ?)').run('r', 3, blob, blob);
  db.close();
  const s = openStore(root);
  try {
    const h = s.histogramAt('r', 3)!;
    assert.ok(h.act instanceof Float64Array);
    assert.equal(h.bins, HIST_BINS);
    assert.equal(h.act[0], 1234);
    assert.ok(Number.isNaN(h.act[HIST_BINS]));
    assert.equal(h.grad[HIST_BINS + 1], 16777216);
  } finally {
    s.close();
  }
});
