// nanscope fidelity: rows read from the stores the runs were recorded in, by run name, beside
// d2l's printed lines; a run not recorded says so; a run that stopped part-way says how far it got;
// the block goes to the top of the results file and replaces itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../src/store/index.js';
import { tmp } from './helpers.js';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const cli = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'passive' } });

test('fidelity: a recorded run\'s final line beside d2l\'s, the rest marked, at the top of RESULTS.md', () => {
  const a = tmp(), b = tmp();
  // A tiny LeNet run under the name of the LeNet row (1 epoch of 640 images), and a BN run stopped after 2 steps in a second store.
  const t = cli(['train', '--model', 'lenet', '--epochs', '1', '--limit-train', '640', '--limit-test', '200', '--threads', '1', '--quiet', '--runs-dir', a, '--name', 'lenet-e10']);
  assert.equal(t.status, 0, t.stderr);
  const u = cli(['train', '--model', 'lenet', '--bn', 'scratch', '--lr', '1', '--epochs', '1', '--max-steps', '2', '--limit-test', '200', '--threads', '1', '--quiet', '--runs-dir', b, '--name', 'lenet-bn-scratch-e10']);
  assert.equal(u.status, 0, u.stderr);
  const s = openStore(a);
  const [run] = s.listRuns();
  const last = s.getEpochs(run.id).at(-1)!;
  s.close();
  const results = join(tmp(), 'RESULTS.md');
  writeFileSync(results, '# nanscope results\n\nintro\n\n<!-- BEGIN generated: intro x -->\nx\n<!-- END generated: intro x -->\n');
  for (let i = 0; i < 2; i++) {
    const r = cli(['fidelity', '--runs-dir', a, '--runs-dir', b, '--write-results', '--results', results, '--note', 'a test']);
    assert.equal(r.status, 0, r.stderr);
  }
  const md = readFileSync(results, 'utf8');
  assert.equal(md.split('<!-- BEGIN generated: fidelity -->').length, 2, 'one block, replaced in place');
  assert.ok(md.indexOf('generated: fidelity') < md.indexOf('generated: intro x'), 'at the top, before the experiments');
  const row = (what: string) => md.split('\n').find((l) => l.startsWith(`| ${what}`)) ?? '';
  const f3 = (v: number | null) => (v ?? NaN).toFixed(3);
  assert.ok(row('LeNet, sigmoid').includes(`loss ${f3(last.loss)}, train acc ${f3(last.trainAcc)}, test acc ${f3(last.testAcc)} (on 640 of 60000 training images: not d2l's recipe)`), row('LeNet, sigmoid'));
  assert.ok(row('LeNet, sigmoid').includes('loss 0.469, train acc 0.823, test acc 0.779'), 'd2l-zh\'s line beside it');
  assert.match(row('LeNet + BN from scratch'), /not finished: 2 of 2350 steps when this table was generated \(status finished\)/);
  assert.match(row('LeNet + BN built-in'), /\| not run yet \|/);
  assert.match(row('AlexNet (d2l 8.1) exact recipe: 224x224, 10 epochs'), /not run \(no GPU\)/);
  assert.match(md, /Command: `nanscope fidelity --runs-dir .* --write-results`/);
  assert.match(md, /Note: a test/);
  assert.equal(cli(['fidelity', '--runs-dir', tmp()]).status, 2, 'a folder with no store is a usage error');
});
