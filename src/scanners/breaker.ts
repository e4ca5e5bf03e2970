/**
 * The circuit breaker for one scanner endpoint, as a pure state machine: N
 * consecutive failures open it, an open breaker skips the endpoint at no cost
 * until its cool-down ends, then one delivery probes it. Also the rate limit
 * for failure log lines, and the on-disk record breaker-file-store.ts writes.
 * Pure: no I/O, no clock (callers pass nowMs, wall-clock ms shared by all processes).
 */

export interface BreakerState {
  /** Consecutive failures; a success resets it. */
  failures: number;
  /** While nowMs < openUntilMs the endpoint is skipped; 0 = closed. */
  openUntilMs: number;
  /** When a failure of this endpoint was last logged (by any process). */
  lastLogMs: number;
}

export type BreakerDecision = 'closed' | 'open' | 'probe';

export interface BreakerPolicy {
  /** Consecutive failures that open the breaker. */
  failures: number;
  cooldownMs: number;
}

export const CLOSED: Readonly<BreakerState> = Object.freeze({ failures: 0, openUntilMs: 0, lastLogMs: 0 });

/**
 * The longest cool-down ([scanning] breaker_cooldown allows up to this). An
 * openUntil further ahead than that cannot have been written by a sane clock:
 * the wall clock stepped back, or someone forged the file. It is treated as
 * over, so scanning is never switched off for longer than one cool-down.
 */
export const MAX_COOLDOWN_MS = 3_600_000;

/**
 * breakerDecision: 'closed' = scan; 'open' = skip (verdict skipped
 * 'circuit-open', no time spent); 'probe' = the cool-down is over, let this
 * delivery try. The caller must then push openUntilMs forward by one cool-down
 * at once, so concurrent deliveries keep skipping while it probes.
 */
export function breakerDecision(state: BreakerState, nowMs: number): BreakerDecision {
  if (state.openUntilMs <= 0) return 'closed';
  if (nowMs < state.openUntilMs && state.openUntilMs - nowMs <= MAX_COOLDOWN_MS) return 'open';
  return 'probe';
}

/** recordResult: a success closes and resets; the Nth consecutive failure (re)opens for one cool-down. */
export function recordResult(state: BreakerState, ok: boolean, nowMs: number, policy: BreakerPolicy): BreakerState {
  if (ok) return { failures: 0, openUntilMs: 0, lastLogMs: state.lastLogMs };
  const failures = Math.min(state.failures + 1, MAX_FAILURES);
  const open = failures >= policy.failures;
  return { failures, openUntilMs: open ? nowMs + policy.cooldownMs : state.openUntilMs, lastLogMs: state.lastLogMs };
}

/**
 * shouldLog: at most one failure line per interval per endpoint, across all
 * processes sharing a store (a tight error loop once filled a log disk). A lastLogMs far in
 * the future (the clock stepped back) counts as long ago, or logging would
 * stop until the clock caught up.
 */
export function shouldLog(state: BreakerState, nowMs: number, intervalMs: number): boolean {
  return Math.abs(nowMs - state.lastLogMs) >= intervalMs;
}

// The record on disk: one fixed-width ASCII line, rewritten in place at offset 0.
// 15 digits of ms: every such number is an exact double (16 would not be).
const WIDTH = { failures: 10, ms: 15 } as const;
const MAX_FAILURES = 10 ** WIDTH.failures - 1;
const MAX_MS = 10 ** WIDTH.ms - 1;
const RECORD_RE = /^mda-breaker 1 (\d{10}) (\d{15}) (\d{15})\n/;

/** The record's length in bytes: every state encodes to exactly this many. */
export const RECORD_BYTES = 'mda-breaker 1 '.length + WIDTH.failures + 1 + WIDTH.ms + 1 + WIDTH.ms + 1;

/** encodeBreaker writes a state as its fixed-width record (RECORD_BYTES long). */
export function encodeBreaker(s: BreakerState): string {
  const num = (n: number, width: number, max: number): string =>
    String(Math.min(Math.max(0, Math.floor(Number.isFinite(n) ? n : 0)), max)).padStart(width, '0');
  return `mda-breaker 1 ${num(s.failures, WIDTH.failures, MAX_FAILURES)} ${num(s.openUntilMs, WIDTH.ms, MAX_MS)} ${num(s.lastLogMs, WIDTH.ms, MAX_MS)}\n`;
}

/** decodeBreaker reads a record; anything else (empty, torn, garbage) is a closed breaker. */
export function decodeBreaker(text: string): BreakerState {
  const m = RECORD_RE.exec(text);
  if (!m) return { ...CLOSED };
  return { failures: Number(m[1]), openUntilMs: Number(m[2]), lastLogMs: Number(m[3]) };
}

/**
 * breakerFileName maps an endpoint key (a scanner name, `host:port`, a socket
 * path...) to a safe file name: letters, digits, '_' and '-' stay, every other
 * byte becomes %XX, so different keys never share a file and no key can
 * climb out of the state directory.
 */
export function breakerFileName(key: string): string {
  let out = '';
  for (const b of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  // NAME_MAX is 255 bytes; a longer key keeps its start and gets a hash of the whole.
  if (out.length > 200) out = `${out.slice(0, 180)}~${fnv1a(key)}`;
  return `${out === '' ? '%' : out}.breaker`;
}

/** FNV-1a, 32 bits, as 8 hex digits: enough to tell long keys apart (node:crypto would cost startup time). */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
