/**
 * Parses the human units of the config file: durations ("30s", "5m") into
 * milliseconds and sizes ("50M", "1G") into bytes. Owns unit syntax only;
 * which ranges make sense for which key is validate.ts's business.
 * Pure: no I/O.
 */

const DURATION_MS: Record<string, bigint> = {
  ms: 1n,
  s: 1_000n,
  m: 60_000n,
  h: 3_600_000n,
  d: 86_400_000n,
};

// Binary multiples, as for Postfix's message_size_limit users think in MiB.
const SIZE_BYTES: Record<string, bigint> = {
  '': 1n,
  k: 1n << 10n,
  m: 1n << 20n,
  g: 1n << 30n,
  t: 1n << 40n,
};

// A decimal number (no sign, no exponent), optional spaces, then a unit.
// Durations are case-sensitive on purpose: "5M" reads as months to some people.
const DURATION_RE = /^(\d+)(?:\.(\d+))?[ \t]*([a-z]*)$/;
const SIZE_RE = /^(\d+)(?:\.(\d+))?[ \t]*([kmgt]?)(i?b)?$/i;

const DURATION_HINT = 'use e.g. 250ms, 30s, 5m, 2h, 1d, or a bare number of seconds';
const SIZE_HINT = 'use e.g. 512, 512K, 50M, 1G, 2T';

/** parseDuration turns "250ms", "30s", "5m", "2h", "1d" or "30" (seconds) into ms. */
export function parseDuration(s: string): number {
  const bad = (why: string): Error => new Error(`${JSON.stringify(s)} ${why} (${DURATION_HINT})`);
  const text = checkText(s, 'a duration', bad);
  const m = DURATION_RE.exec(text);
  const unit = m?.[3] === '' ? 's' : m?.[3];
  const mult = unit === undefined ? undefined : DURATION_MS[unit];
  if (!m || mult === undefined) throw bad('is not a duration');
  return scale(m[1]!, m[2] ?? '', mult, 'millisecond', bad);
}

/** parseSize turns "512", "512K", "50M", "50MB", "1G", "2T" (1K = 1024) or an integer into bytes. */
export function parseSize(s: string | number): number {
  const bad = (why: string): Error => new Error(`${JSON.stringify(s)} ${why} (${SIZE_HINT})`);
  if (typeof s === 'number') {
    if (!Number.isFinite(s) || !Number.isInteger(s)) throw bad('is not a whole number of bytes');
    if (s < 0) throw bad('is negative: a size must be >= 0');
    if (!Number.isSafeInteger(s)) throw bad('is too large');
    return s;
  }
  const text = checkText(s, 'a size', bad);
  const m = SIZE_RE.exec(text);
  if (!m) throw bad('is not a size');
  const mult = SIZE_BYTES[(m[3] ?? '').toLowerCase()]!;
  // "iB" only makes sense after a multiplier: "512iB" is a typo, not bytes.
  if (m[4] !== undefined && m[4].length === 2 && m[3] === '') throw bad('is not a size');
  return scale(m[1]!, m[2] ?? '', mult, 'byte', bad);
}

/** checkText rejects the forms both parsers refuse for the same reasons. */
function checkText(s: string, what: string, bad: (why: string) => Error): string {
  if (typeof s !== 'string') throw bad(`is not ${what}`);
  const text = s.trim();
  if (text === '') throw new Error(`an empty string is not ${what}`);
  if (text.startsWith('-')) throw bad(`is negative: ${what} must be >= 0`);
  return text;
}

/**
 * scale computes (whole.frac × mult) exactly with BigInt, so "1.5K" is 1536
 * but "0.1K" (102.4 bytes) and "1.5ms" are refused instead of silently rounded,
 * and nothing beyond Number.MAX_SAFE_INTEGER slips through as a rounded float.
 */
function scale(whole: string, frac: string, mult: bigint, base: string, bad: (why: string) => Error): number {
  const denom = 10n ** BigInt(frac.length);
  const total = BigInt(whole + frac) * mult;
  if (total % denom !== 0n) throw bad(`is not a whole number of ${base}s`);
  const value = total / denom;
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('is too large');
  return Number(value);
}
