// One real `train` epoch over a subset in a fresh process, for the side-by-side epoch case:
// prints {seconds, maxrss_kb} as JSON. argv: side batch n threads
import { loadFashionMnist } from '../src/data/index.js';
import { openStore } from '../src/store/index.js';
import { Trainer } from '../src/train/trainer.js';
import { defaultConfig, validate } from '../src/train/config.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [side, batch, n, threads] = process.argv.slice(2).map(Number);
const data = await loadFashionMnist({ limitTrain: n, limitTest: 10 });
const store = openStore(mkdtempSync(join(tmpdir(), 'nanscope-bench-')));
const config = validate({ ...defaultConfig('alexnet'), resize: side, batchSize: batch, epochs: 1, threads, evaluate: false, checkpointEvery: 0 });
const run = store.createRun({ name: 'bench-epoch', config });
// Timed like the PyTorch side: the model is built first, then the epoch (data, steps, and here
// also the epoch-end checkpoint and the verdict) is timed.
const trainer = new Trainer(config, { store, runId: run.id, data, silent: true });
const t = performance.now();
const r = await trainer.run();
const seconds = (performance.now() - t) / 1000;
trainer.dispose();
// VmHWM is this process's own peak; resourceUsage().maxRSS starts at the parent's (fork/exec).
const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? process.resourceUsage().maxRSS);
process.stdout.write(`${JSON.stringify({ seconds, stepsPerSec: r.examplesPerSec, maxrss_kb: hwm })}\n`);
