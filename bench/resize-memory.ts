// Peak RSS of one epoch of d2l's AlexNet data (60,000 training images at 224, batches of 128,
// prefetch 2 as the trainer asks) with the resized images kept (a budget they fit) or streamed
// (the default budget), each in a fresh process; the step is a 40 ms pause, so the prefetch
// thread works ahead as it does beside a real step. Prints seconds, peak RSS and a checksum of
// the pixels (the same either way).
//   node --import tsx bench/resize-memory.ts
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadFashionMnist, DataLoader } from '../src/data/index.js';

const hwmMb = (): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

if (process.argv[2] === '--child') {
  const budget = Number(process.argv[3]);
  const d = await loadFashionMnist({});
  const before = hwmMb();
  const l = new DataLoader(d.train, { batchSize: 128, shuffle: true, seed: 0, resize: 224, prefetch: 2, resizeCacheMB: budget });
  const t = performance.now();
  let sum = 0;
  for (const b of l.batches(0)) {
    for (let i = 0; i < b.pixels.length; i += 997) sum = (sum + b.pixels[i] * (i + 1)) % 1_000_000_007;
    await new Promise((r) => setTimeout(r, 40));
  }
  l.close();
  console.log(`budget ${budget} MB: images ${l.cachesResized ? 'kept' : 'streamed'}, ${((performance.now() - t) / 1000).toFixed(1)} s, ` +
    `peak RSS ${before.toFixed(0)} MB after loading -> ${hwmMb().toFixed(0)} MB after the epoch, pixel checksum ${sum}`);
} else {
  for (const budget of [1024, 4096]) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', String(budget)], { encoding: 'utf8' });
    process.stdout.write(r.stdout || r.stderr);
  }
}
