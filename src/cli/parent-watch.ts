// A cell started by `nanscope worker` must not outlive it: a worker killed with -9 cannot stop its
// children, and BullMQ hands the cell to another worker, so an orphan would only burn the CPU the
// rerun needs. When the worker sets NANSCOPE_EXIT_WITH_PARENT=1, the cell checks once a second
// whether it was reparented (its parent died) and then stops at the next step.
export const EXIT_WITH_PARENT_ENV = 'NANSCOPE_EXIT_WITH_PARENT';

/** Returns a function that ends the watch. */
export function stopWhenParentDies(stop: { stop: boolean }): () => void {
  if (process.env[EXIT_WITH_PARENT_ENV] !== '1') return () => {};
  const parent = process.ppid;
  const t = setInterval(() => {
    if (process.ppid === parent) return;
    process.stderr.write(`\nthe worker (pid ${parent}) is gone: stopping this cell\n`);
    stop.stop = true;
    clearInterval(t);
  }, 1000);
  t.unref();
  return () => clearInterval(t);
}
