// Strict query-string parsing for the API: unknown or repeated parameters and
// values that are not what the route expects are a 400, never a silent default.

import { badRequest } from './errors.js';

export type ParamKind = 'int' | 'posint' | 'string' | 'list';

export type ParamSpec = Record<string, ParamKind>;

export type ParsedParams<S extends ParamSpec> = {
  [K in keyof S]?: S[K] extends 'int' | 'posint' ? number : S[K] extends 'list' ? string[] : string;
};

const INT = /^-?\d{1,15}$/;

export function parseParams<S extends ParamSpec>(query: URLSearchParams, spec: S): ParsedParams<S> {
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const [key, raw] of query) {
    if (!Object.prototype.hasOwnProperty.call(spec, key)) {
      const known = Object.keys(spec);
      throw badRequest(`unknown query parameter ${JSON.stringify(key)}${known.length ? `; known: ${known.join(', ')}` : ''}`);
    }
    if (seen.has(key)) throw badRequest(`query parameter ${JSON.stringify(key)} given twice`);
    seen.add(key);
    const kind = spec[key];
    if (kind === 'int' || kind === 'posint') {
      if (!INT.test(raw)) throw badRequest(`${key} must be an integer, got ${JSON.stringify(raw.slice(0, 40))}`);
      const n = Number(raw);
      if (kind === 'posint' && n < 1) throw badRequest(`${key} must be a positive integer, got ${n}`);
      out[key] = n;
    } else if (kind === 'list') {
      const items = raw.split(',').map((s) => s.trim());
      if (items.some((s) => s === '')) throw badRequest(`${key} must be a comma-separated list without empty items`);
      out[key] = items;
    } else {
      if (raw === '') throw badRequest(`${key} must not be empty`);
      out[key] = raw;
    }
  }
  return out as ParsedParams<S>;
}

/** Check every item of a list against the allowed values. */
export function oneOfList<T extends string>(what: string, items: string[] | undefined, allowed: readonly T[]): T[] | undefined {
  if (!items) return undefined;
  for (const s of items) {
    if (!(allowed as readonly string[]).includes(s)) {
      throw badRequest(`invalid ${what} ${JSON.stringify(s.slice(0, 40))}; expected one of ${allowed.join(', ')}`);
    }
  }
  return items as T[];
}
