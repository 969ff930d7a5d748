// Is a run's (or sweep's) writer process still alive? A pid alone is not enough: after a
// kill -9 and a reboot, or simply many processes later, the same pid can belong to something
// else, and the run would look live forever. So a writer is recorded as pid + host + the
// process's start time (Linux: /proc/<pid>/stat field 22, clock ticks since boot), and is
// alive only while a process with that pid exists and started at that time. The OS "releases"
// the claim the moment the process dies; nothing has to clean up after it.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface Writer { pid: number | null; host: string | null; pidStart: string | null }

/** Process state and start time from /proc (Linux), or null where unknown (not Linux, gone). */
function procStat(pid: number): { state: string; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and ')': fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], start: fields[19] }; // fields 3 and 22 overall
  } catch {
    return null;
  }
}

/** The start time of process `pid` as recorded by the kernel, or null where unknown. */
export function processStart(pid: number): string | null {
  return procStat(pid)?.start ?? null;
}

let own: Writer | null = null;
/** This process as a writer. */
export function thisWriter(): Writer {
  own ??= { pid: process.pid, host: hostname(), pidStart: processStart(process.pid) };
  return own;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * 'alive', 'dead', or 'unknown' (recorded on another host, which this process cannot see).
 * A writer recorded without a start time (older stores) is judged by its pid alone.
 */
export function writerState(w: Writer): 'alive' | 'dead' | 'unknown' {
  if (w.pid === null || w.pid <= 0) return 'dead';
  const me = thisWriter();
  if (w.host !== null && w.host !== me.host) return 'unknown';
  if (w.pid === me.pid) return w.pidStart === null || w.pidStart === me.pidStart ? 'alive' : 'dead';
  if (!pidExists(w.pid)) return 'dead';
  const st = procStat(w.pid);
  // A zombie has exited (kill -9) and only waits to be reaped, which an orphan in a container
  // whose init does not reap may wait for forever.
  if (st && (st.state === 'Z' || st.state === 'X')) return 'dead';
  return w.pidStart === null || st === null || st.start === w.pidStart ? 'alive' : 'dead';
}

/** True when the writer is this very process. */
export function isThisWriter(w: Writer): boolean {
  const me = thisWriter();
  return w.pid === me.pid && (w.host === null || w.host === me.host) && (w.pidStart === null || w.pidStart === me.pidStart);
}
