// Shared test plumbing: temp dirs, the PyTorch oracle (Debian python3-torch, test-only), and
// tensor comparison with a relative tolerance.
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Tensor, encodeTensors, decodeTensors } from '../src/torch/index.js';

export const ORACLE_PYTHON = process.env.NANSCOPE_ORACLE_PYTHON ?? '/usr/bin/python3';
export const tmp = (prefix = 'nanscope-test-'): string => mkdtempSync(join(tmpdir(), prefix));

export function saveSt(path: string, m: Map<string, Tensor>): void { writeFileSync(path, encodeTensors(m)); }
export function loadSt(path: string): Map<string, Tensor> { return decodeTensors(new Uint8Array(readFileSync(path)), path).tensors; }

export function oracle(script: string, args: string[]): void {
  execFileSync(ORACLE_PYTHON, [join(import.meta.dirname, 'oracle', script), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** max |a-b| / (max |b| + tiny): one relative error for a whole tensor. */
export function relErr(a: Tensor, b: Tensor): number {
  const x = a.toFloat32Array();
  const y = b.toFloat32Array();
  if (x.length !== y.length) return Infinity;
  let num = 0, den = 1e-12;
  for (let i = 0; i < x.length; i++) { num = Math.max(num, Math.abs(x[i] - y[i])); den = Math.max(den, Math.abs(y[i])); }
  return num / den;
}
