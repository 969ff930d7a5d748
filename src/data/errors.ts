/**
 * The one error type the data layer throws. Every failure (missing file, bad
 * gzip, wrong header, checksum mismatch, cut-off download) names the file, says
 * what was expected versus what was found, and says how to fix it, because the
 * person reading it is usually staring at a training run that refused to start.
 */
export class DataError extends Error {
  override readonly name = 'DataError';
  /** Path (or URL) of the offending file. */
  readonly file: string;
  /** What we required, e.g. "magic 0x00000801" or "sha256 0402a9...". */
  readonly expected: string;
  /** What we actually saw. */
  readonly found: string;
  /** A concrete next step for the user. */
  readonly fix: string;

  constructor(file: string, expected: string, found: string, fix: string, cause?: unknown) {
    super(`${file}: expected ${expected}, found ${found}. Fix: ${fix}`, cause === undefined ? undefined : { cause });
    this.file = file;
    this.expected = expected;
    this.found = found;
    this.fix = fix;
  }
}

/** Default advice when a file's contents are wrong; callers refine it by source. */
export const DEFAULT_FIX =
  'delete it and re-run to download again, or apt-get install dataset-fashion-mnist ' +
  '(files land in /usr/share/datasets/fashion-mnist)';
