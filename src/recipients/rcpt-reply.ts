/**
 * The RCPT replies of the recipient checks, in one table (as Postfix keeps its
 * exits in sys_exits.c): unknown → 550 5.1.1, cannot tell → 451 4.3.0, over
 * quota → 552 5.2.2 or 452 4.2.2 (quota-verdict.ts picks one through
 * quota/policy.ts, the one `[quota] over_quota` switch). The text
 * never carries the internal reason (an LDAP error, a path): that is logged.
 * Pure: no I/O.
 */
export interface RcptReply {
  code: 550 | 451 | 552 | 452;
  /** RFC 3463 enhanced status code. */
  dsn: string;
  text: string;
}

export type RcptRefusal = 'unknown' | 'temp' | 'over-bounce' | 'over-defer';

const REPLIES: Record<RcptRefusal, RcptReply> = {
  unknown: { code: 550, dsn: '5.1.1', text: 'User unknown' }, // RFC 3463 §3.2 X.1.1 bad destination mailbox
  temp: { code: 451, dsn: '4.3.0', text: 'Temporary lookup failure' },
  'over-bounce': { code: 552, dsn: '5.2.2', text: 'Mailbox full' }, // RFC 3463 §3.3 X.2.2 mailbox full
  'over-defer': { code: 452, dsn: '4.2.2', text: 'Mailbox full' },
};

/** rcptReply returns a copy of the table row. */
export function rcptReply(why: RcptRefusal): RcptReply {
  return { ...REPLIES[why] };
}

