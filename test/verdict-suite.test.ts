// The labelled verdict suite (test/verdict-cases.ts): each real short run must be classified
// in its labelled mode, its text must fit its network (no sigmoid talk for a ReLU net, no ReLU
// mechanism for a sigmoid one) and carry the same numbers in English and Chinese.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CASES, runCase } from './verdict-cases.js';

for (const c of CASES) {
  test(`verdict suite: ${c.name} -> ${c.expect}`, async () => {
    const r = await runCase(c);
    const v = r.verdict;
    assert.equal(v.run, c.expect, `${v.run}: ${v.text.en}`);
    const act = c.patch.activation ?? (c.patch.model === 'alexnet' ? 'relu' : 'sigmoid');
    if (act === 'relu') {
      assert.doesNotMatch(v.text.en, /sigmoid/i, v.text.en);
      assert.ok(!v.fixes.some((f) => /sigmoid/i.test(f.en) || f.fix === 'activation=relu'), JSON.stringify(v.fixes.map((f) => f.fix)));
    } else assert.doesNotMatch(v.text.en, /With ReLU/, v.text.en);
    if (c.patch.bn && c.patch.bn !== 'none') assert.ok(!v.fixes.some((f) => f.fix.startsWith('bn=')));
    // Every number in the English text appears in the Chinese one.
    const nums = (s: string) => new Set(s.match(/\d+(\.\d+)?(e-?\d+)?/g) ?? []);
    const zh = nums(v.text.zh);
    for (const n of nums(v.text.en)) assert.ok(zh.has(n), `${n} missing from the Chinese text:\n${v.text.en}\n${v.text.zh}`);
  });
}
