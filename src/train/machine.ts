// Reads the machine a run trains on (recorded with the run, store migration 6; printed beside
// every results table). A run near the edge of divergence amplifies rounding differences, so its
// first non-finite step depends on which kernels ran: the CPU model, the vector ISA ATen
// dispatches to (AVX2, AVX-512), oneDNN's version, the BLAS, the thread count (summation order)
// and the libtorch build. These are the fields that can move it.
import { cpus, platform, release, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import * as torch from '../torch/index.js';
import type { Machine } from '../store/index.js';

/** The x86 ISA level from the CPU's flags (Linux /proc/cpuinfo); null where it cannot be read. */
function cpuIsaOf(flags: Set<string>): string | null {
  if (!flags.size) return null;
  if (flags.has('avx512f')) return 'AVX-512';
  if (flags.has('avx2')) return 'AVX2';
  if (flags.has('avx')) return 'AVX';
  if (flags.has('sse4_2')) return 'SSE4.2';
  return null;
}

function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
    return new Set(line ? line.split(':')[1].trim().split(/\s+/) : []);
  } catch { return new Set(); }
}

/** "CPU capability usage: AVX2" and friends, from at::show_config(). */
export function parseConfig(text: string): { atenIsa: string | null; onednn: string | null; blas: string | null } {
  const isa = /CPU capability usage:\s*(\S+)/.exec(text)?.[1] ?? null;
  const dnn = /MKL-DNN v([\d.]+)|oneDNN v([\d.]+)/.exec(text);
  const blas = /BLAS_INFO=([^,\s]+)/.exec(text)?.[1] ?? null;
  // ATen names AVX-512 'AVX512'; spell both ISAs the same way.
  return { atenIsa: isa === 'AVX512' ? 'AVX-512' : isa, onednn: dnn ? (dnn[1] ?? dnn[2]) : null, blas };
}

let cached: Omit<Machine, 'threads'> | null = null;

/** This machine, with the thread count libtorch uses now (call after setNumThreads). */
export function thisMachine(): Machine {
  if (!cached) {
    const c = cpus();
    const cfg = parseConfig(torch.configShow());
    const n = torch.cuda.isAvailable() ? torch.cuda.deviceCount() : 0;
    cached = {
      cpu: c[0]?.model.trim() || 'unknown cpu', cores: c.length, cpuIsa: cpuIsaOf(cpuFlags()) ?? process.arch,
      atenIsa: cfg.atenIsa ?? 'unknown', torch: torch.version(), onednn: cfg.onednn, blas: cfg.blas,
      gpu: n > 0 ? `${n} CUDA device${n > 1 ? 's' : ''}` : null,
      memGiB: Math.round(totalmem() / 2 ** 30), os: `${platform()} ${release()}`, node: process.versions.node,
    };
  }
  return { ...cached, threads: torch.getNumThreads() };
}

