// Checkpoints are checked before a run continues from them: a CRC-32 of every tensor (over its
// dtype, shape and bytes) in the header, offsets that fit and do not overlap, metadata in range.
// A damaged checkpoint.st is refused with its name and the damage, and changes nothing; it does
// not block replay, which needs only last-good.st; a checkpoint from before checksums loads.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, readJsonSync, type RunRow } from '../src/store/index.js';
import { readTensors } from '../src/torch/index.js';
import { tmp, CLI } from './helpers.js';

const ENV = { ...process.env, OMP_WAIT_POLICY: 'passive' };
const cli = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: ENV, timeout: 120_000 });
const LENET = ['--model', 'lenet', '--batch-size', '50', '--limit-train', '500', '--limit-test', '100', '--threads', '1', '--quiet', '--epochs', '1'];

type Header = Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };

/** Rewrites a safetensors file's header (the data is kept byte for byte). */
function editHeader(path: string, edit: (h: Header) => void): void {
  const b = readFileSync(path);
  const n = Number(b.readBigUInt64LE(0));
  const h = JSON.parse(b.subarray(8, 8 + n).toString()) as Header;
  edit(h);
  let json = JSON.stringify(h);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(path, Buffer.concat([len, Buffer.from(json), b.subarray(8 + n)]));
}
const tensorsOf = (h: Header): [string, Entry][] => Object.entries(h).filter(([k]) => k !== '__metadata__') as [string, Entry][];
const editMeta = (path: string, edit: (m: Record<string, unknown>) => void): void => editHeader(path, (h) => {
  const md = h.__metadata__ as Record<string, string>;
  const m = JSON.parse(md.nanscope) as Record<string, unknown>;
  edit(m);
  md.nanscope = JSON.stringify(m);
});

describe('checkpoint integrity', () => {
  const root = tmp('nanscope-ckpt-');
  const pristine = join(root, 'pristine.st');
  const ck = join(root, 'stop', 'checkpoint.st');
  let row: RunRow;
  const rowNow = (id: string): RunRow => { const s = openStore(root); try { return s.getRun(id)!; } finally { s.close(); } };

  before(() => {
    const r = cli(['train', ...LENET, '--max-steps', '4', '--out', join(root, 'stop')]);
    assert.equal(r.status, 0, r.stderr);
    copyFileSync(ck, pristine);
    row = rowNow('stop');
  });

  test('replay --step beyond the run\'s last step is a usage error', () => {
    const r = cli(['replay', 'stop', '--runs-dir', root, '--step', '99']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--step 99 is beyond the last step stop ran \(4\)/);
  });

  const DAMAGE: [string, () => void, RegExp][] = [
    ['a flipped data byte', () => { const b = readFileSync(ck); b[b.length - 3] ^= 0x40; writeFileSync(ck, b); }, /fails its checksum/],
    ['a weight relabelled F32 -> I32', () => editHeader(ck, (h) => { tensorsOf(h).find(([k]) => k.startsWith('model.'))![1].dtype = 'I32'; }), /fails its checksum/],
    ['overlapping data offsets', () => editHeader(ck, (h) => {
      const byStart = tensorsOf(h).sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
      const [, second] = byStart[1];
      const size = second.data_offsets[1] - second.data_offsets[0];
      second.data_offsets = [second.data_offsets[0] - 4, second.data_offsets[0] - 4 + size];
    }), /overlaps/],
    ['step -5', () => editMeta(ck, (m) => { m.step = -5; }), /damaged checkpoint metadata: step must be an integer/],
    ['step 1e15', () => editMeta(ck, (m) => { m.step = 1e15; }), /damaged checkpoint metadata: step must be an integer/],
    ['a step that does not fit its position', () => editMeta(ck, (m) => { m.step = 3; }), /does not fit 10 batches per epoch/],
    ['a null header', () => { const b = Buffer.alloc(16, 0x20); b.writeBigUInt64LE(8n); b.write('null', 8); writeFileSync(ck, b); }, /header is null/],
  ];
  for (const [name, damage, re] of DAMAGE) {
    test(`resume refuses ${name}, naming the file, and changes nothing`, () => {
      copyFileSync(pristine, ck);
      damage();
      const r = cli(['resume', 'stop', '--runs-dir', root, '--max-steps', '8']);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, re);
      assert.ok(r.stderr.includes(ck), `names ${ck}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /TypeError|    at /);
      assert.deepEqual(rowNow('stop'), row, 'the run is unchanged');
    });
  }

  test('a checkpoint written before checksums existed still resumes', () => {
    copyFileSync(pristine, ck);
    editHeader(ck, (h) => { for (const k of Object.keys(h.__metadata__)) if (k.startsWith('crc32:')) delete (h.__metadata__ as Record<string, string>)[k]; });
    const r = cli(['resume', 'stop', '--runs-dir', root, '--max-steps', '8']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(rowNow('stop').stepsDone, 8);
  });

  test('a recorded --threads beyond this machine\'s cap is refused, and resume --threads overrides it', () => {
    const db = new Database(join(root, 'nanscope.db'));
    db.prepare("UPDATE runs SET config = json_set(config, '$.threads', 100000) WHERE id = 'stop'").run();
    db.close();
    const before = rowNow('stop');
    const r = cli(['resume', 'stop', '--runs-dir', root, '--max-steps', '10']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--threads 100000 is more than 4 per core/);
    assert.deepEqual(rowNow('stop'), before);
    const ok = cli(['resume', 'stop', '--runs-dir', root, '--max-steps', '10', '--threads', '1']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((rowNow('stop').config as { threads: number }).threads, 1);
  });

  test('a damaged checkpoint.st does not block replay, which needs only last-good.st', () => {
    const out = join(root, 'div');
    const t = cli(['train', ...LENET, '--activation', 'relu', '--init', 'normal:1', '--lr', '1', '--seed', '0', '--checkpoint-every', '2', '--out', out]);
    assert.equal(t.status, 3, t.stderr);
    const b = readFileSync(join(out, 'checkpoint.st'));
    b.fill(0x7b, 8, 64); // header garbage
    writeFileSync(join(out, 'checkpoint.st'), b);
    const r = cli(['replay', 'div', '--runs-dir', root]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /reproduced/);
    assert.match(r.stderr, /skipping .*checkpoint\.st/);
  });
});

test('damaged headers and JSON files name the file and what is wrong, never a TypeError', () => {
  const dir = tmp();
  const json = join(dir, 'state.json');
  writeFileSync(json, '{"step": 3');
  assert.throws(() => readJsonSync(json), (e: Error) => e.message.startsWith(`${json}: not valid JSON`));
  const cases: [string, string, RegExp][] = [['null', 'null', /header is null/], ['array', '[1]', /header is an array/],
    ['bad entry', '{"w":null}', /'w': entry is not an object/], ['bad metadata', '{"__metadata__":{"a":1}}', /__metadata__ must be an object of strings/],
    ['bad offsets', '{"w":{"dtype":"F32","shape":[1],"data_offsets":"x"}}', /'w': bad data_offsets/]];
  for (const [name, text, re] of cases) {
    const p = join(dir, `${name.replace(/ /g, '-')}.st`);
    const pad = text + ' '.repeat((8 - (text.length % 8)) % 8);
    const b = Buffer.alloc(8 + pad.length + 8);
    b.writeBigUInt64LE(BigInt(pad.length));
    b.write(pad, 8);
    writeFileSync(p, b);
    assert.throws(() => readTensors(p), (e: Error) => re.test(e.message) && e.message.startsWith(`${p}: `) && !(e instanceof TypeError), name);
  }
});
