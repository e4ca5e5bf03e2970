/**
 * What an over-quota delivery becomes: `[quota] over_quota = "bounce"` (the
 * default, like Postfix local(8) and dovecot-lda) → 5.2.2, or "defer" (like
 * Dovecot's quota_full_tempfail) → 4.2.2 so the queue keeps it. One switch,
 * here, not at call sites. Pure: no I/O.
 */
import type { OverQuota } from '../config/schema.js';
import { reject, temp, type Outcome } from '../outcome/outcome.js';

export function overQuotaOutcome(policy: OverQuota, detail: string): Outcome {
  return policy === 'defer' ? temp('over-quota', detail) : reject('over-quota', detail);
}
