/**
 * Turns scan verdicts into what happens to the mail: infected → the [virus]
 * action, spam → the [spam] folder, a failed scanner → deliver unscanned
 * (marked) or defer, as that scanner's on_failure says. mda never bounces and
 * never sends mail because of a verdict or a scanner failure.
 * Pure: no I/O.
 */
import type { Config, ScannerConfig } from '../config/schema.js';
import type { Verdict } from './types.js';

export type ScanDecision =
  | { action: 'deliver'; folder: string | undefined; why: string }
  | { action: 'discard'; why: string }
  | { action: 'defer'; why: string };

/** A deliberate skip (message too large for this scanner) is not a failure. */
export const isFailure = (v: Verdict): boolean => v.status === 'skipped' && v.skip !== 'too-large';

export function routeScan(
  verdicts: readonly Verdict[],
  scanners: readonly ScannerConfig[],
  policy: Pick<Config, 'spam' | 'virus'>,
): ScanDecision {
  const byName = new Map(scanners.map((s) => [s.name, s]));
  const failed = verdicts.filter((v) => isFailure(v) && byName.get(v.scanner)?.onFailure === 'defer');
  if (failed.length) {
    return { action: 'defer', why: `content scanner unavailable: ${failed.map((v) => `${v.scanner} ${v.skip}`).join(', ')}` };
  }
  const virus = verdicts.find((v) => v.status === 'infected');
  if (virus) {
    const why = `virus ${virus.signature ?? ''} (${virus.scanner})`.replace('  ', ' ');
    if (policy.virus.action === 'discard') return { action: 'discard', why };
    if (policy.virus.action === 'quarantine') return { action: 'deliver', folder: policy.virus.folder, why };
    return { action: 'deliver', folder: undefined, why };
  }
  const spam = verdicts.find((v) => v.status === 'spam');
  if (spam) return { action: 'deliver', folder: policy.spam.folder || undefined, why: `spam (${spam.scanner})` };
  return { action: 'deliver', folder: undefined, why: '' };
}
