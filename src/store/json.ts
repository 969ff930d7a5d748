// JSON that survives non-finite numbers. Plain JSON.stringify turns NaN and
// ±Infinity into null, which would erase exactly the values nanscope exists to
// show, so they are written as the strings "NaN", "Infinity", "-Infinity" and
// turned back into numbers on parse. Known trade-off: a genuine string with one
// of those three spellings also comes back as a number.

const NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  // Typed arrays would otherwise serialise as {"0":..,"1":..}; as arrays their
  // elements pass through this replacer again, so NaN inside them survives too.
  if (
    ArrayBuffer.isView(value) &&
    !(value instanceof DataView) &&
    !(value instanceof BigInt64Array) &&
    !(value instanceof BigUint64Array)
  ) {
    return Array.from(value as unknown as ArrayLike<number>);
  }
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(NON_FINITE, value)) {
    return NON_FINITE[value];
  }
  return value;
}

/** JSON.stringify that keeps NaN/±Infinity (as strings) and typed arrays (as arrays). */
export function toJson(value: unknown, space?: number): string {
  // JSON.stringify(undefined) is undefined, not a string; store it as null.
  return JSON.stringify(value, replacer, space) ?? 'null';
}

/** JSON.parse that turns "NaN"/"Infinity"/"-Infinity" back into numbers. */
export function fromJson<T = unknown>(text: string): T {
  return JSON.parse(text, reviver) as T;
}
