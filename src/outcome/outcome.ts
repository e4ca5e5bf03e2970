/**
 * The outcome vocabulary of a delivery: every way `mda deliver` can end.
 * Owns the names of outcomes only; DSN codes and exit codes live in to-exit.ts.
 * Pure: no I/O.
 */

/** Why a delivery was deferred (Postfix will retry). */
export type TempCause =
  | 'unexpected' // a bug, exception or rejection: never bounce on our own mistakes
  | 'usage' // a bad flag or argument
  | 'config' // config file unreadable or invalid
  | 'deadline' // the global deadline expired
  | 'signal' // SIGTERM/SIGINT/SIGHUP
  | 'disk-full' // ENOSPC
  | 'mailbox-full' // EDQUOT (filesystem quota) when no over_quota policy applies
  | 'io' // EIO and other I/O errors
  | 'mailbox-unavailable' // EACCES, ENOENT, ESTALE, EAGAIN...
  | 'unsafe-mailbox' // Maildir owned by someone else, symlinked, world-writable
  | 'mailbox-busy' // a lock stayed held past its timeout
  | 'lock-unsupported' // mbox fcntl/flock configured but the native fs-ext cannot be loaded
  | 'mbox-spool-unwritable' // the mbox is missing and its directory (e.g. /var/mail 2775 root:mail) is not ours to create in
  | 'over-quota' // Maildir++ quota reached, [quota] over_quota = "defer"
  | 'scanner-unavailable' // a scanner with on_failure = "defer" failed
  | 'system'; // cannot switch user, look up the account, ...

/** Why a delivery was refused for good (Postfix bounces). Deliberate policy only. */
export type RejectCause =
  | 'unknown-user' // RFC 3463 5.1.1
  | 'too-large' // 5.2.3
  | 'loop' // 5.4.6
  | 'over-quota' // 5.2.2, [quota] over_quota = "bounce" (Maildir++ quota, or EDQUOT)
  | 'mailbox-size-limit'; // 5.2.2, EFBIG writing the message: it alone is over Postfix's mailbox_size_limit

export type Outcome =
  | { kind: 'delivered'; folder: string; file: string }
  | { kind: 'discarded'; why: string }
  | { kind: 'temp'; cause: TempCause; detail: string }
  | { kind: 'reject'; cause: RejectCause; detail: string };

export const delivered = (folder: string, file: string): Outcome => ({ kind: 'delivered', folder, file });
export const discarded = (why: string): Outcome => ({ kind: 'discarded', why });
export const temp = (cause: TempCause, detail: string): Outcome => ({ kind: 'temp', cause, detail });
export const reject = (cause: RejectCause, detail: string): Outcome => ({ kind: 'reject', cause, detail });

/**
 * A thrown Outcome: lets deep code end the delivery with a chosen outcome
 * without every caller threading it back by hand. Only the orchestrator catches it.
 */
export class OutcomeError extends Error {
  constructor(readonly outcome: Outcome) {
    super(outcome.kind === 'temp' || outcome.kind === 'reject' ? outcome.detail : outcome.kind);
  }
}
