// The probes' one-pass statistics kernel (native/src/probe.cc) beside torch.sum, which reads
// the same memory once and reduces one number: floats per nanosecond, 1 thread, on tensors of
// LeNet's activation sizes at batch 256 (hot in cache: the same tensor again and again), with
// and without a saturation band, and once cold (after 64 MB of other traffic), as a step sees it.
//   npm run bench:stats
import * as torch from '../src/torch/index.js';
import { native } from '../src/torch/native.js';
import { SATURATION_BAND } from '../src/diagnose/index.js';
import { median } from './median.js';

torch.setNumThreads(1);
const band = SATURATION_BAND.sigmoid;
const usPer = (f: () => void, reps: number): number => {
  for (let i = 0; i < 5; i++) f();
  const xs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) f();
    xs.push(Number(process.hrtime.bigint() - t) / reps / 1e3);
  }
  return median(xs);
};
console.log('stats kernel, 1 thread: microseconds per tensor (floats per ns)');
console.log('     floats     stats    stats+band    torch.sum   stats cold');
const flush = torch.keep(torch.randn([16 << 20]));
for (const n of [2560, 30720, 102400, 409600, 1204224]) {
  const t = torch.keep(torch.randn([n]));
  const reps = Math.max(20, Math.floor(2e7 / n));
  const plain = usPer(() => native.stats(t.handle), reps);
  const banded = usPer(() => native.stats(t.handle, band.lo, band.hi), reps);
  const sum = usPer(() => torch.tidy(() => { t.sum(); }), reps);
  const cold: number[] = [];
  for (let i = 0; i < 15; i++) {
    torch.tidy(() => { flush.sum(); flush.neg(); });
    const s = process.hrtime.bigint();
    native.stats(t.handle);
    cold.push(Number(process.hrtime.bigint() - s) / 1e3);
  }
  const f = (us: number) => `${us.toFixed(1).padStart(8)} (${(n / us / 1e3).toFixed(1).padStart(4)})`;
  console.log(`${String(n).padStart(11)} ${f(plain)} ${f(banded)} ${f(sum)} ${f(median(cold))}`);
  t.dispose();
}
flush.dispose();
