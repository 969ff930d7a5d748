// Chinese explanations render as Chinese in PNG exports and headless screenshots: setup installs
// a CJK font (fonts-noto-cjk). Without one, Chromium draws every CJK character as the same
// missing-glyph box, so the proof is that CJK text renders differently from characters no font
// has (private-use code points, always the box).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writePngs } from '../src/report/index.js';
import { openStore } from '../src/store/index.js';
import { ensureWebBuilt, launch, tmp, writeRun, NAN_VERDICT } from './web-support.js';

test('a zh PNG export holds rendered Chinese glyphs, not missing-glyph boxes', async () => {
  ensureWebBuilt();
  const root = tmp('nanscope-cjk-');
  const store = openStore(root);
  const id = writeRun(store, { name: 'cjk', steps: 0, growth: 2, trouble: { nanStep: 30, layer: 3 } }).id;
  store.close();
  const b = await launch();
  try {
    const zh = await writePngs({ runsRoot: root, runId: id, dir: join(root, 'zh'), lang: 'zh' });
    const en = await writePngs({ runsRoot: root, runId: id, dir: join(root, 'en'), lang: 'en' });
    const verdict = (files: string[]) => readFileSync(files.find((f) => f.endsWith('verdict.png'))!);
    assert.ok(!verdict(zh).equals(verdict(en)), 'the zh export shows the zh verdict');
    // The zh verdict's own characters against the same number of glyphs no font has.
    const text = NAN_VERDICT.text.zh.replace(/[^\u4e00-\u9fff]/g, '').slice(0, 6);
    const boxes = String.fromCodePoint(...Array.from({ length: text.length }, (_, i) => 0xe000 + i));
    const render = async (s: string) => {
      await b.page.setContent(`<div id="t" style="font-size:32px;display:inline-block;padding:4px">${s}</div>`);
      return (await b.page.locator('#t').screenshot());
    };
    const [glyphs, tofu] = [await render(text), await render(boxes)];
    assert.ok(!glyphs.equals(tofu), `"${text}" renders as missing-glyph boxes: no CJK font (setup installs fonts-noto-cjk)`);
  } finally {
    await b.close();
    rmSync(root, { recursive: true, force: true });
  }
});
