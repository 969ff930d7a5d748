// A runs folder this user cannot write (a read-only mount, another user's runs): the commands
// that only read (runs, report, serve) open it read-only and work; one that must write (train)
// says so, naming the database, instead of SQLite's bare "unable to open database file".
// As root, permissions are not enforced, so the commands then run as the user nobody.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './helpers.js';

const asRoot = process.getuid?.() === 0;
const ENV = { ...process.env, OMP_WAIT_POLICY: 'passive', HOME: tmpdir() };
/** argv run as an unprivileged user (nobody) when this process is root. */
const argvFor = (args: string[]): [string, string[]] => (asRoot
  ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...CLI, ...args]]
  : [process.execPath, [...CLI, ...args]]);
const cli = (args: string[]) => { const [cmd, argv] = argvFor(args); return spawnSync(cmd, argv, { encoding: 'utf8', env: ENV, timeout: 120_000 }); };

test('a read-only runs folder: runs, report and serve read it; train says it cannot write', async () => {
  const base = mkdtempSync(join(tmpdir(), 'nanscope-ro-'));
  chmodSync(base, 0o755);
  const root = join(base, 'runs');
  const t = spawnSync(process.execPath, [...CLI, 'train', '--model', 'lenet', '--limit-train', '200', '--limit-test', '100', '--batch-size', '50',
    '--max-steps', '2', '--threads', '1', '--quiet', '--out', join(root, 'r')], { encoding: 'utf8', env: ENV });
  assert.equal(t.status, 0, t.stderr);
  spawnSync('chmod', ['-R', 'a-w', root]);
  const outDir = mkdtempSync(join(tmpdir(), 'nanscope-ro-out-'));
  chmodSync(outDir, 0o777);
  try {
    const runs = cli(['runs', '--runs-dir', root]);
    assert.equal(runs.status, 0, runs.stderr);
    assert.match(runs.stdout, /^r\s+finished/m);
    assert.match(runs.stderr, /read-only/);

    const out = join(outDir, 'r.html');
    const rep = cli(['report', 'r', '--runs-dir', root, '--out', out]);
    assert.equal(rep.status, 0, rep.stderr);
    assert.match(readFileSync(out, 'utf8'), /nanscope report/);

    const [cmd, argv] = argvFor(['serve', '--runs-dir', root, '--port', '0']);
    const srv = spawn(cmd, argv, { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((res, rej) => {
        let text = '';
        srv.stdout!.on('data', (d: Buffer) => { text += d.toString(); const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(text); if (m) res(m[0]); });
        srv.stderr!.on('data', (d: Buffer) => { text += d.toString(); });
        srv.on('exit', () => rej(new Error(`serve exited: ${text}`)));
      });
      const body = await (await fetch(`${url}api/runs`)).json() as { runs: { id: string }[] };
      assert.deepEqual(body.runs.map((r) => r.id), ['r']);
    } finally {
      srv.kill('SIGTERM');
    }

    const tr = cli(['train', '--model', 'lenet', '--limit-train', '200', '--limit-test', '100', '--runs-dir', root, '--max-steps', '1']);
    assert.equal(tr.status, 1, tr.stderr);
    assert.match(tr.stderr, /cannot open the run store .*nanscope\.db: .*cannot write to the runs folder/);
    assert.doesNotMatch(tr.stderr, /    at /);
  } finally {
    spawnSync('chmod', ['-R', 'u+w', root]);
  }
});
