// Decoding the server's JSON: must mirror src/store/json.ts, which writes
// NaN/±Infinity as the strings "NaN"/"Infinity"/"-Infinity".
// (test/web-json.test.ts checks the two agree.)

const NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(NON_FINITE, value)) return NON_FINITE[value];
  return value;
}

export function parseJson<T = unknown>(text: string): T {
  return JSON.parse(text, reviver) as T;
}
