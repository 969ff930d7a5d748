// Live updates over Server-Sent Events. Each stream polls the store (cheap
// indexed reads; SQLite in WAL mode never blocks the training process) and
// pushes only what changed since its last message. Every stream's timer is
// owned by the LiveHub, so a disconnect or server close always clears it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EpochRow, Store } from '../store/index.js';
import { toJson } from '../store/index.js';
import { summarize, toColumns } from './data.js';
import type { LiveMessages } from './wire.js';

export interface LiveOptions {
  /** Last step the client already has; default: the newest step now. */
  since?: number;
  /** Highest epoch the client already has; default: all current epochs. */
  epoch?: number;
  /** Last event id the client already has; default: all current events. */
  event?: number;
}

const MAX_ROWS_PER_MESSAGE = 2000;
const HEARTBEAT_MS = 15_000;

interface Stream {
  timer: NodeJS.Timeout;
  end(): void;
}

export class LiveHub {
  private readonly streams = new Set<Stream>();
  constructor(
    private readonly store: Store,
    private readonly pollMs: number,
    private readonly log: (msg: string) => void,
    /** Runs before each poll: the server's liveness check, so a killed run stops showing 'running'. */
    private readonly beforeTick: () => void = () => {},
  ) {}

  get size(): number {
    return this.streams.size;
  }

  closeAll(): void {
    for (const s of [...this.streams]) s.end();
  }

  open(req: IncomingMessage, res: ServerResponse, runId: string, opts: LiveOptions): void {
    const store = this.store;
    const run0 = store.getRun(runId);
    if (!run0) throw new Error('run vanished'); // caller checked; treated as 500
    let lastStep = opts.since ?? store.latestStep(runId) ?? Number.MIN_SAFE_INTEGER;
    let lastProbe = lastStep;
    const epochAt = new Map<number, number>();
    for (const e of store.getEpochs(runId)) {
      if (opts.epoch === undefined || e.epoch <= opts.epoch) epochAt.set(e.epoch, e.at);
    }
    let lastEvent = opts.event ?? store.getEvents(runId).reduce((m, e) => Math.max(m, e.id), 0);
    let lastUpdated = -1;
    let lastStatus = '';
    let blocked = false;
    let lastWrite = Date.now();
    let ended = false;

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.on('drain', () => {
      blocked = false;
    });

    const send = <K extends keyof LiveMessages>(event: K, data: LiveMessages[K]): void => {
      if (ended) return;
      lastWrite = Date.now();
      if (!res.write(`event: ${event}\ndata: ${toJson(data)}\n\n`)) blocked = true;
    };

    const tick = (): void => {
      if (ended || blocked) return;
      this.beforeTick();
      const run = store.getRun(runId);
      if (!run) {
        res.write('event: gone\ndata: {}\n\n');
        stream.end();
        return;
      }
      if (run.updatedAt !== lastUpdated || run.status !== lastStatus) {
        const latest = store.latestStep(runId);
        if (latest !== null && latest > lastStep) {
          const rows = store.getSteps(runId, { from: lastStep + 1, to: latest }).slice(0, MAX_ROWS_PER_MESSAGE);
          if (rows.length) {
            send('steps', toColumns(rows));
            const newest = rows[rows.length - 1].step;
            const probes = store.getProbes(runId, { from: lastProbe + 1, to: newest });
            if (probes.steps.length) {
              lastProbe = probes.steps[probes.steps.length - 1];
              send('probes', { latest: lastProbe });
            }
            lastStep = newest;
          }
        }
        const changed: EpochRow[] = [];
        for (const e of store.getEpochs(runId)) {
          if (epochAt.get(e.epoch) !== e.at) {
            epochAt.set(e.epoch, e.at);
            changed.push(e);
          }
        }
        if (changed.length) send('epochs', changed);
        // Only mark the run seen once its step backlog is drained.
        const drained = latest === null || lastStep >= latest;
        if (drained) {
          lastUpdated = run.updatedAt;
          if (run.status !== lastStatus) lastStatus = run.status;
        }
        send('run', summarize(run));
      }
      // addEvent does not touch runs.updated_at, so events are polled on their own.
      const events = store.getEvents(runId).filter((e) => e.id > lastEvent);
      if (events.length) {
        lastEvent = events[events.length - 1].id;
        send('events', events);
      }
      if (Date.now() - lastWrite >= HEARTBEAT_MS) {
        lastWrite = Date.now();
        res.write(': ping\n\n');
      }
    };

    const stream: Stream = {
      timer: setInterval(() => {
        try {
          tick();
        } catch (err) {
          this.log(`live stream for ${runId} stopped: ${(err as Error).message}`);
          stream.end();
        }
      }, this.pollMs),
      end: () => {
        if (ended) return;
        ended = true;
        clearInterval(stream.timer);
        this.streams.delete(stream);
        if (!res.writableEnded) res.end();
      },
    };
    this.streams.add(stream);
    req.on('close', stream.end);
    res.on('close', stream.end);
    res.on('error', stream.end);
    res.write('retry: 2000\n\n');
    tick();
  }
}
