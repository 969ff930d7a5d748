// Process-wide engine state: seeding, the RNG state (checkpointed so a resumed run draws the
// same dropout masks), threads, devices, and the live-tensor count used by leak tests.
import { native, type ProcessEffects, type CpuCacheStats } from './native.js';
import { Tensor, type Device } from './tensor.js';

/** Seeds libtorch's global CPU generator (and CUDA's, where present), as torch.manual_seed. */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`manualSeed: seed must be a non-negative integer, got ${seed}`);
  native.manualSeed(seed);
}
/**
 * A generator's state as a uint8 tensor: the CPU's (torch.get_rng_state) or a CUDA device's
 * (torch.cuda.get_rng_state; an error where CUDA is not available). Caller disposes.
 */
export function getRngState(device: Device = 'cpu'): Tensor { return new Tensor(native.getRngState(device)); }
export function setRngState(state: Tensor, device: Device = 'cpu'): void { native.setRngState(state.handle, device); }

/** Every generator a step on `device` draws from, by device: 'cpu' always, and the CUDA device's. */
export type RngStates = Map<Device, Tensor>;
/** The states of the generators a step on `device` draws from (data order, dropout masks). Caller disposes. */
export function captureRng(device: Device): RngStates {
  const m: RngStates = new Map([['cpu', getRngState('cpu')]]);
  if (device !== 'cpu') m.set(device, getRngState(device));
  return m;
}
export function restoreRng(states: RngStates): void { for (const [d, t] of states) setRngState(t, d); }

export function setNumThreads(n: number): void { native.setNumThreads(n); }
export function getNumThreads(): number { return native.getNumThreads(); }

export const cuda = {
  isAvailable: (): boolean => native.cudaIsAvailable(),
  deviceCount: (): number => native.cudaDeviceCount(),
  synchronize: (): void => native.cudaSynchronize(),
};

/** Native tensors currently alive (owned by some JS handle not yet disposed or collected). */
export function liveTensors(): number { return native.liveTensors(); }
export function version(): string { return native.version(); }
export function configShow(): string { return native.configShow(); }

/**
 * What loading the addon changed for the whole process, not only for nanscope's tensors:
 *  - mallocTuning: glibc's mmap threshold raised to 32 MiB, trimming and top padding raised,
 *    so large blocks stay in the heap between steps (NANSCOPE_MALLOC_TUNING=0: glibc's defaults);
 *  - cpuAllocator: libtorch's CPU allocator replaced by a caching one that keeps freed blocks
 *    of 256 KiB and more for reuse, up to NANSCOPE_CPU_CACHE_MB (default 4096), and unmaps the
 *    most recently cached of them when live + cached would pass the live peak by 1/NANSCOPE_CPU_CACHE_SLACK
 *    (default 4; at least 128 MB)
 *    (NANSCOPE_CPU_ALLOCATOR=0: libtorch's own allocator).
 * Both are read once, when the addon loads: set them in the environment before the process
 * imports nanscope.
 */
export function processEffects(): ProcessEffects { return native.processEffects(); }
export function cpuCacheStats(): CpuCacheStats { return native.cpuCacheStats(); }
/** Hands the allocator's cached blocks back to the system (e.g. before a memory-hungry phase). */
export function emptyCpuCache(): void { native.emptyCpuCache(); }

/**
 * Fault injection, for tests and demonstrations: every gradient that reaches t gets `value`
 * written at flat index `index` as backward runs (a real Inf inside the backward pass).
 */
export function registerGradFault(t: Tensor, index: number, value: number): void { native.gradFault(t.handle, index, value); }
