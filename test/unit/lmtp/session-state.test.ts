import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../../src/lmtp/commands.js';
import {
  afterData,
  afterDelivery,
  afterRcptCheck,
  inTransaction,
  initialState,
  next,
  type RcptVerdict,
  type SessionContext,
  type SessionState,
} from '../../../src/lmtp/session-state.js';
import { delivered, reject, temp } from '../../../src/outcome/outcome.js';

const CTX: SessionContext = { hostname: 'mx.test', maxRecipients: 3, maxMessageSize: 1000 };

/** The recipient lookup of these tests: "nobody" is unknown, "full" is over quota, others exist. */
function lookup(to: string): RcptVerdict {
  if (to.startsWith('nobody')) return { accept: false, outcome: reject('unknown-user', 'no such user') };
  if (to.startsWith('full')) return { accept: false, outcome: temp('over-quota', 'quota') };
  return { accept: true };
}

/**
 * Runs command lines through the machine as the connection code would, and
 * returns each reply without its CRLF, '|'-joined per command. DATA's body
 * is not sent: a 354 is answered at once with a delivery for every recipient.
 */
function drive(lines: string[], ctx: SessionContext = CTX, start: SessionState = initialState()): { replies: string[]; state: SessionState } {
  let s = start;
  const replies: string[] = [];
  for (const line of lines) {
    let r = next(s, parseCommand(line), ctx);
    const got = [...r.replies];
    if (r.action.action === 'check-rcpt') {
      r = afterRcptCheck(r.state, lookup(r.action.to));
      got.push(...r.replies);
    } else if (r.action.action === 'start-data') {
      r = afterData(r.state, { tooLarge: false });
      if (r.action.action !== 'deliver') throw new Error('expected deliver');
      r = afterDelivery(r.state, r.action.envelope.recipients.map(() => delivered('', 'f')));
      got.push(...r.replies);
    }
    for (const g of got) expect(g.endsWith('\r\n')).toBe(true);
    replies.push(got.map((g) => g.slice(0, -2)).join('|'));
    s = r.state;
  }
  return { replies, state: s };
}

const codes = (replies: string[]): string[] => replies.map((r) => r.split('|').map((x) => x.slice(0, 9)).join('|'));

describe('session-state: command order (RFC 5321 §4.1.4, RFC 2033)', () => {
  it.each<[string, string[], string[]]>([
    ['RFC 5321 §4.1.4: MAIL before LHLO is 503', ['MAIL FROM:<a@x>'], ['503 5.5.1']],
    ['RFC 5321 §4.1.4: RCPT before LHLO is 503', ['RCPT TO:<b@x>'], ['503 5.5.1']],
    ['RFC 5321 §4.1.4: DATA before LHLO is 503', ['DATA'], ['503 5.5.1']],
    ['RFC 2033 §4.1: HELO is refused 500 5.5.1', ['HELO x', 'LHLO x'], ['500 5.5.1', '250-mx.te']],
    ['RFC 2033 §4.1: EHLO is refused 500 5.5.1', ['EHLO x'], ['500 5.5.1']],
    ['RFC 5321 §4.1.1.3: RCPT needs MAIL', ['LHLO x', 'RCPT TO:<b@x>'], ['250-mx.te', '503 5.5.1']],
    ['RFC 5321 §4.1.1.4: DATA needs MAIL', ['LHLO x', 'DATA'], ['250-mx.te', '503 5.5.1']],
    ['RFC 2033 §4.2: DATA with no RCPT at all is 503', ['LHLO x', 'MAIL FROM:<>', 'DATA'], ['250-mx.te', '250 2.1.0', '503 5.5.1']],
    [
      'RFC 2033 §4.2: DATA when every RCPT was refused is 503 No valid recipients',
      ['LHLO x', 'MAIL FROM:<>', 'RCPT TO:<nobody@x>', 'RCPT TO:<full@x>', 'DATA'],
      ['250-mx.te', '250 2.1.0', '550 5.1.1', '452 4.2.2', '503 5.5.1'],
    ],
    ['RFC 5321 §4.1.1.2: a nested MAIL is 503', ['LHLO x', 'MAIL FROM:<>', 'MAIL FROM:<>'], ['250-mx.te', '250 2.1.0', '503 5.5.1']],
    ['RFC 5321 §4.1.1.5: RSET ends the transaction', ['LHLO x', 'MAIL FROM:<>', 'RSET', 'RCPT TO:<b@x>', 'MAIL FROM:<>'], ['250-mx.te', '250 2.1.0', '250 2.0.0', '503 5.5.1', '250 2.1.0']],
    ['RFC 5321 §4.1.4: LHLO again resets the transaction', ['LHLO x', 'MAIL FROM:<>', 'LHLO y', 'RCPT TO:<b@x>'], ['250-mx.te', '250 2.1.0', '250-mx.te', '503 5.5.1']],
    ['RFC 5321 §4.1.4: RSET, NOOP and VRFY work before LHLO', ['RSET', 'NOOP', 'VRFY bob'], ['250 2.0.0', '250 2.0.0', '252 2.5.0']],
    ['RFC 5321 §3.5.3: VRFY of a bare local part is 252', ['LHLO x', 'VRFY bob'], ['250-mx.te', '252 2.5.0']],
    ['RFC 5321 §3.5.3: VRFY of an unknown user is 252 too (no enumeration)', ['LHLO x', 'VRFY nobody@x'], ['250-mx.te', '252 2.5.0']],
    ['RFC 5321 §4.1.1.9: NOOP inside a transaction keeps it', ['LHLO x', 'MAIL FROM:<>', 'NOOP', 'RCPT TO:<b@x>'], ['250-mx.te', '250 2.1.0', '250 2.0.0', '250 2.1.5']],
    ['RFC 5321 §4.1.1.10: QUIT is 221 at any point', ['LHLO x', 'MAIL FROM:<>', 'QUIT'], ['250-mx.te', '250 2.1.0', '221 2.0.0']],
    ['a syntax error keeps the transaction', ['LHLO x', 'MAIL FROM:<>', 'RCPT TO:<>', 'RCPT TO:<b@x>'], ['250-mx.te', '250 2.1.0', '501 5.1.3', '250 2.1.5']],
    ['RFC 1870 §6.1: SIZE over the limit at MAIL is 552 5.3.4', ['LHLO x', 'MAIL FROM:<> SIZE=1001', 'RCPT TO:<b@x>'], ['250-mx.te', '552 5.3.4', '503 5.5.1']],
    ['RFC 1870 §6.1: SIZE at the limit is accepted', ['LHLO x', 'MAIL FROM:<> SIZE=1000'], ['250-mx.te', '250 2.1.0']],
    [
      'RFC 5321 §4.5.3.1.10: recipients past max_recipients get 452 4.5.3; refused ones do not count',
      ['LHLO x', 'MAIL FROM:<>', 'RCPT TO:<nobody@x>', 'RCPT TO:<a@x>', 'RCPT TO:<b@x>', 'RCPT TO:<c@x>', 'RCPT TO:<d@x>', 'DATA'],
      ['250-mx.te', '250 2.1.0', '550 5.1.1', '250 2.1.5', '250 2.1.5', '250 2.1.5', '452 4.5.3', '354 End d|250 2.0.0|250 2.0.0|250 2.0.0'],
    ],
    [
      'RFC 2033 §4.2: one reply per accepted recipient after DATA, then a new transaction may start',
      ['LHLO x', 'MAIL FROM:<>', 'RCPT TO:<a@x>', 'RCPT TO:<nobody@x>', 'RCPT TO:<b@x>', 'DATA', 'MAIL FROM:<a@x>'],
      ['250-mx.te', '250 2.1.0', '250 2.1.5', '550 5.1.1', '250 2.1.5', '354 End d|250 2.0.0|250 2.0.0', '250 2.1.0'],
    ],
  ])('%s', (_n, lines, want) => {
    expect(codes(drive(lines).replies)).toEqual(want);
  });

  it('RFC 2033 §4.1 + RFC 1870 §4: LHLO advertises exactly PIPELINING, ENHANCEDSTATUSCODES, 8BITMIME, SMTPUTF8 and SIZE', () => {
    const { replies } = drive(['LHLO client.test']);
    expect(replies[0]).toBe('250-mx.test|250-PIPELINING|250-ENHANCEDSTATUSCODES|250-8BITMIME|250-SMTPUTF8|250 SIZE 1000'.replace(/\|/g, '\r\n'));
  });

  it('RFC 3463 5.1.1 at RCPT: the refusal names the recipient', () => {
    const { replies } = drive(['LHLO x', 'MAIL FROM:<>', 'RCPT TO:<nobody@x>']);
    expect(replies[2]).toBe('550 5.1.1 <nobody@x> user unknown: no such user');
  });

  it('check-rcpt carries the declared SIZE, so quota can refuse at RCPT without reading the message', () => {
    let r = next(initialState(), parseCommand('LHLO x'), CTX);
    r = next(r.state, parseCommand('MAIL FROM:<> SIZE=777'), CTX);
    r = next(r.state, parseCommand('RCPT TO:<"a b"@x>'), CTX);
    expect(r.replies).toEqual([]);
    expect(r.action).toEqual({ action: 'check-rcpt', to: '"a b"@x', size: 777 });
    expect(inTransaction(r.state)).toBe(true);
  });

  it('RFC 2033 §4.2: after DATA the envelope lists accepted recipients in order; a missing outcome is a 451, never a missing reply', () => {
    let r = next(initialState(), parseCommand('LHLO pf'), CTX);
    r = next(r.state, parseCommand('MAIL FROM:<s@x> BODY=8BITMIME SMTPUTF8'), CTX);
    for (const to of ['a@x', 'nobody@x', 'b@x']) {
      r = next(r.state, parseCommand(`RCPT TO:<${to}>`), CTX);
      r = afterRcptCheck(r.state, lookup(to));
    }
    r = next(r.state, parseCommand('DATA'), CTX);
    expect(r.action).toEqual({ action: 'start-data', maxSize: 1000 });
    r = afterData(r.state, { tooLarge: false });
    expect(r.action).toEqual({
      action: 'deliver',
      envelope: { lhlo: 'pf', from: 's@x', size: undefined, body: '8BITMIME', smtputf8: true, recipients: ['a@x', 'b@x'] },
    });
    r = afterDelivery(r.state, [delivered('', 'f')]);
    expect(r.replies).toEqual(['250 2.0.0 <a@x> Saved\r\n', expect.stringMatching(/^451 4\.3\.0 <b@x> /)]);
    expect(r.state).toEqual({ phase: 'ready', lhlo: 'pf' });
  });

  it('RFC 2033 §4.2 + RFC 3463 5.3.4: a message over the limit gets one 552 per recipient after the dot', () => {
    let r = next(initialState(), parseCommand('LHLO pf'), CTX);
    r = next(r.state, parseCommand('MAIL FROM:<>'), CTX);
    for (const to of ['a@x', 'b@x']) r = afterRcptCheck(next(r.state, parseCommand(`RCPT TO:<${to}>`), CTX).state, { accept: true });
    r = afterData(next(r.state, parseCommand('DATA'), CTX).state, { tooLarge: true });
    expect(r.replies).toEqual([
      '552 5.3.4 <a@x> Message size exceeds fixed maximum message size\r\n',
      '552 5.3.4 <b@x> Message size exceeds fixed maximum message size\r\n',
    ]);
    expect(r.action).toEqual({ action: 'none' });
    expect(inTransaction(r.state)).toBe(false);
  });

  it('RFC 5321 §3.8: shutting down answers 421 4.3.2 outside a transaction, and lets an open one finish', () => {
    const down = { ...CTX, shuttingDown: true };
    const idle = drive(['LHLO x']).state;
    const r = next(idle, parseCommand('MAIL FROM:<>'), down);
    expect(r.replies).toEqual(['421 4.3.2 Service shutting down\r\n']);
    expect(r.action).toEqual({ action: 'close' });
    const open = drive(['LHLO x', 'MAIL FROM:<>']).state;
    expect(codes(drive(['RCPT TO:<a@x>', 'DATA', 'MAIL FROM:<>'], down, open).replies)).toEqual(['250 2.1.5', '354 End d|250 2.0.0', '421 4.3.2']);
    expect(codes(drive(['QUIT'], down, idle).replies)).toEqual(['221 2.0.0']);
  });

  it('QUIT closes, and nothing is answered after it', () => {
    const r = next(initialState(), parseCommand('QUIT'), CTX);
    expect(r.action).toEqual({ action: 'close' });
    expect(next(r.state, parseCommand('NOOP'), CTX)).toEqual({ state: r.state, replies: [], action: { action: 'close' } });
  });

  it('a command while an action is pending is a caller bug, and says so', () => {
    const s = next(drive(['LHLO x', 'MAIL FROM:<>']).state, parseCommand('RCPT TO:<a@x>'), CTX).state;
    expect(() => next(s, parseCommand('NOOP'), CTX)).toThrow(/rcpt-check/);
    expect(() => afterData(s, { tooLarge: false })).toThrow(/afterData in phase rcpt-check/);
    expect(() => afterDelivery(initialState(), [])).toThrow(/afterDelivery in phase new/);
  });
});
