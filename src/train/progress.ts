// The per-epoch progress line: step, loss, img/s, ETA. Redrawn in place on a TTY; on a pipe
// or a CI log it prints a plain line every ~10% of the epoch instead.
import { d2lNum } from '../diagnose/format.js';

export class Progress {
  private lastDraw = 0;
  private readonly tty: boolean;
  constructor(private readonly out: NodeJS.WriteStream, private readonly total: number, private readonly label: string) {
    this.tty = Boolean(out.isTTY);
  }
  update(done: number, loss: number, imgPerS: number, etaS: number): void {
    const now = Date.now();
    const line = `${this.label} ${done}/${this.total} loss ${d2lNum(loss)} | ${imgPerS.toFixed(1)} img/s | ETA ${eta(etaS)}`;
    if (this.tty) {
      if (now - this.lastDraw < 100 && done < this.total) return;
      const width = 24;
      const fill = Math.round((done / this.total) * width);
      this.out.write(`\r${'█'.repeat(fill)}${'░'.repeat(width - fill)} ${line}\x1b[K`);
    } else {
      const every = Math.max(1, Math.round(this.total / 10));
      if (done % every !== 0 && done !== this.total) return;
      this.out.write(`${line}\n`);
    }
    this.lastDraw = now;
  }
  end(): void { if (this.tty) this.out.write('\r\x1b[K'); }
}

function eta(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${m % 60}m` : m > 0 ? `${m}m${Math.round(s % 60)}s` : `${Math.round(s)}s`;
}
