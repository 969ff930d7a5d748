// The early warning (src/diagnose/warning.ts) on series built step by step: it fires before a
// value could overflow float32, once, naming the series; noise, slow drifts and single harmless
// jumps stay quiet. Real runs: the verdict suite and bench/early-warning.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EarlyWarning, WARN_WINDOW } from '../src/diagnose/index.js';

/** A deterministic wobble in [-1, 1]. */
const wob = (s: number) => Math.sin(s * 12.9898) * 0.5 + Math.sin(s * 4.1414) * 0.5;

test('a blow-up warns before the overflow, once, with the series and steps to overflow', () => {
  const w = new EarlyWarning(['conv1', 'fc1']);
  let fired = null;
  let count = 0;
  // 40 calm steps, then the loss and fc1's activations grow 10^(2^k): 1e2, 1e4, 1e8, 1e16, 1e32.
  for (let s = 1; s <= 45; s++) {
    const k = s - 40;
    const blow = k > 0 ? 10 ** (2 ** k) : 1;
    const r = w.observe(s, 2.3 * (1 + 0.05 * wob(s)) * blow, 1 + 0.1 * wob(s + 1), [3 + wob(s), 5 * blow]);
    if (r) { count++; fired ??= r; }
  }
  assert.equal(count, 1, 'printed once');
  assert.ok(fired && fired.step <= 44, `warned at step ${fired?.step}, before 10^32 at step 45`);
  assert.ok(fired!.stepsToOverflow <= 10);
  assert.match(fired!.en, /rolling median/);
  assert.match(fired!.zh, /滚动中位数/);
  assert.equal(w.first, fired);
});

test('noise, a slow drift and one harmless jump do not warn', () => {
  const w = new EarlyWarning(['fc1']);
  for (let s = 1; s <= 300; s++) {
    // Noisy loss (x/2 .. x*2), activations drifting up 1000x over the run, one 20x loss jump at 150.
    const loss = 2.3 * 2 ** wob(s) * (s === 150 ? 20 : 1);
    assert.equal(w.observe(s, loss, 0.5 * 2 ** wob(s + 7), [10 ** (s / 100)]), null, `step ${s}`);
  }
});

test('the first steps warn on a jump that projects an overflow, before the window fills', () => {
  const w = new EarlyWarning(['conv1']);
  assert.equal(w.observe(1, 3.8, 60, [100]), null);
  assert.equal(w.observe(2, 2e3, 2e4, [1e5]), null, 'a 500x jump at 2.7 decades/step is 13 steps from overflow');
  const r = w.observe(3, 1e12, 1e11, [1e20]);
  assert.ok(r && r.step === 3 && 3 < WARN_WINDOW / 2);
  assert.match(r.en, /too few steps for a z-score/);
});
