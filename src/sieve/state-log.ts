/**
 * The format and rules of mda's small Sieve state files (vacation sent-log,
 * RFC 5230 §4.2; duplicate ids, RFC 7352 §3): an append-only log of
 * `<key> <expiry-seconds>` lines, the last line of a key winning (`<key> 0`
 * forgets it). Entries leave by time only; the file is rewritten without the
 * expired lines once they outnumber the live ones, so N live entries cost
 * O(N) bytes and each update appends one line. A hard cap bounds the space:
 * the vacation log then refuses new entries (no reply: never forget a sender
 * inside its period), the duplicate log forgets the ids that expire first
 * (a repeat is then kept again; nothing is ever sent). Pure: no I/O
 * (state-store.ts reads and writes the files).
 */

/** Live vacation entries at most (~1 MB of 53-byte lines): past it, new senders get no reply until entries expire. */
export const MAX_VACATION_ENTRIES = 20_000;
/** Live duplicate ids at most; past it the earliest-expiring are forgotten. */
export const MAX_DUPLICATE_ENTRIES = 20_000;
/** Dead lines tolerated beyond the live ones before a rewrite: keeps rewrites rare for small logs. */
export const COMPACT_SLACK = 1_000;
/**
 * A file larger than this is not read (an update then fails, and vacation does not reply). mda's own
 * files stay below (2 × MAX + COMPACT_SLACK) lines of at most 54 bytes (~2.2 MB); only a hand-made
 * file gets here.
 */
export const MAX_STATE_BYTES = 4 * 1024 * 1024;
const KEY_RE = /^[0-9a-f]{8,128}$/;
const EXP_RE = /^\d{1,12}$/;

/** key → expiry (Unix seconds). */
export type StateLog = Map<string, number>;

export interface StateFile {
  log: StateLog;
  /** Non-empty complete lines, valid or not: what a rewrite would save. */
  lines: number;
  /** The file does not end with a newline (a write cut short): appending would glue onto it. */
  torn: boolean;
}

/**
 * parseStateFile reads the file's text. Malformed lines are skipped, and so is a
 * last line without its newline (a torn append could otherwise read as a
 * shorter expiry): a torn file loses entries, never a delivery.
 */
export function parseStateFile(text: string): StateFile {
  const log: StateLog = new Map();
  let lines = 0;
  let start = 0;
  // indexOf, not split + regex per line: a full vacation log is read on every delivery that may reply.
  for (let nl = text.indexOf('\n'); nl >= 0; start = nl + 1, nl = text.indexOf('\n', start)) {
    const line = text.slice(start, nl).trim();
    if (line === '') continue;
    lines++;
    const sp = line.search(/\s/);
    if (sp < 0) continue;
    const key = line.slice(0, sp);
    const exp = line.slice(sp + 1).trimStart();
    if (!KEY_RE.test(key) || !EXP_RE.test(exp)) continue;
    log.delete(key); // the last line wins, and sits last in the map
    log.set(key, Number(exp));
  }
  return { log, lines, torn: start < text.length };
}

export const parseStateLog = (text: string): StateLog => parseStateFile(text).log;

/** isLive: the key is present and its period has not run out. */
export function isLive(log: StateLog, key: string, nowSec: number): boolean {
  const exp = log.get(key);
  return exp !== undefined && exp > nowSec;
}

/** record sets (or extends) an entry; an entry never moves to an earlier expiry. */
export function record(log: StateLog, key: string, expirySec: number): void {
  if (!KEY_RE.test(key)) throw new Error(`bad state key ${JSON.stringify(key)}`);
  if ((log.get(key) ?? -1) < expirySec) log.set(key, expirySec);
}

/** prune drops expired entries and, only when `max` is given, the ones that expire first beyond it. */
export function prune(log: StateLog, nowSec: number, max = Infinity): StateLog {
  const live: StateLog = new Map();
  for (const [k, e] of log) if (e > nowSec) live.set(k, e);
  if (live.size <= max) return live;
  const kept = [...live].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return new Map(kept.slice(0, max));
}

/** serializeStateLog writes a whole (compacted) file. */
export function serializeStateLog(log: StateLog): string {
  return [...log].map(([k, e]) => `${k} ${e}\n`).join('');
}

/** changes: the lines that take `before` to `after` (a removed key becomes `<key> 0`). */
export function changes(before: StateLog, after: StateLog): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const [k, e] of after) if (before.get(k) !== e) out.push([k, e]);
  for (const k of before.keys()) if (!after.has(k)) out.push([k, 0]);
  return out;
}

export interface StateLimits {
  max: number;
  /** Past max: forget the earliest-expiring (duplicates) or refuse the update (vacation). */
  evict: boolean;
}

export type WritePlan =
  | { action: 'none' }
  | { action: 'append'; text: string }
  | { action: 'rewrite'; text: string }
  | { action: 'full'; live: number };

/**
 * planWrite: how to store `after` (the live entries once mutated) given the file as
 * read. Append when possible; rewrite when dead lines outnumber live ones by
 * COMPACT_SLACK, when the file's end is torn, or to evict; refuse past the cap.
 */
export function planWrite(file: Pick<StateFile, 'lines' | 'torn'>, before: StateLog, after: StateLog, nowSec: number, limits: StateLimits): WritePlan {
  const lines = changes(before, after);
  if (lines.length === 0) return { action: 'none' };
  const live = prune(after, nowSec);
  if (live.size > limits.max) {
    if (!limits.evict) return { action: 'full', live: live.size };
    return { action: 'rewrite', text: serializeStateLog(prune(live, nowSec, limits.max)) };
  }
  if (file.torn || file.lines + lines.length > 2 * live.size + COMPACT_SLACK) return { action: 'rewrite', text: serializeStateLog(live) };
  return { action: 'append', text: lines.map(([k, e]) => `${k} ${e}\n`).join('') };
}
