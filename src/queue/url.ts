// Queue URLs: checked before anything starts (a malformed one is a usage error, exit 2) and shown
// with the password masked wherever they are printed or stored.
import { UsageError } from '../cli/args.js';

/** redis://[:password@]host[:port][/db] or rediss:// (TLS). */
export function checkQueueUrl(url: string): URL {
  let u: URL;
  try { u = new URL(url); } catch { throw new UsageError(`--queue ${redact(url)}: not a URL (expected redis://HOST:PORT[/DB])`); }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UsageError(`--queue ${redact(url)}: expected redis://HOST:PORT[/DB] or rediss://`);
  if (!u.hostname) throw new UsageError(`--queue ${redact(url)}: missing host`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new UsageError(`--queue ${redact(url)}: the database after the host must be a number, got '${db}'`);
  return u;
}

/** The URL with any password replaced by ***, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/^(rediss?:\/\/)([^@/]*)@/, (_m, scheme: string, auth: string) => {
    const i = auth.indexOf(':');
    return `${scheme}${i < 0 ? '***' : `${auth.slice(0, i)}:***`}@`;
  });
}
