// Starts the dashboard server in this process when one is wanted (train --serve). The server
// module is loaded lazily so training does not pay for it.
export interface Dashboard { url: string; close(): Promise<void> }

export async function startDashboard(runsRoot: string, port: number, host = '127.0.0.1'): Promise<Dashboard | null> {
  try {
    const mod = (await import('../server/index.js')) as { startServer(o: { runsRoot: string; port: number; host: string }): Promise<{ url: string; close(): Promise<void> | void }> };
    const s = await mod.startServer({ runsRoot, port, host });
    return { url: s.url, close: async () => { await s.close(); } };
  } catch (e) {
    process.stderr.write(`dashboard not started: ${e instanceof Error ? e.message : String(e)}\n`);
    return null;
  }
}
