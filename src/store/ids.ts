// Run and sweep ids double as folder names under the runs root, so they are
// restricted to a portable, shell-friendly alphabet, and start with an
// alphanumeric so they can never be '.', '..' or look like a CLI flag.

import { randomBytes } from 'node:crypto';

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isSafeId(id: string): boolean {
  return SAFE_ID.test(id);
}

export function assertSafeId(id: string, what = 'id'): void {
  if (!isSafeId(id)) {
    throw new Error(`invalid ${what} ${JSON.stringify(id)}: use 1-128 of [A-Za-z0-9._-], starting with a letter or digit`);
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Local time as YYYYMMDD-HHMMSS: sorts chronologically and reads at a glance. */
export function timestampSlug(d: Date): string {
  return (
    `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-` +
    `${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`
  );
}

export function slugify(name: string, fallback = 'run'): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, 40)
    .replace(/[._-]+$/, '');
  return slug || fallback;
}

/**
 * Readable id like `20261201-091500-alexnet-3f2a`. The random suffix keeps
 * sweep workers started in the same second apart; the store still retries on
 * the rare collision.
 */
export function makeRunId(name: string, now: Date = new Date()): string {
  return `${timestampSlug(now)}-${slugify(name)}-${randomBytes(2).toString('hex')}`;
}

export function makeSweepId(name: string | null | undefined, now: Date = new Date()): string {
  return `sweep-${timestampSlug(now)}-${slugify(name ?? '', 'grid')}-${randomBytes(2).toString('hex')}`;
}
