// Types for scripts/gen-ops.mjs (used by test/ops-list.test.ts).
export const DEF_PATH: string;
export const OUT_PATH: string;
export interface OpEntry {
  form: 'OP' | 'METHOD' | 'CUSTOM';
  name: string;
  returns: string;
  params: { kind: string; name: string }[];
  doc: string;
  line: number;
}
export function parseOps(defText: string): OpEntry[];
export function generate(defText: string): string;
