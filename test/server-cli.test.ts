// nanscope serve, run as a real process through src/cli/main.ts: flag errors
// are one line and exit code 2; a real start serves the API, a busy port is
// exit code 1, and SIGINT stops it cleanly with 0.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { serveCommand } from '../src/cli/serve.js';
import { REPO, tmp, waitFor } from './web-support.js';

const MAIN = join(REPO, 'test/web-cli-runner.ts');

/** Call serveCommand in-process, capturing stderr (stdout belongs to the test runner). */
async function inProcess(argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string | Uint8Array) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    return { code: await serveCommand(argv), err: err.join('') };
  } finally {
    process.stderr.write = write;
  }
}

test('serve: bad flags give one line and exit code 2', async () => {
  for (const argv of [['--bogus'], ['--port'], ['--port', 'abc'], ['--port', '70000'], ['--port', '1.5'], ['extra'], ['--host', '']]) {
    const r = await inProcess(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, /^nanscope serve: /);
  }
  const help = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--help'], { cwd: REPO, encoding: 'utf8', timeout: 20_000 });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--runs-dir/);
});

test('serve: starts, answers, refuses a busy port, stops on SIGINT', async () => {
  const root = tmp('nanscope-serve-');
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--port', '0', '--runs-dir', root], { cwd: REPO });
  try {
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    await waitFor(() => /http:\/\/127\.0\.0\.1:\d+\//.test(out), 15_000, `server URL (output: ${out})`);
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)![0];
    const r = await fetch(`${url}api/runs`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { runs: [] });
    const busy = await inProcess(['--port', new URL(url).port, '--runs-dir', root]);
    assert.equal(busy.code, 1);
    assert.match(busy.err, /already in use/);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});
