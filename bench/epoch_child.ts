// A real `train` run over a subset in a fresh process, for the side-by-side epoch case: every
// epoch as the user waits for it (data, steps with probes, store writes, the epoch-end
// checkpoint and the evaluation on the test subset, as `train` does by default), with where
// its time went. Prints one JSON line: {epochs: EpochTiming[], stepsPerSec, runMs, maxrss_kb}.
// argv: side batch nTrain nTest threads epochs
import { loadFashionMnist } from '../src/data/index.js';
import { openStore } from '../src/store/index.js';
import { Trainer } from '../src/train/trainer.js';
import { defaultConfig, validate } from '../src/train/config.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [side, batch, n, nTest, threads, epochs] = process.argv.slice(2).map(Number);
const data = await loadFashionMnist({ limitTrain: n, limitTest: nTest });
const dir = mkdtempSync(join(tmpdir(), 'nanscope-bench-'));
const store = openStore(dir);
const config = validate({ ...defaultConfig('alexnet'), resize: side, batchSize: batch, epochs, threads, limitTrain: n, limitTest: nTest });
const run = store.createRun({ name: 'bench-epoch', config });
// Timed like the PyTorch side: the model is built first, then the epochs are timed (each by the
// trainer's own clock, from its first batch to after its checkpoint); runMs adds the run's end
// (the verdict, its file and the store's last writes).
const trainer = new Trainer(config, { store, runId: run.id, data, silent: true });
const t = performance.now();
const r = await trainer.run();
const runMs = performance.now() - t;
const timings = trainer.epochTimings;
trainer.dispose();
store.close();
rmSync(dir, { recursive: true, force: true });
// VmHWM is this process's own peak; resourceUsage().maxRSS starts at the parent's (fork/exec).
const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? process.resourceUsage().maxRSS);
process.stdout.write(`${JSON.stringify({ epochs: timings, stepsPerSec: r.examplesPerSec, testAcc: r.epochs.map((e) => e.testAcc), runMs, maxrss_kb: hwm })}\n`);
