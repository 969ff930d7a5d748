// Writes src/torch/ops.generated.ts from native/src/ops.def, the one list of the addon's ops:
// the TypeScript type of every native function it lists, and the Tensor methods its METHOD
// entries ask for. `npm run build:native` runs this first; `--check` only compares and exits 1
// when the file on disk is not what the list gives (test/ops-list.test.ts runs that).
//   node scripts/gen-ops.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEF_PATH = join(root, 'native/src/ops.def');
export const OUT_PATH = join(root, 'src/torch/ops.generated.ts');

// Argument kinds: their TypeScript type in the native signature. `custom`: only CUSTOM entries
// may use it (ops.cc has no reader for it); `optional`: the argument may be left out.
const KINDS = {
  Tn: { ts: 'H' },
  OptTn: { ts: 'Opt<H>' },
  Tns: { ts: 'H[]' },
  Dbl: { ts: 'number' },
  Int: { ts: 'number' },
  Flag: { ts: 'boolean' },
  Ints: { ts: 'Dims' },
  Scalar: { ts: 'number' },
  OptScalar: { ts: 'Opt<number>' },
  OptInt: { ts: 'Opt<number>' },
  Dtype: { ts: 'string' },
  Dev: { ts: 'string' },
  Reduction: { ts: 'string' },
  Bytes: { ts: 'ArrayBufferView', custom: true },
  OptDev: { ts: 'string', custom: true, optional: true },
};
const RETURNS = {
  Tensor: { ts: 'H' },
  Self: { ts: 'H' },
  Bool: { ts: 'boolean' },
  Num: { ts: 'number' },
  Str: { ts: 'string' },
  Void: { ts: 'void' },
  Dims: { ts: 'Dims' },
  TensorOrNull: { ts: 'H | null' },
  Buffer: { ts: 'ArrayBuffer', custom: true },
  StrOrNull: { ts: 'string | null', custom: true },
};
// A Tensor method's parameter, by kind: its type and how the native call gets it.
const METHOD_PARAMS = {
  Tn: { ts: 'Tensor', arg: (n) => `${n}.handle` },
  OptTn: { ts: 'Tensor | null', arg: (n) => `${n} ? ${n}.handle : null` },
  Dbl: { ts: 'number', arg: (n) => n },
  Int: { ts: 'number', arg: (n) => n },
  Scalar: { ts: 'number', arg: (n) => n },
  Flag: { ts: 'boolean', arg: (n) => n },
};

/** Splits on commas outside (), [] and {}. */
function splitTop(s) {
  const parts = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if ('([{'.includes(c)) depth++;
    if (')]}'.includes(c)) depth--;
    if (c === ',' && depth === 0) { parts.push(cur.trim()); cur = ''; } else cur += c;
  }
  if (cur.trim() !== '') parts.push(cur.trim());
  return parts;
}

/** The entries of ops.def, in order: { form, name, returns, params: [{ kind, name }], doc, line }. */
export function parseOps(text) {
  const lines = text.split('\n');
  const ops = [];
  let doc = [];
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t.startsWith('///')) { doc.push(t.slice(3).trim()); continue; }
    const m = /^(OP|METHOD|CUSTOM)\(/.exec(t);
    if (!m) { doc = []; continue; }
    // Gather the entry up to its closing parenthesis, across lines, without `//` comments.
    const line = i + 1;
    let body = '';
    let depth = 0;
    let done = false;
    for (; i < lines.length && !done; i++) {
      const code = lines[i].replace(/\/\/.*$/, '');
      for (const c of code) {
        if (done) break;
        body += c;
        if (c === '(') depth++;
        if (c === ')' && --depth === 0) done = true;
      }
      body += ' ';
    }
    i--;
    if (!done) throw new Error(`ops.def:${line}: ${m[1]} entry is not closed`);
    const args = splitTop(body.trim().slice(m[1].length + 1, -1));
    const want = m[1] === 'CUSTOM' ? 3 : 4;
    if (args.length < want) throw new Error(`ops.def:${line}: ${m[1]} needs ${want} arguments, got ${args.length}`);
    const [name, returns, paramText] = args;
    if (!/^\w+$/.test(name)) throw new Error(`ops.def:${line}: bad name '${name}'`);
    const ret = RETURNS[returns];
    if (!ret || (ret.custom && m[1] !== 'CUSTOM')) throw new Error(`ops.def:${line}: ${name}: unknown return kind '${returns}'`);
    if (!/^\(.*\)$/.test(paramText)) throw new Error(`ops.def:${line}: ${name}: parameters must be in parentheses`);
    const params = splitTop(paramText.slice(1, -1)).map((p) => {
      const pm = /^(\w+)\s+(\w+)$/.exec(p);
      const kind = pm && KINDS[pm[1]];
      if (!kind || (kind.custom && m[1] !== 'CUSTOM')) throw new Error(`ops.def:${line}: ${name}: bad parameter '${p}'`);
      return { kind: pm[1], name: pm[2] };
    });
    ops.push({ form: m[1], name, returns, params, doc: doc.join(' '), line });
    doc = [];
  }
  const seen = new Set();
  for (const op of ops) {
    if (seen.has(op.name)) throw new Error(`ops.def:${op.line}: ${op.name} is listed twice`);
    seen.add(op.name);
  }
  return ops;
}

const jsdoc = (doc, indent) => (doc ? `${indent}/** ${doc} */\n` : '');

function nativeMember(op) {
  const ps = op.params.map((p) => `${p.name}${KINDS[p.kind].optional ? '?' : ''}: ${KINDS[p.kind].ts}`);
  return `${jsdoc(op.doc, '  ')}  ${op.name}(${ps.join(', ')}): ${RETURNS[op.returns].ts};\n`;
}

/** `add` -> `addScalar`, `mul_` -> `mulScalar_`. */
const scalarTwin = (name) => (name.endsWith('_') ? `${name.slice(0, -1)}Scalar_` : `${name}Scalar`);

function method(op, byName) {
  const where = `ops.def:${op.line}: METHOD ${op.name}`;
  const [self, ...rest] = op.params;
  if (!self || self.kind !== 'Tn' || self.name !== 'self') throw new Error(`${where}: the first parameter must be 'Tn self'`);
  let params;
  let call;
  const twin = byName.get(scalarTwin(op.name));
  if (twin) {
    // Tensor or number: the tensor entry, or its Scalar twin.
    const [o] = rest;
    const twinOk = twin.params.length === 2 && twin.params[0].kind === 'Tn' && twin.params[1].kind === 'Scalar' &&
      twin.returns === op.returns;
    if (rest.length !== 1 || o.kind !== 'Tn' || !twinOk) {
      throw new Error(`${where}: with ${twin.name} in the list it must take (Tn self, Tn ${o ? o.name : 'other'}) and return as ${twin.name} does`);
    }
    params = `${o.name}: Tensor | number`;
    const onNumber = `native.${twin.name}(this.handle, ${o.name})`;
    const onTensor = `native.${op.name}(this.handle, ${o.name}.handle)`;
    call = op.returns === 'Self'
      ? `if (typeof ${o.name} === 'number') ${onNumber}; else ${onTensor}`
      : `typeof ${o.name} === 'number' ? ${onNumber} : ${onTensor}`;
  } else {
    for (const p of rest) if (!METHOD_PARAMS[p.kind]) throw new Error(`${where}: no mechanical method parameter for kind ${p.kind}`);
    params = rest.map((p) => `${p.name}: ${METHOD_PARAMS[p.kind].ts}`).join(', ');
    call = `native.${op.name}(${['this.handle', ...rest.map((p) => METHOD_PARAMS[p.kind].arg(p.name))].join(', ')})`;
  }
  let sig;
  let body;
  switch (op.returns) {
    case 'Tensor': sig = 'Tensor'; body = `return this.wrap(${call});`; break;
    case 'Self': sig = 'this'; body = `${call};\n    return this;`; break;
    case 'Bool': case 'Num': case 'Str': sig = RETURNS[op.returns].ts; body = `return ${call};`; break;
    default: throw new Error(`${where}: no mechanical method returning ${op.returns}`);
  }
  const oneLine = `  ${op.name}(${params}): ${sig} { ${body.replace(/\n\s*/g, ' ')} }`;
  const text = oneLine.length <= 120 ? `${oneLine}\n` : `  ${op.name}(${params}): ${sig} {\n    ${body}\n  }\n`;
  return jsdoc(op.doc, '  ') + text;
}

/** The text of src/torch/ops.generated.ts for the given ops.def text. */
export function generate(defText) {
  const ops = parseOps(defText);
  const byName = new Map(ops.map((o) => [o.name, o]));
  let s = '';
  s += '// GENERATED by scripts/gen-ops.mjs from native/src/ops.def: do not edit. Change ops.def and run\n';
  s += '// `npm run build:native` (or `node scripts/gen-ops.mjs`); test/ops-list.test.ts fails while this is stale.\n';
  s += "import { native, type NativeHandle } from './native.js';\n";
  s += "import type { Tensor } from './tensor.js';\n\n";
  s += 'type H = NativeHandle;\ntype Dims = number[];\ntype Opt<T> = T | null;\n\n';
  s += '/** Every function ops.def gives the addon, in its order. */\n';
  s += `export const NATIVE_OPS = [\n${chunk(ops.map((o) => `'${o.name}'`), 100).map((l) => `  ${l}\n`).join('')}] as const;\n\n`;
  s += '/** The addon\'s op functions, typed from ops.def (the probe kernels and the watch are typed in native.ts). */\n';
  s += 'export interface NativeOps {\n';
  for (const op of ops) s += nativeMember(op);
  s += '}\n\n';
  s += '/** The Tensor methods that are one native call each (ops.def\'s METHOD entries); Tensor extends this. */\n';
  s += 'export abstract class TensorOps {\n';
  s += '  /** The native handle the methods act on. */\n  abstract get handle(): H;\n';
  s += '  /** A new Tensor owning a handle a method returned. */\n  protected abstract wrap(h: H): Tensor;\n\n';
  for (const op of ops) if (op.form === 'METHOD') s += method(op, byName);
  s += '}\n';
  return s;
}

/** Joins items with ', ' into lines of at most `width` characters. */
function chunk(items, width) {
  const lines = [];
  let cur = '';
  for (const it of items) {
    const next = cur ? `${cur}, ${it}` : it;
    if (next.length + 1 > width && cur) { lines.push(`${cur},`); cur = it; } else cur = next;
  }
  if (cur) lines.push(`${cur},`);
  return lines;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const want = generate(readFileSync(DEF_PATH, 'utf8'));
  let have = null;
  try { have = readFileSync(OUT_PATH, 'utf8'); } catch { /* not written yet */ }
  if (process.argv.includes('--check')) {
    if (have !== want) {
      console.error('src/torch/ops.generated.ts is out of date with native/src/ops.def: run `node scripts/gen-ops.mjs`');
      process.exit(1);
    }
    console.log('ops: src/torch/ops.generated.ts matches native/src/ops.def');
  } else if (have !== want) {
    writeFileSync(OUT_PATH, want);
    console.log('ops: wrote src/torch/ops.generated.ts');
  } else {
    console.log('ops: src/torch/ops.generated.ts up to date');
  }
}
