// A small, strict flag parser: every command declares its flags with a type; unknown flags,
// missing values and wrong types are UsageErrors (exit code 2, one line, before any work).
export class UsageError extends Error {
  override name = 'UsageError';
}

export type FlagType = 'string' | 'number' | 'int' | 'bool' | 'list';
export interface FlagSpec {
  type: FlagType;
  help: string;
  default?: string | number | boolean;
  alias?: string;
  /** Bounds of a number/int flag, checked here with the type (a flag's own limits live with it). */
  min?: number;
  max?: number;
  /** The only values a string flag takes (e.g. derived from the store's status list). */
  choices?: readonly string[];
}
export type Flags = Record<string, FlagSpec>;
export type Parsed = { flags: Record<string, string | number | boolean | string[] | undefined>; positional: string[] };

export function parseArgs(argv: readonly string[], spec: Flags, command: string): Parsed {
  const flags: Parsed['flags'] = {};
  const positional: string[] = [];
  const byAlias = new Map(Object.entries(spec).filter(([, s]) => s.alias).map(([k, s]) => [s.alias!, k]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-') || a === '-') { positional.push(a); continue; }
    if (a === '--') { positional.push(...argv.slice(i + 1)); break; }
    let [name, inline] = a.startsWith('--') ? splitEq(a.slice(2)) : [byAlias.get(a.slice(1)) ?? a.slice(1), undefined];
    if (name.startsWith('no-') && spec[name.slice(3)]?.type === 'bool') { flags[name.slice(3)] = false; continue; }
    const s = spec[name];
    if (!s) throw new UsageError(`${command}: unknown flag ${a} (see nanscope ${command} --help)`);
    if (s.type === 'bool') {
      if (inline !== undefined && !['true', 'false'].includes(inline)) throw new UsageError(`${command}: --${name} takes no value or true/false`);
      flags[name] = inline === undefined ? true : inline === 'true';
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${command}: --${name} needs a value`);
    if (s.type === 'number' || s.type === 'int') {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${command}: --${name} must be a number, got '${v}'`);
      if (s.type === 'int' && !Number.isInteger(n)) throw new UsageError(`${command}: --${name} must be an integer, got '${v}'`);
      // 1e300 is an integer to JavaScript, but not one it can count exactly, nor one libtorch takes.
      if (s.type === 'int' && !Number.isSafeInteger(n)) throw new UsageError(`${command}: --${name} must be an integer of at most ${Number.MAX_SAFE_INTEGER} in size, got '${v}'`);
      if (s.min !== undefined && n < s.min) throw new UsageError(`${command}: --${name} must be at least ${s.min}, got ${v}`);
      if (s.max !== undefined && n > s.max) throw new UsageError(`${command}: --${name} must be at most ${s.max}, got ${v}`);
      flags[name] = n;
    } else if (s.type === 'list') {
      const prev = flags[name];
      flags[name] = [...(Array.isArray(prev) ? prev : []), v];
    } else {
      if (s.choices && !s.choices.includes(v)) throw new UsageError(`${command}: --${name} must be one of ${s.choices.join(', ')}, got '${v}'`);
      flags[name] = v;
    }
  }
  for (const [k, s] of Object.entries(spec)) if (flags[k] === undefined && s.default !== undefined) flags[k] = s.default;
  return { flags, positional };
}

function splitEq(s: string): [string, string | undefined] {
  const i = s.indexOf('=');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

export function helpText(command: string, usage: string, spec: Flags, extra = ''): string {
  const rows = Object.entries(spec).map(([k, s]) => {
    const name = `--${k}${s.type === 'bool' ? '' : ` <${s.type === 'list' ? 'value' : s.type}>`}`;
    const choices = s.choices ? ` (one of ${s.choices.join(', ')})` : '';
    return `  ${name.padEnd(28)} ${s.help}${choices}${s.default !== undefined && s.type !== 'bool' ? ` (default ${s.default})` : ''}`;
  });
  return `usage: nanscope ${command} ${usage}\n\n${rows.join('\n')}\n${extra}`;
}

export const str = (p: Parsed, k: string): string | undefined => p.flags[k] as string | undefined;
export const num = (p: Parsed, k: string): number | undefined => p.flags[k] as number | undefined;
export const bool = (p: Parsed, k: string): boolean => p.flags[k] === true;
export const list = (p: Parsed, k: string): string[] => (p.flags[k] as string[] | undefined) ?? [];
