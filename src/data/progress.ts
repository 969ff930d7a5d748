/**
 * Download progress on stderr. On a TTY: one line redrawn in place (at most
 * ~10 times a second). Otherwise (CI logs, pipes): a single line, since a
 * stream of carriage-return updates turns into noise in a log file.
 */

export interface ProgressSink {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface Progress {
  update(received: number): void;
  done(): void;
}

const mb = (n: number): string => (n / 1e6).toFixed(1) + ' MB';

export function startProgress(label: string, total: number | null, sink: ProgressSink): Progress {
  if (!sink.isTTY) {
    sink.write(`nanscope: downloading ${label}${total !== null ? ` (${mb(total)})` : ''}\n`);
    return { update() {}, done() {} };
  }
  const width = 30;
  let last = 0;
  const draw = (received: number): void => {
    if (total !== null && total > 0) {
      const f = Math.min(1, received / total);
      const bar = '#'.repeat(Math.round(f * width)).padEnd(width, '.');
      sink.write(`\r${label} [${bar}] ${(f * 100).toFixed(0).padStart(3)}% ${mb(received)}/${mb(total)}`);
    } else {
      sink.write(`\r${label} ${mb(received)}`);
    }
  };
  return {
    update(received) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      draw(received);
    },
    done() {
      sink.write('\n');
    },
  };
}
