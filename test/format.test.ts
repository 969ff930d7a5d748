// One number formatter for every surface: d2l's 3 decimals for normal values, a short exponent
// for huge ones, nan/inf spelled as Python prints them; CLI lines, tables and dashboard agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { d2lNum, d2lLine, expShort } from '../src/diagnose/format.js';
import { outcomeTable } from '../src/cli/sweep.js';
import { textTable } from '../src/cli/text-table.js';
import { f3 } from '../src/experiments/table.js';
import { fmt as webFmt, d2lNum as webD2l } from '../web/src/format.js';
import type { RunRow } from '../src/store/index.js';

const HUGE = 4.708493057787579e34;

test('d2l numbers: 3 decimals, short exponent for huge values, nan/inf', () => {
  assert.equal(d2lNum(2.4809), '2.481');
  assert.equal(d2lNum(0.1), '0.100');
  assert.equal(d2lNum(12345.6789), '12345.679');
  assert.equal(d2lNum(HUGE), '4.71e34');
  assert.equal(d2lNum(-HUGE), '-4.71e34');
  assert.equal(d2lNum(NaN), 'nan');
  assert.equal(d2lNum(Infinity), 'inf');
  assert.equal(d2lNum(null), '-');
  assert.equal(d2lLine(HUGE, 0.1, null), 'loss 4.71e34, train acc 0.100, test acc -');
  assert.equal(d2lLine(0.4711, 0.8268, 0.8131), 'loss 0.471, train acc 0.827, test acc 0.813');
  assert.equal(expShort(5e-7, 1), '5.0e-7');
});

test('the sweep table, the experiment tables and the dashboard print a huge loss the same short way', () => {
  assert.equal(f3(HUGE), '4.71e34');
  const run = { id: 'r', status: 'finished', firstNanStep: null, firstNanEpoch: null, finalLoss: HUGE, finalTrainAcc: 0.1, finalTestAcc: 0.1, report: null } as unknown as RunRow;
  const row = outcomeTable([{ key: 'c', args: [] }], new Map([['c', run]])).split('\n')[2];
  assert.match(row, / 4\.71e34 /);
  assert.doesNotMatch(row, /e\+/);
  assert.equal(webD2l(HUGE), '4.71e34');
  assert.equal(webFmt(HUGE), '4.71e34');
  assert.equal(webFmt(2.5e-5), '2.50e-5');
});

test('CLI tables: every column as wide as its widest cell, so a long id or verdict keeps the columns after it in line', () => {
  const t = textTable(['id', 'verdict', 'steps'], [['a-very-long-run-id-from-the-doctor', 'blew-up-died', '100'], ['short', 'healthy', '7']],
    ['left', 'left', 'right'], { rule: true }).split('\n');
  assert.equal(t.length, 4);
  const col = (line: string, s: string) => line.indexOf(s);
  assert.equal(col(t[2], 'blew-up-died'), col(t[3], 'healthy'), 'the verdict column starts at one place');
  assert.equal(col(t[2], '100') + 3, col(t[3], '7') + 1, 'right-aligned numbers end at one place');
  assert.match(t[1], /^-+  -+  -+$/);
});
