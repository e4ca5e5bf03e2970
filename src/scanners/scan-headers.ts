/**
 * The header fields mda adds after scanning: spamd's own X-Spam-* fields (or
 * X-Spam-Flag/X-Spam-Status built from a CHECK score, in SpamAssassin's
 * format so Sieve spamtest and MUAs understand them), X-Virus-Status in
 * clamav-milter's format, and one X-MDA-Scan per scanner saying what happened
 * (`spamd=skipped (timeout)`), so unscanned mail is visibly marked.
 * Pure: no I/O.
 */
import type { Verdict } from './types.js';

/** SpamAssassin caps X-Spam-Level at 50 stars (its default `add_header all Level`). */
const MAX_STARS = 50;

function spamLines(v: Verdict): string[] {
  if (v.spamHeaders?.length) return v.spamHeaders;
  if (v.score === undefined) return [];
  const yes = v.status === 'spam';
  const lines = [
    `X-Spam-Status: ${yes ? 'Yes' : 'No'}, score=${v.score.toFixed(1)} required=${(v.threshold ?? 5).toFixed(1)}${v.tests?.length ? ` tests=${v.tests.join(',')}` : ''}`,
  ];
  if (v.score >= 1) lines.unshift(`X-Spam-Level: ${'*'.repeat(Math.min(MAX_STARS, Math.floor(v.score)))}`);
  if (yes) lines.unshift('X-Spam-Flag: YES');
  return lines;
}

function virusLines(v: Verdict): string[] {
  if (v.status === 'infected') return [`X-Virus-Status: Infected (${v.signature ?? 'unknown'})`];
  if (v.status === 'clean') return ['X-Virus-Status: Clean'];
  return [];
}

/** What X-MDA-Scan says about one scanner. */
export function scanSummary(v: Verdict): string {
  const what = v.status === 'skipped' ? `skipped (${v.skip ?? 'error'})` : v.status;
  return `${v.scanner}=${what}`;
}

/** scanHeaderLines: the header fields to add, without line ends, in a stable order. */
export function scanHeaderLines(verdicts: readonly Verdict[]): string[] {
  const out: string[] = [];
  for (const v of verdicts) {
    if (v.status !== 'skipped' && v.type === 'spamd') out.push(...spamLines(v));
    if (v.status !== 'skipped' && v.type === 'clamd') out.push(...virusLines(v));
    out.push(`X-MDA-Scan: ${scanSummary(v)}`);
  }
  // Header fields are one line each here; a line end inside would start a forged field.
  return out.map((l) => l.replace(/[\r\n]+/g, ' '));
}

/**
 * foldField folds a long field at white space (RFC 5322 §2.2.3: a line end
 * inserted before WSP), aiming at 78 characters per line; spamd's
 * X-Spam-Status and X-Spam-Report arrive unfolded and can run to kilobytes,
 * and the limit per line is 998.
 */
export function foldField(field: string, eol: string, width = 78): string {
  if (field.length <= width) return field;
  const out: string[] = [];
  let line = '';
  for (const word of field.split(/(?=[ \t])/)) {
    if (line.length > 0 && line.length + word.length > width) {
      out.push(line);
      line = word.startsWith(' ') || word.startsWith('\t') ? word : ` ${word}`;
    } else {
      line += word;
    }
  }
  out.push(line);
  return out.join(eol);
}
