// The --on-nan policy on its own: each decision from the outcome, the limits and the run's counts,
// with no net. (policy.test.ts runs the same policies through real training.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onNanAction, type NanPolicy, type NanCounts } from '../src/train/on-nan.js';

const policy = (p: Partial<NanPolicy>): NanPolicy => ({ onNan: 'stop', maxSkips: 10, maxRollbacks: 5, rollbackFactor: 0.5, ...p });
const counts = (n: Partial<NanCounts>): NanCounts => ({ skips: 0, rollbacks: 0, lastCheckpoint: '/run/checkpoint.st', ...n });
const bad = { finite: false };

test('a finite step continues whatever the policy and counts', () => {
  for (const onNan of ['stop', 'skip', 'rollback'] as const) {
    assert.deepEqual(onNanAction({ finite: true }, policy({ onNan, maxSkips: 0, maxRollbacks: 0 }), counts({ lastCheckpoint: null })), { kind: 'continue' });
  }
});

test('stop: a non-finite step ends the run even with a checkpoint and no skips used', () => {
  assert.deepEqual(onNanAction(bad, policy({ onNan: 'stop' }), counts({})), { kind: 'stop', why: 'on-nan stop' });
});

test('skip: counts up to --max-skips, then stops; 0 allows none', () => {
  const p = policy({ onNan: 'skip', maxSkips: 2 });
  assert.deepEqual(onNanAction(bad, p, counts({ skips: 0 })), { kind: 'skip', skips: 1 });
  assert.deepEqual(onNanAction(bad, p, counts({ skips: 1 })), { kind: 'skip', skips: 2 });
  assert.deepEqual(onNanAction(bad, p, counts({ skips: 2 })), { kind: 'stop', why: 'max skips' });
  assert.deepEqual(onNanAction(bad, policy({ onNan: 'skip', maxSkips: 0 }), counts({})), { kind: 'stop', why: 'max skips' });
  // Skipping needs no checkpoint, and rollbacks spent do not count against it.
  assert.equal(onNanAction(bad, p, counts({ lastCheckpoint: null, rollbacks: 99 })).kind, 'skip');
});

test('rollback: to the last checkpoint with lr scaled by factor^rollbacks, up to --max-rollbacks', () => {
  const p = policy({ onNan: 'rollback', maxRollbacks: 3, rollbackFactor: 0.5 });
  assert.deepEqual(onNanAction(bad, p, counts({ rollbacks: 0 })), { kind: 'rollback', checkpoint: '/run/checkpoint.st', rollbacks: 1, lrScale: 0.5 });
  assert.deepEqual(onNanAction(bad, p, counts({ rollbacks: 2 })), { kind: 'rollback', checkpoint: '/run/checkpoint.st', rollbacks: 3, lrScale: 0.125 });
  assert.deepEqual(onNanAction(bad, p, counts({ rollbacks: 3 })), { kind: 'stop', why: 'max rollbacks' });
  const a = onNanAction(bad, policy({ onNan: 'rollback', rollbackFactor: 0.1 }), counts({ rollbacks: 1 }));
  assert.equal(a.kind === 'rollback' && a.lrScale, Math.pow(0.1, 2));
  // Skips spent do not count against rollbacks.
  assert.equal(onNanAction(bad, p, counts({ skips: 99 })).kind, 'rollback');
});

test('rollback with no checkpoint yet (or after a resume, before the first is written) stops', () => {
  const p = policy({ onNan: 'rollback' });
  assert.deepEqual(onNanAction(bad, p, counts({ lastCheckpoint: null })), { kind: 'stop', why: 'no checkpoint' });
  // The limit is reported before the missing checkpoint: it would stop the run either way.
  assert.deepEqual(onNanAction(bad, policy({ onNan: 'rollback', maxRollbacks: 0 }), counts({ lastCheckpoint: null })), { kind: 'stop', why: 'max rollbacks' });
});
