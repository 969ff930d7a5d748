// Turning a request path into a file path without ever leaving a root folder.
// Checked in layers: the raw path's shape, each decoded segment, the resolved
// path's prefix, and finally the real path (so a symlink cannot point out).

import { realpathSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { HttpError, badRequest } from './errors.js';

// Characters a served file name may use once decoded. Vite's hashed assets
// and nanscope's artifact names fit; anything else is refused outright.
const SEGMENT = /^[A-Za-z0-9_@+~][A-Za-z0-9._@+~ -]*$/;

/**
 * Split a raw (still percent-encoded) URL path into decoded segments.
 * Refuses '.', '..', empty segments ('//' included), encoded separators,
 * NUL, backslashes, double encoding and bad escapes with a 400.
 */
export function pathSegments(rawPath: string): string[] {
  if (!rawPath.startsWith('/')) throw badRequest('path must start with /');
  if (rawPath === '/') return [];
  const parts = rawPath.slice(1).split('/');
  return parts.map((p) => {
    let seg: string;
    try {
      seg = decodeURIComponent(p);
    } catch {
      throw badRequest('malformed percent-encoding in path');
    }
    if (seg === '' || seg === '.' || seg === '..') throw badRequest('path must not contain empty, "." or ".." segments');
    if (/[/\\\0%:]/.test(seg) || seg.includes('..')) throw badRequest('path contains a forbidden character');
    return seg;
  });
}

/** True when `child` is `root` itself or inside it (both absolute, resolved). */
export function isInside(root: string, child: string): boolean {
  return child === root || child.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The regular file at root/segments, or a 404/403 HttpError. Segments must
 * come from pathSegments (already decoded and vetted).
 */
export function resolveFile(root: string, segments: readonly string[]): string {
  for (const s of segments) {
    if (!SEGMENT.test(s)) throw badRequest('path contains a forbidden character');
  }
  const absRoot = resolve(root);
  const full = resolve(absRoot, ...segments);
  if (!isInside(absRoot, full) || full === absRoot) throw new HttpError(403, 'forbidden');
  let real: string;
  let realRoot: string;
  try {
    realRoot = realpathSync(absRoot);
    real = realpathSync(full);
  } catch {
    throw new HttpError(404, 'not found');
  }
  if (!isInside(realRoot, real) || real === realRoot) throw new HttpError(403, 'forbidden');
  let isFile = false;
  try {
    isFile = statSync(real).isFile();
  } catch {
    // fall through to 404
  }
  if (!isFile) throw new HttpError(404, 'not found');
  return real;
}
