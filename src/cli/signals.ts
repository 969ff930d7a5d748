// How every long command (train, resume, sweep, experiment) hears "stop": SIGINT (Ctrl-C),
// SIGTERM (kill, a service manager) and SIGHUP (the terminal closed) all mean the same thing:
// finish the current step, save a checkpoint, record the status, exit 130. Without a handler
// SIGHUP and SIGTERM kill Node at once, losing everything since the last checkpoint.
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Calls onStop(signal, count) for each stop signal (count 1 for the first); returns the remover. */
export function onStopSignals(onStop: (signal: StopSignal, count: number) => void): () => void {
  let count = 0;
  const handlers = STOP_SIGNALS.map((sig) => {
    const h = () => onStop(sig, ++count);
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => { for (const [sig, h] of handlers) process.off(sig, h); };
}

/**
 * The usual policy of a training command: the first signal asks the loop to stop after this
 * step (it then checkpoints); a second one, when the user insists, exits at once with 130.
 */
export function stopAfterStep(stop: { stop: boolean }, say: (s: string) => void): () => void {
  return onStopSignals((sig, count) => {
    if (count > 1) process.exit(130);
    stop.stop = true;
    say(`\n${sig}: stopping after this step (a checkpoint will be saved)...\n`);
  });
}
