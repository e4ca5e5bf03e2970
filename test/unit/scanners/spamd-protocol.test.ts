/**
 * SPAMC/1.5 request bytes and reply parsing, against replies captured from a
 * real spamd 4.0.1 (test/fixtures/spamd/*.reply, see capture.mjs there) and
 * hand-made edge cases.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeRequest, parsePong, parseReply, safeUser, spamHeaderFields, testsOf } from '../../../src/scanners/spamd/protocol.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/spamd/${name}.reply`, import.meta.url));
const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('encodeRequest', () => {
  it.each([
    [{ command: 'CHECK', contentLength: 282 }, 'CHECK SPAMC/1.5\r\nContent-length: 282\r\n\r\n'],
    [{ command: 'HEADERS', contentLength: 10, user: 'bob' }, 'HEADERS SPAMC/1.5\r\nContent-length: 10\r\nUser: bob\r\n\r\n'],
    [{ command: 'PROCESS', contentLength: 0, user: 'bob@example.test' }, 'PROCESS SPAMC/1.5\r\nContent-length: 0\r\nUser: bob@example.test\r\n\r\n'],
    [{ command: 'CHECK' }, 'CHECK SPAMC/1.5\r\nContent-length: 0\r\n\r\n'],
    [{ command: 'CHECK', contentLength: 5, user: 'bad user' }, 'CHECK SPAMC/1.5\r\nContent-length: 5\r\n\r\n'],
    [{ command: 'CHECK', contentLength: 5, user: 'x\r\nSet: local' }, 'CHECK SPAMC/1.5\r\nContent-length: 5\r\n\r\n'],
    [{ command: 'PING' }, 'PING SPAMC/1.5\r\n\r\n'],
    [{ command: 'PING', user: 'bob' }, 'PING SPAMC/1.5\r\n\r\n'],
  ] as const)('%j', (req, want) => {
    expect(encodeRequest(req).toString('latin1')).toBe(want);
  });
});

describe('safeUser', () => {
  it.each([
    ['bob', true],
    ['bob.smith+tag@example.test', true],
    ['a-b_c=d,e', true],
    ['', false],
    ['bob smith', false],
    ['bob\tx', false],
    ['bob\r\nUser: root', false],
    ['bob:x', false],
    ['../etc', false],
    ['bøb', false],
    ['x'.repeat(256), false],
  ])('%j → %s', (user, ok) => expect(safeUser(user)).toBe(ok));
});

describe('parseReply with captured spamd 4.0.1 replies', () => {
  it('CHECK GTUBE: spam, 1000/5', () => {
    expect(parseReply(fixture('check-gtube'))).toEqual({ ok: true, code: 0, spam: true, score: 1000, threshold: 5, partial: false });
  });
  it('CHECK ham: clean, score -0.0', () => {
    const r = parseReply(fixture('check-ham'));
    expect(r).toMatchObject({ ok: true, spam: false, threshold: 5, partial: false });
    expect(r.ok && r.score === 0).toBe(true);
  });
  it('HEADERS GTUBE: the X-Spam-* fields, unfolded, and the rule names', () => {
    const r = parseReply(fixture('headers-gtube'));
    if (!r.ok) throw new Error(r.why);
    expect(r).toMatchObject({ spam: true, score: 1000, threshold: 5, partial: false });
    expect(r.headers).toEqual([
      expect.stringMatching(/^X-Spam-Checker-Version: SpamAssassin 4\.0\.1/),
      'X-Spam-Flag: YES',
      `X-Spam-Level: ${'*'.repeat(50)}`,
      'X-Spam-Status: Yes, score=1000.0 required=5.0 tests=GTUBE,NO_RECEIVED,\tNO_RELAYS autolearn=disabled version=4.0.1',
      'X-Spam-Report: \t* -0.0 NO_RECEIVED Informational: message has no Received headers\t* 1000 GTUBE BODY: Generic Test for Unsolicited Bulk Email\t* -0.0 NO_RELAYS Informational: message was not relayed via SMTP',
    ]);
    expect(r.tests).toEqual(['GTUBE', 'NO_RECEIVED', 'NO_RELAYS']);
    expect(r.headers!.every((h) => !/[\r\n]/.test(h))).toBe(true);
  });
  it('HEADERS ham: no X-Spam-Flag, X-Spam-Status: No', () => {
    const r = parseReply(fixture('headers-ham'));
    if (!r.ok) throw new Error(r.why);
    expect(r.spam).toBe(false);
    expect(r.headers).toContain('X-Spam-Level: ');
    expect(r.headers!.some((h) => h.startsWith('X-Spam-Flag'))).toBe(false);
    expect(r.headers!.find((h) => h.startsWith('X-Spam-Status:'))).toMatch(/^X-Spam-Status: No, score=-0\.0 required=5\.0 tests=NO_RECEIVED,NO_RELAYS\tautolearn/);
  });
  it('HEADERS at --timeout-child: EX_OK, partial score, TIME_LIMIT_EXCEEDED; forged X-Spam-* are gone', () => {
    const r = parseReply(fixture('headers-time-limit'));
    if (!r.ok) throw new Error(r.why);
    expect(r).toMatchObject({ spam: false, score: 2.7, threshold: 5, partial: true });
    expect(r.tests).toEqual(['MISSING_DATE', 'MSGID_SHORT', 'NO_RECEIVED', 'NO_RELAYS', 'TIME_LIMIT_EXCEEDED']);
    expect(r.headers!.some((h) => /Forged|Flag/.test(h))).toBe(false);
  });
  it('SYMBOLS GTUBE: rule names from the body (no trailing CRLF)', () => {
    expect(parseReply(fixture('symbols-gtube'))).toMatchObject({ ok: true, spam: true, tests: ['GTUBE', 'NO_RECEIVED', 'NO_RELAYS'] });
  });
  it.each([
    ['bad-command', /^spamd error 76 Bad header line: FOO SPAMC\/1\.5$/],
    ['length-mismatch', /^spamd error 76 Bad header line: \(Content-Length mismatch/],
    ['ping', /no Spam: line/],
  ])('%s is a failure', (name, why) => {
    const r = parseReply(fixture(name));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.why).toMatch(why);
  });
});

describe('parseReply edge cases', () => {
  it.each([
    ['SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1005.2 / 5.0\r\n\r\n', true, 1005.2, 5],
    ['SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1005.2 / 5.0\r\n', true, 1005.2, 5], // no final empty line
    ['SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1005.2 / 5.0', true, 1005.2, 5], // no CRLF at all
    ['SPAMD/1.1 0 EX_OK\nSpam: False ; -3.5 / 5.0\n\n', false, -3.5, 5], // bare LF
    ['SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.0 / 5.0\r\n\r\n', false, 0, 5],
    ['SPAMD/1.1 0 EX_OK\r\nSpam: Yes ; 7 / 5\r\n\r\n', true, 7, 5], // REPORT_IFSPAM style
    ['SPAMD/1.1 0 EX_OK\r\nSpam: no ; 1.25 / 6.5\r\n\r\n', false, 1.25, 6.5],
    ['SPAMD/1.1 0 EX_OK\r\nX-Future: 1\r\nSpam: True ; 15 / 5\r\n\r\n', true, 15, 5], // unknown headers ignored
    ['SPAMD/1.5 0 EX_OK\r\nspam:True;15/5\r\n\r\n', true, 15, 5],
  ])('%j', (text, spam, score, threshold) => {
    const r = parseReply(bytes(text));
    expect(r).toMatchObject({ ok: true, code: 0, spam, threshold, partial: false });
    expect(r.ok && r.score).toBeCloseTo(score, 5);
  });

  it.each([
    ['', /empty reply/],
    ['HTTP/1.1 400 Bad Request\r\n\r\n', /not a spamd reply: "HTTP\/1\.1 400 Bad Request"/],
    ['\x00\xff\xfe garbage', /not a spamd reply/],
    ['SPAMD/1.1 0 EX_OK\r\n\r\n', /no Spam: line/],
    ['SPAMD/1.1 0 EX_OK\r\nSpa', /bad header line|no Spam/],
    ['SPAMD/1.1 0 EX_OK', /no Spam: line in reply \(cut off\?\)/],
    ['SPAMD/1.1 0 EX_OK\r\nSpam: True ; 10', /bad Spam: line/],
    ['SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 1 / 5\r\n\r\n', /bad Spam: flag/],
    ['SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1,5 / 5\r\n\r\n', /bad score/],
    ['SPAMD/1.1 0 EX_OK\r\nSpam: True ; NaN / 5\r\n\r\n', /bad score/],
    ['SPAMD/1.0 76 Bad header line: (Content-Length contains non-numeric bytes)\r\n', /^spamd error 76 Bad header line/],
    ['SPAMD/1.0 79 Timeout: (30 second timeout while trying to CHECK)\r\n', /^spamd error 79 Timeout/],
    ['SPAMD/1.0 69 Service Unavailable: TELL commands are not enabled\r\n', /^spamd error 69/],
    ['SPAMD/1.1 0 EX_OK\r\nContent-length: 100\r\nSpam: True ; 15 / 5\r\n\r\nX-Spam-Flag: YES\r\n', /cut off: 18 of 100 body bytes/],
    ['SPAMD/1.1 0 EX_OK\r\nContent-length: abc\r\nSpam: True ; 15 / 5\r\n\r\n', /bad Content-length/],
  ])('%j fails', (text, why) => {
    const r = parseReply(bytes(text));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.why).toMatch(why);
    expect(!r.ok && r.why).not.toMatch(/[\r\n]/);
  });

  it('TIME_LIMIT_EXCEEDED in X-Spam-Status makes the verdict partial', () => {
    const body = 'X-Spam-Status: No, score=2.7 required=5.0 tests=NO_RELAYS,\r\n\tTIME_LIMIT_EXCEEDED autolearn=unavailable\r\nSubject: x\r\n\r\n';
    const r = parseReply(bytes(`SPAMD/1.1 0 EX_OK\r\nContent-length: ${body.length}\r\nSpam: False ; 2.7 / 5.0\r\n\r\n${body}`));
    expect(r).toMatchObject({ ok: true, partial: true, tests: ['NO_RELAYS', 'TIME_LIMIT_EXCEEDED'] });
  });
  it('the message\'s own header text cannot make a verdict partial', () => {
    const body = 'X-Spam-Status: No, score=1.0 required=5.0 tests=NONE_OF_IT\r\nSubject: TIME_LIMIT_EXCEEDED\r\n\r\n';
    const r = parseReply(bytes(`SPAMD/1.1 0 EX_OK\r\nContent-length: ${body.length}\r\nSpam: False ; 1.0 / 5.0\r\n\r\n${body}`));
    expect(r).toMatchObject({ ok: true, partial: false });
  });
});

describe('parsePong', () => {
  it.each([
    [fixture('ping'), true],
    [bytes('SPAMD/1.5 0 PONG'), true],
    [bytes('SPAMD/1.5 76 Bad header line: PING\r\n'), false],
    [bytes('PONG\0'), false],
    [bytes(''), false],
  ])('%j → %s', (buf, ok) => expect(parsePong(buf).ok).toBe(ok));
});

describe('header helpers', () => {
  it('spamHeaderFields unfolds and stops at the end of the header block', () => {
    const block = 'X-Spam-A: 1\r\n\t2\r\n 3\r\nSubject: x\r\nx-spam-b: y\r\n\r\nX-Spam-Body: no\r\n';
    expect(spamHeaderFields(block)).toEqual(['X-Spam-A: 1\t2 3', 'x-spam-b: y']);
  });
  it.each([
    ['X-Spam-Status: Yes, score=9 required=5.0 tests=A,B,\tC autolearn=no version=4.0.1', ['A', 'B', 'C']],
    ['X-Spam-Status: No, score=0.0 required=5.0 tests=none autolearn=ham', []],
    ['X-Spam-Status: No, score=0.0 required=5.0 tests=ONLY_ONE', ['ONLY_ONE']],
    ['X-Spam-Status: No, score=0.0', []],
  ])('testsOf(%j)', (status, tests) => expect(testsOf(status)).toEqual(tests));
});
