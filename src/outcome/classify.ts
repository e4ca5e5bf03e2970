/**
 * Classifies a thrown error (errno, AbortSignal reason, OutcomeError) into an
 * Outcome, like Postfix's mbox_dsn(). The only place that looks at errno codes.
 * Pure: no I/O, no config: the over_quota policy comes in as an argument.
 * Every I/O error is temporary except the two Postfix's mbox_dsn() maps to
 * 5.2.2: EFBIG while writing the message itself, and EDQUOT when over_quota says bounce.
 */
import { overQuotaOutcome } from '../quota/policy.js';
import { OutcomeError, reject, temp, type Outcome, type TempCause } from './outcome.js';

const ERRNO_CAUSE: Record<string, TempCause> = {
  ENOSPC: 'disk-full',
  EDQUOT: 'mailbox-full', // filesystem quota, when no over_quota policy is given
  EFBIG: 'io', // RLIMIT_FSIZE on a file that is not the message (log, state, maildirsize)
  EIO: 'io',
  EROFS: 'io',
  EMFILE: 'system',
  ENFILE: 'system',
  ENOMEM: 'system',
  EACCES: 'mailbox-unavailable',
  EPERM: 'mailbox-unavailable',
  ENOENT: 'mailbox-unavailable',
  ENOTDIR: 'mailbox-unavailable',
  ELOOP: 'unsafe-mailbox', // O_NOFOLLOW met a symlink
  EEXIST: 'mailbox-unavailable',
  ESTALE: 'mailbox-unavailable',
  EAGAIN: 'mailbox-unavailable',
  EBUSY: 'mailbox-unavailable',
  EINTR: 'mailbox-unavailable',
};

/** What the caller's configuration says about errors that are policy, not fact. */
export interface ClassifyPolicy {
  /** [quota] over_quota: a filesystem quota (EDQUOT) is treated like a Maildir++ quota. */
  overQuota: 'bounce' | 'defer';
}

/** The mark whileWritingMessage sets: a property, so the error itself (code, stack) is unchanged. */
const MESSAGE_COPY = Symbol('mda.whileWritingMessage');

/**
 * whileWritingMessage marks an error thrown while writing the message's own
 * bytes (the spool copy), and returns it for `throw`. Only then does EFBIG
 * mean "the message alone is over mailbox_size_limit" (RLIMIT_FSIZE).
 */
export function whileWritingMessage<T>(err: T): T {
  if (err !== null && typeof err === 'object' && !Object.isFrozen(err)) Object.defineProperty(err, MESSAGE_COPY, { value: true });
  return err;
}

const isMessageWrite = (err: unknown): boolean => err !== null && typeof err === 'object' && MESSAGE_COPY in err;

/** The errno name of an error, if it has one. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * classifyError turns anything thrown during a delivery into an Outcome.
 * Without a policy, EDQUOT defers: mda never bounces unless told to.
 */
export function classifyError(err: unknown, what = 'delivery', policy?: ClassifyPolicy): Outcome {
  if (err instanceof OutcomeError) return err.outcome;
  const code = errnoOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const detail = `${what}: ${message}`;
  // Postfix local(8) bounces it (mbox_dsn: 5.2.2): a retry can never fit the same message.
  if (code === 'EFBIG' && isMessageWrite(err)) return reject('mailbox-size-limit', detail);
  if (code === 'EDQUOT' && policy) return overQuotaOutcome(policy.overQuota, detail);
  if (code && ERRNO_CAUSE[code]) return temp(ERRNO_CAUSE[code]!, detail);
  return temp(code ? 'io' : 'unexpected', detail);
}
