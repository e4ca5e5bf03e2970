/**
 * Outcome → one LMTP reply line for one recipient (RFC 2033 §4.2: one reply
 * per accepted recipient after DATA), beside toExit: the DSN and text come
 * from the same TEMP_TABLE/REJECT_TABLE, so `mda deliver` and `mda lmtp` say
 * the same thing. Invariants (tested for every cause): 4.x.y ⇔ 4yz,
 * 5.x.y ⇔ 5yz, same DSN as toExit. Pure: no I/O.
 */
import { reply } from '../lmtp/replies.js';
import type { Outcome } from './outcome.js';
import { REJECT_TABLE, TEMP_TABLE, cleanDetail } from './to-exit.js';

/**
 * The RFC 5321 §4.2.2/§4.2.3 reply code for an RFC 3463 enhanced code.
 * 421 is never used per recipient: it closes the whole connection.
 */
function replyCode(dsn: string): number {
  const [cls, subject, detail] = dsn.split('.');
  if (cls === '4') {
    // 452: insufficient storage (RFC 3463 4.2.2 mailbox full, 4.3.1 mail system full)
    if ((subject === '2' && detail === '2') || (subject === '3' && detail === '1')) return 452;
    // 450: mailbox unavailable, e.g. busy (RFC 5321 §4.2.3); 4.2.x is the mailbox's status
    if (subject === '2') return 450;
    return 451; // local error in processing
  }
  // 552: exceeded storage allocation (5.2.2 mailbox full, 5.2.3 / 5.3.4 message too big)
  if (subject === '2' && (detail === '2' || detail === '3')) return 552;
  if (subject === '3' && detail === '4') return 552;
  // 550: mailbox unavailable (5.1.x addressing, 5.2.x mailbox status)
  if (subject === '1' || subject === '2') return 550;
  return 554; // transaction failed, e.g. 5.4.6 routing loop
}

/** The recipient as it appears in a reply: `<addr>`, printable. */
function bracketed(recipient: string): string {
  // eslint-disable-next-line no-control-regex
  return `<${recipient.replace(/[\x00-\x1f\x7f<>]/g, '')}>`;
}

/**
 * toLmtpReply maps one recipient's outcome to its reply line (CRLF included).
 * A Sieve discard answers "Saved" like a delivery: the reply can reach the
 * sender in a success DSN (NOTIFY=SUCCESS), and a discard must not show.
 */
export function toLmtpReply(outcome: Outcome, recipient: string): string {
  const rcpt = bracketed(recipient);
  const line = (dsn: string, text: string, detail: string): string => {
    const d = cleanDetail(detail);
    return reply(replyCode(dsn), dsn, `${rcpt} ${text}${d ? `: ${d}` : ''}`);
  };
  switch (outcome.kind) {
    case 'delivered':
    case 'discarded':
      return reply(250, '2.0.0', `${rcpt} Saved`);
    case 'temp': {
      const row = TEMP_TABLE[outcome.cause] ?? TEMP_TABLE.unexpected;
      return line(row.dsn, row.text, outcome.detail);
    }
    case 'reject': {
      const row = REJECT_TABLE[outcome.cause];
      if (!row) return toLmtpReply({ kind: 'temp', cause: 'unexpected', detail: `unknown reject cause ${String(outcome.cause)}` }, recipient);
      return line(row.dsn, row.text, outcome.detail);
    }
    default: {
      const never: never = outcome;
      return toLmtpReply({ kind: 'temp', cause: 'unexpected', detail: `unknown outcome ${JSON.stringify(never)}` }, recipient);
    }
  }
}
