// The dashboard's HTTP server: a small JSON API over the run store, a live
// stream per run, the built front end, and run artifacts. node:http only.
//
// Security posture: binds 127.0.0.1 unless told otherwise; on a loopback
// address it also checks the Host header (blocks DNS-rebinding pages from
// reading the API); serves only GET/HEAD; files only from inside the web
// build folder or a run's folder (see paths.ts); errors carry a message, never
// a stack.

import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_KINDS, RUN_KINDS, RUN_STATUSES, UnsafePathError, isSafeId, openStore, toJson, type Store } from '../store/index.js';
import {
  layersOf,
  probeAt,
  probesOf,
  requireRun,
  runDetail,
  stepsOf,
  summarize,
  sweepOf,
} from './data.js';
import { HttpError, badRequest, notFound } from './errors.js';
import { LiveHub } from './live.js';
import { oneOfList, parseParams } from './params.js';
import { pathSegments, resolveFile } from './paths.js';

export interface ServerOptions {
  /** Folder holding nanscope.db and the run folders. */
  runsRoot: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Built front end (index.html + assets); default: web/dist of this checkout. */
  webRoot?: string;
  /** How often a live stream polls the store; default 500 ms. */
  pollMs?: number;
  /** Server-side log (errors with stacks go here, never to clients); default stderr. */
  log?: (msg: string) => void;
}

export interface ServerHandle {
  /** e.g. http://127.0.0.1:8787/ */
  url: string;
  host: string;
  port: number;
  /** Open live streams (each owns one poll timer). */
  liveStreams(): number;
  close(): Promise<void>;
}

export const MAX_BODY_BYTES = 1 << 20;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const BASE_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/** web/dist next to this checkout, whether running from src/ (tsx) or dist/ (tsc). */
export function defaultWebRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'web', 'dist');
    if (existsSync(join(dir, 'web')) && existsSync(join(dir, 'package.json'))) return candidate;
    dir = dirname(dir);
  }
  return resolve('web', 'dist');
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function sendJson(res: ServerResponse, status: number, body: unknown, head = false): void {
  const text = toJson(body);
  res.writeHead(status, {
    ...BASE_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(head ? undefined : text);
}

function sendError(res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
  sendJson(res, status, { error: message, status });
}

const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>nanscope</title>
<p>The nanscope front end is not built. Run <code>npx vite build web</code> and reload.</p>
<p>The JSON API is up: <a href="/api/runs">/api/runs</a>.</p>`;

export async function startServer(opts: ServerOptions): Promise<ServerHandle> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 8787;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port ${port}`);
  const webRoot = resolve(opts.webRoot ?? defaultWebRoot());
  const log = opts.log ?? ((m: string) => process.stderr.write(`nanscope serve: ${m}\n`));
  const store: Store = openStore(opts.runsRoot, { readOnlyFallback: true });
  // The same liveness check as the CLI: a run or sweep whose process died (kill -9, OOM) is
  // marked interrupted instead of showing 'running' forever. At most once a second: it reads
  // /proc for each running row.
  let lastReap = 0;
  const reap = (): void => {
    if (store.readonly || Date.now() - lastReap < 1000) return;
    lastReap = Date.now();
    try {
      store.interruptStaleRuns();
      store.interruptStaleSweeps();
    } catch (err) {
      log(`could not mark dead runs interrupted: ${(err as Error).message}`);
    }
  };
  const hub = new LiveHub(store, opts.pollMs ?? 500, log, reap);
  let boundPort = port;
  const loopback = isLoopback(host);

  const hostAllowed = (h: string | undefined): boolean => {
    if (!loopback) return true;
    if (!h) return false;
    const names = ['127.0.0.1', 'localhost', '[::1]', host.includes(':') ? `[${host}]` : host];
    return names.some((n) => h === n || h === `${n}:${boundPort}`);
  };

  function serveFile(req: IncomingMessage, res: ServerResponse, file: string, cache: string, csp?: string): void {
    const size = statSync(file).size;
    const headers: Record<string, string | number> = {
      ...BASE_HEADERS,
      'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': size,
      'Cache-Control': cache,
    };
    if (csp) headers['Content-Security-Policy'] = csp;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file);
    stream.on('error', (err) => {
      log(`reading ${file}: ${err.message}`);
      res.destroy();
    });
    res.on('close', () => stream.destroy());
    stream.pipe(res);
  }

  function handleApi(req: IncomingMessage, res: ServerResponse, seg: string[], query: URLSearchParams): void {
    const head = req.method === 'HEAD';
    const ok = (body: unknown): void => sendJson(res, 200, body, head);
    const [, resource, id, sub, ...rest] = seg; // seg[0] === 'api'
    const runOf = (): string => {
      if (!isSafeId(id)) throw notFound(`unknown run ${JSON.stringify(id.slice(0, 80))}`);
      requireRun(store, id);
      return id;
    };
    if (resource === 'health' && seg.length === 2) {
      parseParams(query, {});
      return ok({ ok: true });
    }
    if (resource === 'runs' && seg.length === 2) {
      const p = parseParams(query, { status: 'list', kind: 'list', sweep: 'string', limit: 'posint' });
      if (p.sweep !== undefined && !isSafeId(p.sweep)) throw badRequest('invalid sweep id');
      const runs = store.listRuns({
        status: oneOfList('status', p.status, RUN_STATUSES),
        kind: oneOfList('kind', p.kind, RUN_KINDS),
        sweepId: p.sweep,
        limit: p.limit,
      });
      return ok({ runs: runs.map(summarize) });
    }
    if (resource === 'runs' && id !== undefined) {
      const runId = runOf();
      if (sub === undefined) {
        parseParams(query, {});
        return ok(runDetail(store, runId));
      }
      if (sub === 'files' && rest.length > 0) {
        parseParams(query, {});
        // The folder name comes from the database: runDir checks it lies inside the runs folder.
        let runDir: string;
        try {
          runDir = store.runDir(runId, { create: false });
        } catch (err) {
          if (err instanceof UnsafePathError) throw new HttpError(403, 'forbidden');
          throw err;
        }
        const file = resolveFile(runDir, rest);
        return serveFile(req, res, file, 'no-store');
      }
      if (rest.length) throw notFound();
      const range = { from: 'int', to: 'int', every: 'posint', max: 'posint' } as const;
      switch (sub) {
        case 'steps':
          return ok(stepsOf(store, runId, parseParams(query, range)));
        case 'epochs':
          parseParams(query, {});
          return ok({ epochs: store.getEpochs(runId) });
        case 'layers':
          parseParams(query, {});
          return ok(layersOf(store, runId));
        case 'probes': {
          const p = parseParams(query, { ...range, fields: 'list' });
          return ok(probesOf(store, runId, p.fields, p));
        }
        case 'probe': {
          const p = parseParams(query, { step: 'int' });
          if (p.step === undefined) throw badRequest('step is required');
          return ok(probeAt(store, runId, p.step));
        }
        case 'events': {
          const p = parseParams(query, { kind: 'string' });
          const kind = oneOfList('event kind', p.kind === undefined ? undefined : [p.kind], EVENT_KINDS)?.[0];
          return ok({ events: store.getEvents(runId, kind) });
        }
        case 'live': {
          const p = parseParams(query, { since: 'int', epoch: 'int', event: 'int' });
          if (head) return sendJson(res, 200, {}, true);
          return hub.open(req, res, runId, p);
        }
        default:
          throw notFound();
      }
    }
    if (resource === 'sweeps' && seg.length === 2) {
      parseParams(query, {});
      const sweeps = store.listSweeps().map((s) => ({ ...s, cells: store.listSweepCells(s.id).length }));
      return ok({ sweeps });
    }
    if (resource === 'sweeps' && seg.length === 3) {
      parseParams(query, {});
      if (!isSafeId(id)) throw notFound(`unknown sweep ${JSON.stringify(id.slice(0, 80))}`);
      return ok(sweepOf(store, id));
    }
    throw notFound('no such API route');
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (!hostAllowed(req.headers.host)) return sendError(res, 421, 'unexpected Host header');
    const len = Number(req.headers['content-length'] ?? 0);
    // No route takes a body; a chunked one has no declared size, so it is refused like a big one.
    if (!Number.isFinite(len) || len > MAX_BODY_BYTES || req.headers['transfer-encoding'] !== undefined) {
      res.setHeader('Connection', 'close');
      return sendError(res, 413, 'request body too large');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Connection', 'close');
      return sendError(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
    }
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const rawPath = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    const seg = pathSegments(rawPath);
    if (seg[0] === 'api') {
      reap();
      return handleApi(req, res, seg, query);
    }
    if (seg.length === 0 || (seg.length === 1 && seg[0] === 'index.html')) {
      const index = join(webRoot, 'index.html');
      if (!existsSync(index)) {
        res.writeHead(200, { ...BASE_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : NOT_BUILT_PAGE);
        return;
      }
      return serveFile(req, res, resolveFile(webRoot, ['index.html']), 'no-cache', PAGE_CSP);
    }
    const file = resolveFile(webRoot, seg);
    const immutable = seg[0] === 'assets';
    return serveFile(req, res, file, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  }

  const server = createServer((req, res) => {
    // A body we never read is drained and dropped, bounded by the checks above.
    req.on('error', () => res.destroy());
    try {
      handle(req, res);
    } catch (err) {
      if (err instanceof HttpError) return sendError(res, err.status, err.message);
      // Store validation messages (bad range etc.) are input errors, not crashes.
      const msg = (err as Error)?.message ?? String(err);
      if (/^(every must be|invalid |unknown probe field)/.test(msg)) return sendError(res, 400, msg.slice(0, 300));
      log(`internal error on ${req.method} ${req.url}: ${(err as Error)?.stack ?? msg}`);
      return sendError(res, 500, 'internal error');
    }
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;

  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
  } catch (err) {
    store.close();
    throw err;
  }
  boundPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${boundPort}/`,
    host,
    port: boundPort,
    liveStreams: () => hub.size,
    close: () => {
      closed ??= new Promise<void>((done) => {
        hub.closeAll();
        server.close(() => {
          store.close();
          done();
        });
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
