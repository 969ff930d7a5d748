// train --serve: the dashboard runs in its own process, so it answers while a training step
// holds the trainer's thread for seconds (AlexNet at 224 px), and it goes away with the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { resolve } from 'node:path';
import { tmp } from './helpers.js';

const REPO = resolve(import.meta.dirname, '..');

function timedGet(url: string): Promise<{ ms: number; status: number; body: string }> {
  const t0 = performance.now();
  return new Promise((res, rej) => {
    const req = get(url, { agent: false }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => { body += d.toString(); });
      r.on('end', () => res({ ms: performance.now() - t0, status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
  });
}

test('train --serve: /api/runs answers within 200 ms while AlexNet 224 steps run', async (t) => {
  const root = tmp();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', '--model', 'alexnet', '--resize', '224', '--batch-size', '32',
    '--limit-train', '320', '--limit-test', '10', '--max-steps', '3', '--threads', '1', '--no-eval', '--quiet', '--serve', '--port', '0',
    '--runs-dir', root, '--name', 'served'], { cwd: REPO, env: { ...process.env, OMP_WAIT_POLICY: 'passive' } });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  child.stdout.resume();
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let alive = true;
  void exit.then(() => { alive = false; });
  while (alive && !/dashboard: (http\S+)#/.test(err)) await new Promise((r) => setTimeout(r, 50));
  const base = /dashboard: (http\S+?)#/.exec(err)?.[1];
  assert.ok(base, `no dashboard URL: ${err}`);
  // Poll while the run is training (its status turns from running when the steps are done;
  // the dashboard closes after that).
  const times: number[] = [];
  let steps = 0;
  for (;;) {
    const r: Awaited<ReturnType<typeof timedGet>> | Error = await timedGet(`${base}api/runs`).catch((e: Error) => e);
    // The run ended between two requests (status set, then the dashboard closed): refused or reset.
    if (r instanceof Error) { assert.match(r.message, /ECONNREFUSED|ECONNRESET/); break; }
    assert.equal(r.status, 200);
    const run = (JSON.parse(r.body) as { runs: { status: string; stepsDone: number }[] }).runs[0];
    if (run && run.status !== 'running') break;
    times.push(r.ms);
    steps = run?.stepsDone ?? 0;
    await new Promise((res) => setTimeout(res, 20)); // a user's polling, not a load test
  }
  assert.ok(steps >= 1, 'the polling covered training steps');
  assert.equal(await exit, 0, err);
  times.sort((a, b) => a - b);
  const p90 = times[Math.floor(times.length * 0.9)];
  t.diagnostic(`${times.length} requests, p90 ${p90.toFixed(0)} ms, max ${times[times.length - 1].toFixed(0)} ms`);
  assert.ok(times.length >= 10, `only ${times.length} requests answered during the run`);
  assert.ok(p90 < 200, `90% of ${times.length} requests within ${p90.toFixed(0)} ms (max ${times[times.length - 1].toFixed(0)} ms); the server must not wait for training steps`);
  // The dashboard went with the run.
  await assert.rejects(timedGet(`${base}api/runs`));
});
