/**
 * The format and rules of mda's small Sieve state files (vacation sent-log,
 * RFC 5230 §4.2; duplicate ids, RFC 7352 §3): one `<key> <expiry-seconds>`
 * line per entry, expired entries dropped on every write, and at most
 * MAX_ENTRIES kept (the ones that expire last) so a flood cannot grow a file
 * without bound. Pure: no I/O (state-store.ts reads and writes the files).
 */

/** Entries per file; at ~60 bytes a line a file stays below 400 KB. */
export const MAX_ENTRIES = 5_000;
const KEY_RE = /^[0-9a-f]{8,128}$/;

/** key → expiry (Unix seconds). */
export type StateLog = Map<string, number>;

/** parseStateLog reads the file's text; malformed lines are skipped (a torn file loses entries, never a delivery). */
export function parseStateLog(text: string): StateLog {
  const out: StateLog = new Map();
  for (const line of text.split('\n')) {
    const [key, exp, extra] = line.trim().split(/\s+/);
    if (key === undefined || exp === undefined || extra !== undefined || !KEY_RE.test(key) || !/^\d{1,12}$/.test(exp)) continue;
    const expiry = Number(exp);
    if ((out.get(key) ?? -1) < expiry) out.set(key, expiry);
  }
  return out;
}

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

/** prune drops expired entries and, past `max`, the ones that would expire first. */
export function prune(log: StateLog, nowSec: number, max = MAX_ENTRIES): StateLog {
  const live = [...log].filter(([, exp]) => exp > nowSec);
  live.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return new Map(live.slice(0, max));
}

/** serializeStateLog writes entries in a stable order (latest expiry first). */
export function serializeStateLog(log: StateLog): string {
  return [...log].map(([k, e]) => `${k} ${e}\n`).join('');
}
