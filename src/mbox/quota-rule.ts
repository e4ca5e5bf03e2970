/**
 * The storage quota of an mbox, pure: the file's size is its usage (no
 * maildirsize; a message count would need a scan of the whole file, so
 * `messages` does not apply to an mbox). Same shape as the Maildir++ rule: a
 * mailbox already at its limit takes nothing more, and the last message may go
 * over it by `grace` at most.
 * Must not: read files or choose the outcome (quota/policy.ts's over_quota switch does).
 */
import type { UserQuota } from '../quota/limits.js';

/** mboxOverQuota: why appending `adding` bytes to an mbox of `size` bytes is refused, or undefined when it fits. */
export function mboxOverQuota(size: number, adding: number, quota: Pick<UserQuota, 'limits' | 'grace'>): string | undefined {
  const limit = quota.limits.storage;
  if (limit <= 0) return undefined;
  if (size >= limit) return `mbox is ${size} bytes, at its limit of ${limit}`;
  if (size + adding > limit + quota.grace) return `mbox is ${size} bytes; ${adding} more would pass its limit of ${limit}${quota.grace ? ` (+${quota.grace} grace)` : ''}`;
  return undefined;
}
