/**
 * The one table from Outcome to (exit code, DSN line): the whole contract with
 * Postfix's pipe_command() in one place, like Postfix's sys_exits.c.
 * Invariants (tested for every row): 4.x.y ⇔ exit 75; 5.x.y ⇔ an exit Postfix
 * bounces; delivered/discarded ⇔ exit 0 and no output. Pure: no I/O.
 */
import type { Outcome, RejectCause, TempCause } from './outcome.js';
import { EX_NOPERM, EX_NOUSER, EX_OK, EX_TEMPFAIL } from './sysexits.js';

export interface ExitPlan {
  code: number;
  /** The single line for stdout/stderr ('' = print nothing). Starts with the DSN. */
  line: string;
  dsn: string;
}

/** RFC 3463 enhanced status codes and fixed texts for deferrals. */
export const TEMP_TABLE: Record<TempCause, { dsn: string; text: string }> = {
  unexpected: { dsn: '4.3.0', text: 'mda internal error, will retry' },
  usage: { dsn: '4.3.0', text: 'mda invoked incorrectly' },
  config: { dsn: '4.3.5', text: 'mda configuration error' },
  deadline: { dsn: '4.4.7', text: 'delivery time limit reached, will retry' },
  signal: { dsn: '4.3.0', text: 'delivery interrupted' },
  'disk-full': { dsn: '4.3.1', text: 'mail system full' },
  'mailbox-full': { dsn: '4.2.2', text: 'mailbox full' },
  io: { dsn: '4.3.0', text: 'I/O error' },
  'mailbox-unavailable': { dsn: '4.2.0', text: 'mailbox unavailable' },
  'unsafe-mailbox': { dsn: '4.2.0', text: 'mailbox refused as unsafe' },
  'mailbox-busy': { dsn: '4.2.0', text: 'mailbox busy, will retry' },
  'lock-unsupported': { dsn: '4.3.0', text: 'mbox locking unavailable' },
  'mbox-spool-unwritable': { dsn: '4.2.0', text: 'mbox missing and cannot be created' },
  'over-quota': { dsn: '4.2.2', text: 'Mailbox full' },
  'scanner-unavailable': { dsn: '4.3.0', text: 'content scanner unavailable, will retry' },
  system: { dsn: '4.3.0', text: 'system error' },
};

/** Deliberate refusals: a bounce is the intended result. */
export const REJECT_TABLE: Record<RejectCause, { dsn: string; code: number; text: string }> = {
  'unknown-user': { dsn: '5.1.1', code: EX_NOUSER, text: 'user unknown' },
  'too-large': { dsn: '5.2.3', code: EX_NOPERM, text: 'message too large' },
  loop: { dsn: '5.4.6', code: EX_NOPERM, text: 'mail forwarding loop' },
  'over-quota': { dsn: '5.2.2', code: EX_NOPERM, text: 'Mailbox full' },
  // Postfix local(8) (mbox_dsn) says 5.2.2 for EFBIG too: the message can never fit
  'mailbox-size-limit': { dsn: '5.2.2', code: EX_NOPERM, text: 'message exceeds the mailbox file size limit' },
};

/** Postfix turns control bytes into '_' and keeps ~4 KB; keep our line short and printable. */
const MAX_DETAIL = 300;
export function cleanDetail(detail: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = detail.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return flat.length > MAX_DETAIL ? flat.slice(0, MAX_DETAIL - 3) + '...' : flat;
}

function line(dsn: string, text: string, detail: string): string {
  const d = cleanDetail(detail);
  return `${dsn} ${text}${d ? `: ${d}` : ''}\n`;
}

/** toExit maps an outcome to what the process prints and returns. */
export function toExit(outcome: Outcome): ExitPlan {
  switch (outcome.kind) {
    case 'delivered':
    case 'discarded':
      return { code: EX_OK, line: '', dsn: '2.0.0' };
    case 'temp': {
      const row = TEMP_TABLE[outcome.cause] ?? TEMP_TABLE.unexpected;
      return { code: EX_TEMPFAIL, line: line(row.dsn, row.text, outcome.detail), dsn: row.dsn };
    }
    case 'reject': {
      const row = REJECT_TABLE[outcome.cause];
      if (!row) return toExit({ kind: 'temp', cause: 'unexpected', detail: `unknown reject cause ${String(outcome.cause)}` });
      return { code: row.code, line: line(row.dsn, row.text, outcome.detail), dsn: row.dsn };
    }
    default: {
      const never: never = outcome;
      return toExit({ kind: 'temp', cause: 'unexpected', detail: `unknown outcome ${JSON.stringify(never)}` });
    }
  }
}
