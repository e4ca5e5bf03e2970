/**
 * The values the spamtest, spamtestplus and virustest tests see (RFC 5235):
 * from mda's own scanner verdicts, or (only with `trust_scan_headers` and no
 * scanner configured) from the X-Spam-Status / X-Virus-Status fields an
 * upstream filter wrote. "0" means "not tested" (§3.1, §3.3). Pure: no I/O.
 */
import type { Verdict } from '../scanners/types.js';

export interface ScanValues {
  /** spamtest: "0" untested, "1" (clean) .. "10" (certainly spam). */
  spam: string;
  /** spamtest :percent: "0".."100", or undefined when untested (no value: :value fails, :count is 0). */
  spamPercent: string | undefined;
  /** virustest: "0" untested, "1" clean .. "5" infected. */
  virus: string;
}

export interface ScanSources {
  verdicts: readonly Verdict[];
  scannersConfigured: boolean;
  trustScanHeaders: boolean;
  /** All values of a header field (lower-case name). */
  header: (name: string) => string[];
}

const UNTESTED: ScanValues = { spam: '0', spamPercent: undefined, virus: '0' };

/** RFC 5235 §3.1 maps "how spammy" onto 1..10; S/R clamped to [0,1] (the epsilon absorbs float error at the edges). */
export function spamValue(score: number, required: number): string {
  return String(Math.floor(ratio(score, required) * 9 + 1.001));
}

export function spamPercent(score: number, required: number): string {
  return String(Math.floor(ratio(score, required) * 100 + 0.001));
}

function ratio(score: number, required: number): number {
  if (!Number.isFinite(score)) return 0;
  if (!(required > 0)) return score > 0 ? 1 : 0; // a threshold of 0: anything positive is spam
  return Math.min(1, Math.max(0, score / required));
}

export function scanValues(s: ScanSources): ScanValues {
  if (s.scannersConfigured) return fromVerdicts(s.verdicts);
  if (s.trustScanHeaders) return fromHeaders(s.header);
  return UNTESTED;
}

/** The most spammy verdict decides; a skipped scanner tested nothing. */
export function fromVerdicts(verdicts: readonly Verdict[]): ScanValues {
  const out: ScanValues = { ...UNTESTED };
  let best = -1;
  for (const v of verdicts) {
    if (v.status === 'infected') out.virus = '5';
    else if (v.status === 'clean' && v.type === 'clamd' && out.virus === '0') out.virus = '1';
    if (v.type === 'clamd' || v.status === 'skipped' || v.status === 'infected') continue;
    // spamd gives a score; a filter only says spam or clean.
    const [value, pct] = v.score !== undefined && v.threshold !== undefined
      ? [spamValue(v.score, v.threshold), spamPercent(v.score, v.threshold)]
      : v.status === 'spam' ? ['10', '100'] : ['1', '0'];
    if (Number(pct) > best) {
      best = Number(pct);
      out.spam = value;
      out.spamPercent = pct;
    }
  }
  return out;
}

/** `X-Spam-Status: Yes, score=7.6 required=5.0 ...` (SpamAssassin) and `X-Virus-Status: Clean|Infected ...`. */
export function fromHeaders(header: (name: string) => string[]): ScanValues {
  const out: ScanValues = { ...UNTESTED };
  const status = header('x-spam-status')[0];
  const m = status === undefined ? null : /^\s*(yes|no)\b.*?\bscore=(-?\d+(?:\.\d+)?)\s.*?\brequired=(-?\d+(?:\.\d+)?)/i.exec(status);
  if (m) {
    out.spam = spamValue(Number(m[2]), Number(m[3]));
    out.spamPercent = spamPercent(Number(m[2]), Number(m[3]));
  }
  const virus = header('x-virus-status')[0]?.trim().toLowerCase();
  if (virus?.startsWith('infected')) out.virus = '5';
  else if (virus?.startsWith('clean')) out.virus = '1';
  return out;
}
