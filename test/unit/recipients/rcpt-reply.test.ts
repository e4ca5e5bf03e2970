import { describe, expect, it } from 'vitest';
import { rcptReply, type RcptRefusal } from '../../../src/recipients/rcpt-reply.js';

describe('rcptReply', () => {
  it.each([
    ['unknown', 550, '5.1.1'],
    ['temp', 451, '4.3.0'],
    ['over-bounce', 552, '5.2.2'],
    ['over-defer', 452, '4.2.2'],
  ] as const)('RFC 3463 §2: %s → %d %s (reply class = DSN class)', (why: RcptRefusal, code, dsn) => {
    const r = rcptReply(why);
    expect(r).toMatchObject({ code, dsn });
    expect(String(r.code)[0]).toBe(r.dsn[0]);
    expect(r.text).toMatch(/^[\x20-\x7e]+$/);
  });
});
