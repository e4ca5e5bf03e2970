/**
 * Maildir++ quota arithmetic: parses and writes the `maildirsize` file, decides
 * when it must be recalculated, and whether one more message fits. Follows
 * Courier maildir/maildirquota.c and Dovecot src/plugins/quota/quota-maildir.c.
 * Pure: no I/O (staleness is an input, not a stat). Numbers are JS Numbers:
 * values above Number.MAX_SAFE_INTEGER (2^53 − 1 bytes, 8 PiB) count as corrupt.
 */

/** Configured limits; 0 means unlimited (Maildir++: "0 or absent = unlimited"). */
export interface QuotaLimits {
  /** Bytes (the `S` item). */
  storage: number;
  /** Messages (the `C` item). */
  messages: number;
}

export interface Usage {
  bytes: number;
  count: number;
}

export interface ParsedMaildirsize extends Usage {
  /** The limits written in line 1 (informational: the configured limits win). */
  limits: QuotaLimits;
  /** Number of `<bytes> <count>` lines after the definition. */
  usageLines: number;
  /** True when an unterminated last line was ignored (an append still in flight). */
  ignoredTail: boolean;
}

export type MaildirsizeParse = ParsedMaildirsize | { corrupt: string };

/** Readers look at no more than this many bytes; a file this large is rewritten (Courier, Dovecot). */
export const MAILDIRSIZE_READ_LIMIT = 5120;
/** A single-line file that says "over quota" is trusted for this long (Courier 15*60, Dovecot MAILDIRSIZE_STALE_SECS). */
export const MAILDIRSIZE_STALE_MS = 15 * 60 * 1000;

const DEFINITION_ITEM = /^(\d+)([SC])$/;
// Courier pads lines to 14 bytes (`%12s %12s`), Dovecot writes `%llu %llu`: accept both.
const USAGE_LINE = /^[ \t]*(-?\d+)[ \t]+(-?\d+)[ \t]*$/;

/** parseMaildirsize reads the (at most 5120 first bytes of the) file. */
export function parseMaildirsize(text: Buffer | string): MaildirsizeParse {
  let s = typeof text === 'string' ? text : text.toString('latin1');
  // Dovecot maildirsize_read(): an unterminated last line is an append in
  // progress (or cut by the 5120-byte read), so it is ignored, not an error.
  const lastLf = s.lastIndexOf('\n');
  const ignoredTail = lastLf !== s.length - 1;
  s = s.slice(0, lastLf + 1);
  if (s === '') return { corrupt: 'no complete quota definition line' };
  if (s.includes('\0')) return { corrupt: 'NUL byte' };

  const lines = s.slice(0, -1).split('\n');
  const limits = parseDefinition(lines[0]!);
  if ('corrupt' in limits) return limits;

  let bytes = 0;
  let count = 0;
  for (let i = 1; i < lines.length; i++) {
    const m = USAGE_LINE.exec(lines[i]!);
    if (!m) return { corrupt: `line ${i + 1} is not "<bytes> <count>": ${JSON.stringify(lines[i]!.slice(0, 40))}` };
    const b = Number(m[1]);
    const c = Number(m[2]);
    bytes += b;
    count += c;
    if (![b, c, bytes, count].every(Number.isSafeInteger)) return { corrupt: `line ${i + 1}: number too large` };
  }
  return { limits, bytes, count, usageLines: lines.length - 1, ignoredTail };
}

/**
 * parseDefinition reads line 1: a comma list of `<n>S` / `<n>C`. An empty line
 * or `0S` means unlimited (Dovecot writes `0S` for "no limits"); the last item
 * of a kind wins, as in both readers.
 */
function parseDefinition(line: string): QuotaLimits | { corrupt: string } {
  const limits: QuotaLimits = { storage: 0, messages: 0 };
  if (line === '') return limits;
  for (const item of line.split(',')) {
    const m = DEFINITION_ITEM.exec(item);
    const n = m ? Number(m[1]) : NaN;
    if (!m || !Number.isSafeInteger(n)) {
      return { corrupt: `bad quota definition ${JSON.stringify(line.slice(0, 60))}` };
    }
    if (m[2] === 'S') limits.storage = n;
    else limits.messages = n;
  }
  return limits;
}

/**
 * formatDefinition writes line 1 exactly as Dovecot's maildirsize_write() does:
 * `<bytes>S` unless only a count is set, then `,<count>C` if a count is set;
 * no limits at all is `0S` ("write 0S instead of an empty line").
 */
export function formatDefinition(limits: QuotaLimits): string {
  const parts: string[] = [];
  if (limits.storage !== 0 || limits.messages === 0) parts.push(`${limits.storage}S`);
  if (limits.messages !== 0) parts.push(`${limits.messages}C`);
  return parts.join(',');
}

/** formatMaildirsize is a freshly recalculated file: definition plus one usage line. */
export function formatMaildirsize(limits: QuotaLimits | string, bytes: number, count: number): string {
  // A string is a definition line kept verbatim: one mda did not set is never reformatted.
  return `${typeof limits === 'string' ? limits : formatDefinition(limits)}\n${bytes} ${count}\n`;
}

/**
 * headerDefinition reads line 1 alone (usage lines may be corrupt): the raw
 * line, kept verbatim when the file is rebuilt, and its limits. undefined = no
 * complete, valid definition line.
 */
export function headerDefinition(text: Buffer | string): { line: string; limits: QuotaLimits } | undefined {
  const s = typeof text === 'string' ? text : text.toString('latin1');
  const lf = s.indexOf('\n');
  if (lf < 0) return undefined;
  const line = s.slice(0, lf);
  if (line.includes('\0')) return undefined;
  const limits = parseDefinition(line);
  return 'corrupt' in limits ? undefined : { line, limits };
}

/** Where the limits in force come from: mda's config, the maildirsize header, or nowhere (unlimited). */
export type LimitsSource = 'config' | 'maildirsize' | 'none';

/**
 * limitsInForce: mda's configured quota when it has one (Dovecot: limits come
 * from the config); else the maildirsize header, which Maildir++ defines as
 * the quota (Courier `maildirmake -q`, deliverquota). Never both mixed.
 */
export function limitsInForce(configured: QuotaLimits, header: QuotaLimits | undefined): { limits: QuotaLimits; from: LimitsSource } {
  if (configured.storage !== 0 || configured.messages !== 0) return { limits: configured, from: 'config' };
  if (header && (header.storage !== 0 || header.messages !== 0)) return { limits: header, from: 'maildirsize' };
  return { limits: { storage: 0, messages: 0 }, from: 'none' };
}

/** appendLine is what one delivery appends (O_APPEND, no lock: Maildir++ spec). */
export function appendLine(size: number): string {
  return `${size} 1\n`;
}

const sameLimits = (a: QuotaLimits, b: QuotaLimits): boolean => a.storage === b.storage && a.messages === b.messages;

/** isOver: the recorded usage is already above a limit (no message added, no grace). */
function isOver(u: Usage, limits: QuotaLimits): boolean {
  return (limits.storage > 0 && u.bytes > limits.storage) || (limits.messages > 0 && u.count > limits.messages);
}

export interface RecalcFacts {
  /** The file's size from fstat (may exceed the bytes read). */
  fileSize: number;
  mtimeMs: number;
  nowMs: number;
  /** The limits in force (limitsInForce); the file's definition must match them. */
  limits: QuotaLimits;
  /**
   * The message about to be stored (all its copies): the file is then judged
   * by whether it fits (Courier docheckquota), not by whether the recorded
   * sums alone are over. Absent (reports): the recorded sums alone.
   */
  incoming?: Incoming;
}

export interface Incoming {
  /** Bytes of one copy. */
  bytes: number;
  copies: number;
  /** Bytes the last message may go over the storage limit. */
  grace: number;
}

/**
 * recalcReason says why maildirsize must be rebuilt from the folders, or
 * undefined if its sums can be trusted. `parsed` undefined = the file is missing.
 * The reason is logged, so it names numbers.
 */
export function recalcReason(parsed: MaildirsizeParse | undefined, f: RecalcFacts): string | undefined {
  if (parsed === undefined) return 'maildirsize is missing';
  if (f.fileSize >= MAILDIRSIZE_READ_LIMIT) {
    return `maildirsize is ${f.fileSize} bytes (>= ${MAILDIRSIZE_READ_LIMIT})`;
  }
  if ('corrupt' in parsed) return `maildirsize is corrupt: ${parsed.corrupt}`;
  // `maildirmake -q` writes only the definition; Dovecot also rebuilds ("no quota lines").
  if (parsed.usageLines === 0) return 'maildirsize has no usage lines';
  if (parsed.bytes < 0 || parsed.count < 0) {
    return `maildirsize totals are negative (${parsed.bytes} bytes, ${parsed.count} messages)`;
  }
  // Limits come from the config; a changed limit forces a rewrite (Dovecot, force_default_rule).
  if (!sameLimits(parsed.limits, f.limits)) {
    return `quota changed from ${formatDefinition(parsed.limits)} to ${formatDefinition(f.limits)}`;
  }
  // "Does not fit" is only believed from a fresh, freshly recalculated file: a
  // single line younger than 15 minutes (Courier docheckquota, Dovecot maildirsize_parse).
  // With a message in hand the question is whether it (every copy) fits, with grace.
  const what = f.incoming ? doesNotFit(parsed, f.limits, f.incoming) : isOver(parsed, f.limits) ? 'over quota' : undefined;
  if (what !== undefined) {
    if (parsed.usageLines > 1) return `${what} with ${parsed.usageLines} usage lines`;
    const ageMs = f.nowMs - f.mtimeMs;
    if (ageMs >= MAILDIRSIZE_STALE_MS) return `${what} and maildirsize is ${Math.floor(ageMs / 1000)}s old`;
  }
  return undefined;
}

function doesNotFit(u: Usage, limits: QuotaLimits, m: Incoming): string | undefined {
  const check = checkQuota(u, limits, m.grace, m.bytes * m.copies, m.copies);
  if (!check.over) return undefined;
  return `the message does not fit (${check.detail}${m.copies > 1 ? ` (${m.copies} copies)` : ''})`;
}

export type QuotaCheck = { over: false } | { over: true; what: 'storage' | 'messages'; detail: string };

/**
 * checkQuota decides, before commit, whether `copies` files totalling
 * `messageSize` bytes fit: over when bytes + size > storage + grace
 * (storage > 0) or count + copies > messages (messages > 0). Reaching a limit
 * exactly is allowed.
 */
export function checkQuota(usage: Usage, limits: QuotaLimits, graceBytes: number, messageSize: number, copies = 1): QuotaCheck {
  if (limits.storage > 0 && usage.bytes + messageSize > limits.storage + graceBytes) {
    const grace = graceBytes > 0 ? ` + ${graceBytes} grace` : '';
    return {
      over: true,
      what: 'storage',
      detail: `storage ${usage.bytes} + ${messageSize} bytes > limit ${limits.storage}${grace}`,
    };
  }
  if (limits.messages > 0 && usage.count + copies > limits.messages) {
    return { over: true, what: 'messages', detail: `${usage.count} messages + ${copies} > limit ${limits.messages}` };
  }
  return { over: false };
}

/**
 * sizeFromName reads `,S=<n>` from a Maildir file name (Dovecot maildir_sum_dir:
 * first `,S=`, digits ending at `,`, `:` or the end), so quota needs no stat.
 * undefined = no usable size: the caller lstat()s the file instead.
 */
export function sizeFromName(name: string): number | undefined {
  const at = name.indexOf(',S=');
  if (at < 0) return undefined;
  const m = /^(\d+)(?:[,:]|$)/.exec(name.slice(at + 3));
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}
