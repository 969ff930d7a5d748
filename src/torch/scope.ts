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

/** Every tensor reachable from v through arrays, Maps and plain objects, at any depth. */
function collect(v: unknown, out: Set<Tensor>, seen = new Set<object>()): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (isTensor(v)) { out.add(v); return; }
  const values = Array.isArray(v) ? v : v instanceof Map ? [...v.values()] : Object.values(v);
  for (const x of values) collect(x, out, seen);
}

let isTensor: (v: unknown) => v is Tensor = (_v): _v is Tensor => false;
export function setTensorGuard(g: (v: unknown) => v is Tensor): void { isTensor = g; }

/**
 * Runs fn and disposes every tensor it created that is neither returned nor kept. A returned
 * tensor made in this scope moves to the enclosing one; a returned tensor made elsewhere (the
 * caller's, or an outer scope's) stays with its owner. fn must be synchronous: an async fn is
 * refused once its scope is closed, so no scope outlives the call.
 */
export function tidy<T>(fn: () => T): T {
  scopes.push([]);
  const depth = scopes.length;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.length = depth;
    for (const t of scopes.pop() ?? []) if (!t.kept) t.dispose();
    throw e;
  }
  scopes.length = depth;
  const made = scopes.pop() ?? [];
  if (result instanceof Promise) {
    for (const t of made) if (!t.kept) t.dispose();
    result.catch(() => {}); // the caller gets the error below, not an unhandled rejection
    throw new Error('tidy(): fn must be synchronous (it returned a Promise)');
  }
  const returned = new Set<Tensor>();
  collect(result, returned);
  for (const t of made) {
    if (t.kept) continue;
    if (returned.has(t)) track(t);
    else t.dispose();
  }
  return result;
}

/** Disposes every tensor found in v (a tensor, an array, or an object of them). */
export function dispose(v: unknown): void {
  const found = new Set<Tensor>();
  collect(v, found);
  for (const t of found) t.dispose();
}
