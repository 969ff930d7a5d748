// The Redis a queued sweep runs on: a connection is proven with a PING before a single job is
// enqueued, so an unreachable server is one clear error (exit 1) naming the URL (password masked),
// never a half-enqueued sweep.
import { Redis } from 'ioredis';
import { checkQueueUrl, redact } from './url.js';

export class RedisUnreachable extends Error { override name = 'RedisUnreachable'; }

/**
 * Connects and PINGs, failing fast (one attempt, 5 s) with the masked URL in the message. The
 * returned client retries forever afterwards (maxRetriesPerRequest null, as BullMQ's workers
 * require), so a Redis restart mid-sweep is waited out rather than fatal.
 */
export async function connectRedis(url: string): Promise<Redis> {
  checkQueueUrl(url);
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 5000, retryStrategy: () => null, enableOfflineQueue: false });
  probe.on('error', () => { /* reported by connect() below */ });
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    throw new RedisUnreachable(`cannot reach Redis at ${redact(url)}: ${(e as Error).message || String(e)} (is redis-server running there, and the password in the URL right?)`);
  } finally {
    probe.disconnect();
  }
  const client = new Redis(url, { maxRetriesPerRequest: null });
  let last = '';
  client.on('error', (e) => { if (e.message !== last) process.stderr.write(`redis ${redact(url)}: ${e.message} (retrying)\n`); last = e.message; });
  client.on('ready', () => { last = ''; });
  return client;
}
