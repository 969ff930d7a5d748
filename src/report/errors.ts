// The report's errors: the CLI answers ReportError with exit code 1, OutRefused with 2.
export class ReportError extends Error {}

/** A refused --out (it would destroy something): bad usage. */
export class OutRefused extends ReportError {
  override name = 'OutRefused';
}
