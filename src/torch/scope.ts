// Deterministic native memory: every tensor created inside tidy(fn) is disposed when fn
// returns, except what fn returns (handed to the enclosing scope) and what keep() marks.
// Tensors made outside any scope belong to whoever made them and must be disposed by hand.
// The garbage collector is only a safety net; it runs too late for a training hot path.
import type { Tensor } from './tensor.js';

const scopes: Tensor[][] = [];

export function track(t: Tensor): void {
  const top = scopes[scopes.length - 1];
  if (top) top.push(t);
}

/** Marks t to survive every enclosing tidy(); its owner disposes it. */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}

function collect(v: unknown, out: Set<Tensor>, depth = 0): void {
  if (v === null || typeof v !== 'object' || depth > 3) return;
  if (isTensor(v)) { out.add(v); return; }
  const values = Array.isArray(v) ? v : v instanceof Map ? [...v.values()] : Object.values(v);
  for (const x of values) collect(x, out, depth + 1);
}

let isTensor: (v: unknown) => v is Tensor = (_v): _v is Tensor => false;
export function setTensorGuard(g: (v: unknown) => v is Tensor): void { isTensor = g; }

/** Runs fn and disposes every tensor it created that is neither returned nor kept. */
export function tidy<T>(fn: () => T): T {
  scopes.push([]);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    for (const t of scopes.pop() ?? []) if (!t.kept) t.dispose();
    throw e;
  }
  if (result instanceof Promise) throw new Error('tidy(): fn must be synchronous');
  const made = scopes.pop() ?? [];
  const returned = new Set<Tensor>();
  collect(result, returned);
  for (const t of made) if (!t.kept && !returned.has(t)) t.dispose();
  for (const t of returned) if (!t.kept) track(t);
  return result;
}

/** Disposes every tensor found in v (a tensor, an array, or an object of them). */
export function dispose(v: unknown): void {
  const found = new Set<Tensor>();
  collect(v, found);
  for (const t of found) t.dispose();
}
