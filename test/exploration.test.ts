// The exploration log as an experiment: its cells are the log's rows, and
// `nanscope experiment exploration` writes the log's table from the store, verdicts included;
// --resume runs only the cells not yet recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../src/store/index.js';
import { EXPLORATION_ROWS, exploration, armOf } from '../src/experiments/exploration.js';
import { cellKey } from '../src/experiments/run.js';
import { tmp } from './helpers.js';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const ENV = { ...process.env, OMP_WAIT_POLICY: 'passive' };
const cli = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: ENV });

test('exploration: one cell per row of the log, each (arm, seed) once, with the row\'s settings and one thread', () => {
  const cells = exploration.cells('cpu', [0]);
  assert.equal(cells.length, EXPLORATION_ROWS.length);
  assert.equal(new Set(cells.map(cellKey)).size, cells.length, 'cell keys are unique');
  for (const [i, x] of EXPLORATION_ROWS.entries()) {
    const c = cells[i].config;
    assert.equal(cells[i].arm, armOf(x));
    assert.deepEqual([c.model, c.resize, c.batchSize, c.init, c.lr, c.scalePixels, c.seed, c.limitTrain, c.maxSteps, c.probeEvery, c.threads, c.bn, c.activation],
      ['alexnet', x.resize, x.batch, x.init, x.lr, !x.raw, x.seed, x.imgs, x.steps, x.probeEvery ?? 1, 1, 'none', 'relu']);
    assert.ok(c.epochs * Math.floor(x.imgs / x.batch) >= x.steps, `${armOf(x)}: enough epochs for the step budget`);
  }
  assert.equal(exploration.cells('full', [0]).length, 0);
});

const BEGIN = '<!-- BEGIN generated: experiment exploration cpu -->';
const END = '<!-- END generated: experiment exploration cpu -->';

test('experiment exploration through the CLI: the block is the table read back from the store, verdicts included; --resume reruns only what is missing', () => {
  const root = tmp();
  const results = join(root, 'RESULTS.md');
  writeFileSync(results, `# r\n\n## Exploration log\n\nhand-written intro\n\n${BEGIN}\n${END}\n\nhand-written after\n`);
  // Two of the log's rows, 5 steps each: d2l's net at lr 1 and raw pixels at lr 0.1 (NaN at step 4 in the log).
  const arms = ['lr 1, pixels/255, 2000 imgs, 10 steps', 'lr 0.1, raw pixels, 2000 imgs'];
  const r = cli(['experiment', 'exploration', ...arms.flatMap((a) => ['--arm', a]), '--max-steps', '5', '--limit-test', '100', '--workers', '2',
    '--runs-dir', root, '--write-results', '--results', results]);
  assert.ok(r.status === 0 || r.status === 1, `${r.status}: ${r.stderr}`);
  const md = readFileSync(results, 'utf8');
  assert.ok(md.includes('hand-written intro') && md.includes('hand-written after'), 'hand-written text kept');
  const block = md.slice(md.indexOf(BEGIN), md.indexOf(END));
  assert.match(block, /Command: `nanscope experiment exploration --scale cpu --limit-test 100 --max-steps 5 --arm/);
  assert.doesNotMatch(block, /--seeds/, 'the cells carry their own seeds');
  const store = openStore(root);
  try {
    const [sweep] = store.listSweeps();
    const runs = store.listSweepCells(sweep.id);
    assert.equal(runs.length, 2);
    const rows = block.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| config') && !l.startsWith('| ---'));
    assert.equal(rows.length, 2);
    for (const run of runs) {
      const v = run.verdict as { run: string; causes: string[] };
      const cfg = run.config as { lr: number; seed: number };
      const row = rows.find((l) => l.includes(`lr ${cfg.lr},`));
      assert.ok(row, `a row for lr ${cfg.lr}`);
      const cells = row.split(' | ');
      assert.ok(cells[8].startsWith(`**${v.run}**`), `verdict column from the store: ${cells[8]} vs ${v.run}`);
      for (const c of v.causes) assert.ok(cells[8].includes(c), `cause ${c}`);
      assert.equal(cells[3], run.firstNanStep === null ? 'none' : `step ${run.firstNanStep} (epoch ${run.firstNanEpoch! + 1})`);
      assert.match(cells[2], new RegExp(`^${run.stepsDone}/5`));
      if (run.firstNanStep !== null) {
        const rep = run.report as { alias: string; op: string };
        assert.ok(cells[4].includes(rep.alias) && cells[4].includes(rep.op), `where: ${cells[4]}`);
        assert.equal(v.run, 'non-finite');
      }
    }
    // Resume: both cells are recorded, so nothing runs and the runs are the same ones.
    const ids = runs.map((x) => x.id).sort();
    const again = cli(['experiment', 'exploration', '--resume', sweep.id, '--runs-dir', root]);
    assert.ok(again.status === 0 || again.status === 1, again.stderr);
    assert.match(again.stderr, /2 cells, 2 already recorded, 0 to run/);
    assert.deepEqual(store.listSweepCells(sweep.id).map((x) => x.id).sort(), ids);
    // A cell that is no longer recorded (an unfinished one is deleted the same way) runs again, alone.
    store.deleteRun(runs[0].id, { removeFiles: true });
    // Written from the store while a cell has no outcome, the block says so and names the cell.
    const partial = cli(['experiment', 'exploration', '--from-store', sweep.id, '--runs-dir', root, '--write-results', '--results', results]);
    assert.equal(partial.status, 130, partial.stderr);
    const md2 = readFileSync(results, 'utf8');
    assert.match(md2, /\*\*Incomplete: 1 of 2 planned runs have an outcome\.\*\*/);
    assert.ok(md2.includes(`- ${runs[0].cellKey}: not run`), 'the missing cell is listed');
    const third = cli(['experiment', 'exploration', '--resume', sweep.id, '--runs-dir', root]);
    assert.match(third.stderr, /2 cells, 1 already recorded, 1 to run/);
    assert.equal(store.listSweepCells(sweep.id).length, 2);
    // Flags that would change the plan are refused with --resume.
    const bad = cli(['experiment', 'exploration', '--resume', sweep.id, '--max-steps', '3', '--runs-dir', root]);
    assert.equal(bad.status, 2, bad.stderr);
  } finally { store.close(); }
});
