// The machine a run trained on, as the store keeps it (runs.machine, migration 6) and as every
// results table prints it. src/torch/machine.ts reads it off this machine; this file holds the
// record and how it is printed, so the store, server and reports need no engine to show it.

export interface Machine {
  /** CPU model string as the OS reports it, e.g. 'AMD EPYC' or 'Intel(R) Xeon(R) Platinum 8375C'. */
  cpu: string;
  /** Logical CPUs the OS shows. */
  cores: number;
  /** The widest x86 vector ISA the CPU offers (AVX-512, AVX2, AVX, SSE4.2), or the architecture elsewhere. */
  cpuIsa: string;
  /** The ISA ATen's CPU kernels dispatch to (show_config's "CPU capability usage"): may be narrower than cpuIsa. */
  atenIsa: string;
  /** Intra-op threads the run used. */
  threads: number;
  /** libtorch version, e.g. '1.13.0'. */
  torch: string;
  /** oneDNN (MKL-DNN) version libtorch was built with, BLAS it calls, as show_config reports them. */
  onednn: string | null;
  blas: string | null;
  /** CUDA devices visible (count), or null without CUDA. */
  gpu: string | null;
  memGiB: number;
  os: string;
  node: string;
}

/** One line: what moves a run's rounding first (CPU, ISAs, threads, libtorch), then the rest. */
export function describeMachine(m: Machine): string {
  const isa = m.atenIsa === m.cpuIsa ? m.cpuIsa : `${m.cpuIsa} CPU, ATen kernels ${m.atenIsa}`;
  const lib = [`libtorch ${m.torch}`, m.onednn && `oneDNN ${m.onednn}`, m.blas && `BLAS ${m.blas}`].filter(Boolean).join(', ');
  return `${m.cores} x ${m.cpu} (${isa}), ${m.threads} thread${m.threads === 1 ? '' : 's'}, ${lib}, ${m.gpu ?? 'no GPU'}, ${m.memGiB} GiB, ${m.os}`;
}

/** A few words for a list row: CPU, the ISA ATen used, threads ('-' when not recorded). */
export function shortMachine(m: Machine | null): string {
  return m ? `${m.cpu} ${m.atenIsa} ${m.threads}t${m.gpu ? ' +GPU' : ''}` : '-';
}

/** What two runs' machines share for reproducing a NaN step: the same kernels, threads and build. */
export function machineKey(m: Machine): string {
  return [m.cpu, m.cpuIsa, m.atenIsa, m.threads, m.torch, m.onednn, m.blas, m.gpu].join('|');
}

/** A stored machine (JSON from any version), checked enough to print; null when absent or not one. */
export function asMachine(v: unknown): Machine | null {
  if (!v || typeof v !== 'object') return null;
  const m = v as Partial<Machine>;
  return typeof m.cpu === 'string' && typeof m.threads === 'number' && typeof m.torch === 'string' ? (m as Machine) : null;
}
