/**
 * What a filter run means: from how the command ended (exit code or signal,
 * its stderr, the size and first bytes of its output) to a verdict status and
 * detail line. client.ts runs the command; this decides. Never lets a broken
 * run's output become the message. Pure: no I/O.
 */

export interface FilterRun {
  mode: 'rewrite' | 'verdict';
  /** Exit code, or null when killed by `signal`. */
  code: number | null;
  signal: string | null;
  /** The start of stderr (at most STDERR_KEEP bytes). */
  stderr: Buffer;
  /** rewrite: bytes the filter wrote, and the first of them (up to HEAD_BYTES). */
  outputSize: number;
  outputHead: Buffer;
  /** rewrite: the scanner's max_size, which the output must not exceed. */
  maxSize: number;
}

export type FilterDecision =
  | { status: 'clean'; detail: string; rewritten: boolean }
  | { status: 'spam'; detail: string }
  | { status: 'infected'; detail: string; signature: string }
  | { status: 'skipped'; detail: string };

/** How much stderr is kept for the detail line. */
export const STDERR_KEEP = 1024;
/** How much of the output is read to see whether it starts with a header block. */
export const HEAD_BYTES = 8192;

// RFC 5322 field name (printable US-ASCII except ':'), then the colon.
const FIELD_LINE = /^[\x21-\x39\x3b-\x7e]+:/;
// A folded field continues on lines that start with a space or a tab.
const CONTINUATION = /^[ \t]/;

/**
 * looksLikeMessage: the output must start with a header block. Its first line
 * is a field (`Name: value`), and every following line up to the first blank
 * one is a field or a folded continuation. Lines past `head` (a header block
 * longer than HEAD_BYTES) are not judged. So a usage or error text, a bare
 * body, a blank first line or an mbox `From ` line (mda strips that on input;
 * a filter must not add one) never replaces the mail.
 */
export function looksLikeMessage(head: Buffer): boolean {
  const lines = head.toString('latin1').split('\n');
  lines.pop(); // the last piece has no line end: maybe cut off by the window
  if (lines.length === 0) return FIELD_LINE.test(head.toString('latin1'));
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') return i > 0;
    if (!FIELD_LINE.test(line) && (i === 0 || !CONTINUATION.test(line))) return false;
  }
  return true;
}

/** firstLine is stderr's first non-empty line as printable ASCII, at most 200 characters. */
export function firstLine(stderr: Buffer): string {
  const line = stderr
    .toString('utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '');
  // eslint-disable-next-line no-control-regex
  return (line ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

export function decideFilter(r: FilterRun): FilterDecision {
  const why = firstLine(r.stderr);
  const said = why ? `: ${why}` : '';
  if (r.code === null) return { status: 'skipped', detail: `killed by ${r.signal ?? 'a signal'}${said}` };
  if (r.mode === 'verdict') {
    if (r.code === 0) return { status: 'clean', detail: 'exit 0', rewritten: false };
    if (r.code === 1) return { status: 'spam', detail: `exit 1 (spam)${said}` };
    if (r.code === 2) return { status: 'infected', detail: `exit 2 (infected)${said}`, signature: why || 'filter' };
    return { status: 'skipped', detail: `exit ${r.code}${said}` };
  }
  if (r.code !== 0) return { status: 'skipped', detail: `exit ${r.code}${said}` };
  if (r.outputSize === 0) return { status: 'skipped', detail: 'exit 0 but no output' };
  if (r.outputSize > r.maxSize) return { status: 'skipped', detail: `output of ${r.outputSize} bytes is over max_size (${r.maxSize})` };
  if (!looksLikeMessage(r.outputHead)) return { status: 'skipped', detail: 'output does not start with a header line' };
  return { status: 'clean', detail: `rewritten, ${r.outputSize} bytes`, rewritten: true };
}
