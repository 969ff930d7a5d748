// A real `train` run over a subset in a fresh process, for the side-by-side epoch case: every
// epoch as the user waits for it (data, steps with probes, store writes, the epoch-end
// checkpoint and the evaluation on the test subset, as `train` does by default), with where
// its time went. Prints one JSON line: {epochs: EpochTiming[], stepsPerSec, runMs, maxrss_kb}.
// argv: side batch nTrain nTest threads epochs
// NANSCOPE_BENCH_BUILT=DIR: the trainer comes from that compiled build (bench/built.ts), as
// the package runs; unset: from the TypeScript source.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const built = process.env.NANSCOPE_BENCH_BUILT;
/** src/<path>.ts, or the same module compiled under the build folder. */
const from = (path: string): string => (built ? pathToFileURL(join(built, `${path}.js`)).href : new URL(`../src/${path}.ts`, import.meta.url).href);
const { loadFashionMnist } = (await import(from('data/index'))) as typeof import('../src/data/index.js');
const { openStore } = (await import(from('store/index'))) as typeof import('../src/store/index.js');
const { Trainer } = (await import(from('train/trainer'))) as typeof import('../src/train/trainer.js');
const { defaultConfig, validate } = (await import(from('train/config'))) as typeof import('../src/train/config.js');

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
