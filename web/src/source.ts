// Where the pages get their data: the live server's API, or the bundle a
// static report embeds (same shapes, see src/server/wire.ts).

import type {
  EpochRow,
  EventRow,
  LiveMessages,
  ProbeStepResponse,
  ProbesResponse,
  ReportBundle,
  RunDetailResponse,
  RunSummary,
  StepsResponse,
  SweepResponse,
  SweepsResponse,
} from '../../src/server/wire.js';
import { parseJson } from './json.js';

export type {
  EpochRow,
  EventRow,
  LiveMessages,
  ProbeStepResponse,
  ProbesResponse,
  ReportBundle,
  RunDetailResponse,
  RunSummary,
  StepsResponse,
  SweepResponse,
};
export type SweepListItem = SweepsResponse['sweeps'][number];

export interface RunFilter {
  status?: string;
  kind?: string;
  sweep?: string;
}

export interface Cursor {
  since: number | null;
  epoch: number | null;
  event: number | null;
}

export type LiveHandlers = { [K in keyof LiveMessages]?: (data: LiveMessages[K]) => void } & {
  connection?: (up: boolean) => void;
};

export interface Source {
  readonly live: boolean;
  runs(filter?: RunFilter): Promise<RunSummary[]>;
  run(id: string): Promise<RunDetailResponse>;
  steps(id: string, max?: number): Promise<StepsResponse>;
  epochs(id: string): Promise<EpochRow[]>;
  probes(id: string, fields: string[], max?: number): Promise<ProbesResponse>;
  probeAt(id: string, step: number): Promise<ProbeStepResponse>;
  events(id: string): Promise<EventRow[]>;
  sweeps(): Promise<SweepListItem[]>;
  sweep(id: string): Promise<SweepResponse>;
  /** Live updates; `cursor` is read again on every reconnect. Returns unsubscribe. */
  subscribe(id: string, cursor: () => Cursor, on: LiveHandlers): () => void;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function get<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  const text = await res.text();
  let body: unknown;
  try {
    body = parseJson(text);
  } catch {
    throw new ApiError(res.status, `${res.status} ${res.statusText}`);
  }
  if (!res.ok) {
    const msg = (body as { error?: string } | null)?.error ?? `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, msg);
  }
  return body as T;
}

const enc = encodeURIComponent;

export class ApiSource implements Source {
  readonly live = true;
  constructor(private readonly base = 'api') {}

  async runs(f: RunFilter = {}): Promise<RunSummary[]> {
    const q = new URLSearchParams();
    if (f.status) q.set('status', f.status);
    if (f.kind) q.set('kind', f.kind);
    if (f.sweep) q.set('sweep', f.sweep);
    const qs = q.toString();
    return (await get<{ runs: RunSummary[] }>(`${this.base}/runs${qs ? `?${qs}` : ''}`)).runs;
  }
  run(id: string): Promise<RunDetailResponse> {
    return get(`${this.base}/runs/${enc(id)}`);
  }
  steps(id: string, max = 4000): Promise<StepsResponse> {
    return get(`${this.base}/runs/${enc(id)}/steps?max=${max}`);
  }
  async epochs(id: string): Promise<EpochRow[]> {
    return (await get<{ epochs: EpochRow[] }>(`${this.base}/runs/${enc(id)}/epochs`)).epochs;
  }
  probes(id: string, fields: string[], max = 600): Promise<ProbesResponse> {
    return get(`${this.base}/runs/${enc(id)}/probes?fields=${fields.map(enc).join(',')}&max=${max}`);
  }
  probeAt(id: string, step: number): Promise<ProbeStepResponse> {
    return get(`${this.base}/runs/${enc(id)}/probe?step=${Math.round(step)}`);
  }
  async events(id: string): Promise<EventRow[]> {
    return (await get<{ events: EventRow[] }>(`${this.base}/runs/${enc(id)}/events`)).events;
  }
  async sweeps(): Promise<SweepListItem[]> {
    return (await get<SweepsResponse>(`${this.base}/sweeps`)).sweeps;
  }
  sweep(id: string): Promise<SweepResponse> {
    return get(`${this.base}/sweeps/${enc(id)}`);
  }

  subscribe(id: string, cursor: () => Cursor, on: LiveHandlers): () => void {
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let stopped = false;
    const names = ['steps', 'epochs', 'run', 'events', 'probes'] as const;
    const connect = (): void => {
      if (stopped) return;
      const c = cursor();
      const q = new URLSearchParams();
      if (c.since !== null) q.set('since', String(c.since));
      if (c.epoch !== null) q.set('epoch', String(c.epoch));
      if (c.event !== null) q.set('event', String(c.event));
      const qs = q.toString();
      es = new EventSource(`${this.base}/runs/${enc(id)}/live${qs ? `?${qs}` : ''}`);
      es.onopen = () => on.connection?.(true);
      for (const n of names) {
        es.addEventListener(n, (ev) => {
          const handler = on[n] as ((d: unknown) => void) | undefined;
          if (handler) handler(parseJson((ev as MessageEvent<string>).data));
        });
      }
      es.addEventListener('gone', () => stop());
      // Reconnect ourselves (with a fresh cursor) rather than letting
      // EventSource replay the original URL and resend old rows.
      es.onerror = () => {
        on.connection?.(false);
        es?.close();
        es = null;
        if (!stopped) retry = setTimeout(connect, 1500);
      };
    };
    const stop = (): void => {
      stopped = true;
      if (retry) clearTimeout(retry);
      es?.close();
      es = null;
    };
    connect();
    return stop;
  }
}

/** Answers from the JSON a static report embeds; nothing live. */
export class ReportSource implements Source {
  readonly live = false;
  constructor(readonly bundle: ReportBundle) {}

  private check(id: string): void {
    if (id !== this.bundle.run.run.id) throw new ApiError(404, `this report holds only run ${this.bundle.run.run.id}`);
  }
  async runs(): Promise<RunSummary[]> {
    const { report, ...rest } = this.bundle.run.run;
    return [{ ...rest, hasReport: report != null }];
  }
  async run(id: string): Promise<RunDetailResponse> {
    this.check(id);
    return this.bundle.run;
  }
  async steps(id: string): Promise<StepsResponse> {
    this.check(id);
    return this.bundle.steps;
  }
  async epochs(id: string): Promise<EpochRow[]> {
    this.check(id);
    return this.bundle.epochs;
  }
  async probes(id: string, fields: string[]): Promise<ProbesResponse> {
    this.check(id);
    const p = this.bundle.probes;
    return { ...p, fields, series: Object.fromEntries(fields.map((f) => [f, p.series[f] ?? []])) };
  }
  async probeAt(id: string, step: number): Promise<ProbeStepResponse> {
    this.check(id);
    const p = this.bundle.probes;
    let i = -1;
    for (let k = 0; k < p.steps.length; k++) if (p.steps[k] <= step) i = k;
    if (i < 0) throw new ApiError(404, `no probes at or before step ${step}`);
    const nl = p.layers.length;
    const values = p.layers.map((_, l) => p.fields.map((f) => p.series[f]?.[i * nl + l] ?? Number.NaN));
    let hist: ProbeStepResponse['hist'] = null;
    for (const hs of this.bundle.hists ?? []) if (hs.step <= step) hist = hs;
    return { step: p.steps[i], requested: step, layers: p.layers, kinds: p.kinds, fields: p.fields, values, hist };
  }
  async events(id: string): Promise<EventRow[]> {
    this.check(id);
    return this.bundle.events;
  }
  async sweeps(): Promise<SweepListItem[]> {
    return [];
  }
  async sweep(): Promise<SweepResponse> {
    throw new ApiError(404, 'a report holds no sweeps');
  }
  subscribe(): () => void {
    return () => undefined;
  }
}
