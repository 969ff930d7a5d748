// The PyTorch side of the bench: a persistent python3 process (torch_worker.py) answering one
// JSON command per line, so A/B steps alternate without paying interpreter start-up between them.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const ORACLE = process.env.NANSCOPE_ORACLE_PYTHON ?? '/usr/bin/python3';
/** Both sides' environment: OpenMP workers that sleep instead of spinning (see run.ts). */
export const benchEnv = { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'passive', PYTHONUNBUFFERED: '1' };

export class TorchWorker {
  private readonly p = spawn(ORACLE, [join(import.meta.dirname, 'torch_worker.py')], { env: benchEnv, stdio: ['pipe', 'pipe', 'inherit'] });
  private readonly lines = createInterface({ input: this.p.stdout! })[Symbol.asyncIterator]();
  async call<T>(c: object): Promise<T> {
    this.p.stdin!.write(`${JSON.stringify(c)}\n`);
    const r = JSON.parse((await this.lines.next()).value as string) as T & { error?: string };
    if (r.error) throw new Error(`PyTorch worker: ${r.error}`);
    return r;
  }
  close(): void { this.p.stdin!.end(); }
}
