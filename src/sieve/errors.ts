/**
 * Errors raised while a Sieve script runs. A SieveRuntimeError aborts the
 * script: the evaluator cancels every action and falls back to implicit keep
 * (RFC 5228 §2.10.6). Pure: no I/O.
 */

/** A script failed at run time (step budget exceeded, unsupported operation...). */
export class SieveRuntimeError extends Error {
  override readonly name = 'SieveRuntimeError';
}
