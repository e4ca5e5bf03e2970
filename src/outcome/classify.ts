/**
 * Classifies a thrown error (errno, AbortSignal reason, OutcomeError) into an
 * Outcome, like Postfix's mbox_dsn(). The only place that looks at errno codes.
 * Pure: no I/O. Every result is temporary: in issue #2 no I/O error is a
 * reason to bounce mail.
 */
import { OutcomeError, temp, type Outcome, type TempCause } from './outcome.js';

const ERRNO_CAUSE: Record<string, TempCause> = {
  ENOSPC: 'disk-full',
  EDQUOT: 'mailbox-full', // filesystem quota
  EFBIG: 'mailbox-full', // RLIMIT_FSIZE = Postfix mailbox_size_limit
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

/** The errno name of an error, if it has one. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** classifyError turns anything thrown during a delivery into a temporary Outcome. */
export function classifyError(err: unknown, what = 'delivery'): Outcome {
  if (err instanceof OutcomeError) return err.outcome;
  const code = errnoOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code && ERRNO_CAUSE[code]) return temp(ERRNO_CAUSE[code]!, `${what}: ${message}`);
  return temp(code ? 'io' : 'unexpected', `${what}: ${message}`);
}
