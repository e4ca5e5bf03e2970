import { describe, expect, it } from 'vitest';
import { checkRedirectAddress, isRedirectLoop, leadingReturnPathLength, redirectedFromField, sendmailArgv } from '../../../src/sieve/redirect-rules.js';

describe('checkRedirectAddress', () => {
  it.each([
    ['bob@example.org', 'bob@example.org'],
    [' <bob@example.org> ', 'bob@example.org'],
    ['bob+tag@sub.example.org', 'bob+tag@sub.example.org'],
  ])('accepts %j', (raw, want) => expect(checkRedirectAddress(raw)).toEqual({ ok: true, address: want }));

  it.each([
    ['', /empty/],
    ['bob', /with a domain/],
    ['bob@', /with a domain/],
    ['@example.org', /with a domain/],
    ['a@b.c, evil@x.y', /single plain address/],
    ['Bob <bob@example.org>', /single plain address/],
    ['bob@example.org\nBcc: x@y', /single plain address/],
    ['-oQ/tmp@example.org', /not a valid address/],
    ['a..b@example.org', /not a valid address/],
    ['bob@exa_mple.org', /not a valid domain/],
    ['bob@[192.0.2.1]', /single plain address/],
    ['bob@-example.org', /not a valid domain/],
    ['x'.repeat(250) + '@e.org', /254/],
  ])('refuses %j', (raw, why) => {
    const r = checkRedirectAddress(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.why).toMatch(why);
  });
});

describe('sendmail argv, loop field', () => {
  it('keeps the sender, writes the null sender as <>, ends options with --', () => {
    expect(sendmailArgv('/usr/sbin/sendmail', 'alice@example.org', 'carol@example.net')).toEqual(['/usr/sbin/sendmail', '-i', '-f', 'alice@example.org', '--', 'carol@example.net']);
    expect(sendmailArgv('/usr/sbin/sendmail', '', 'carol@example.net')).toEqual(['/usr/sbin/sendmail', '-i', '-f', '<>', '--', 'carol@example.net']);
  });

  it('redirectedFromField uses the message line end', () => {
    expect(redirectedFromField('bob@example.test', '\r\n').toString()).toBe('X-Sieve-Redirected-From: <bob@example.test>\r\n');
    expect(redirectedFromField('bob@example.test', '\n').toString()).toBe('X-Sieve-Redirected-From: <bob@example.test>\n');
  });

  it.each<[string[], string, boolean]>([
    [[], 'bob@example.test', false],
    [['<bob@example.test>'], 'bob@example.test', true],
    [['<BOB@example.test>'], 'bob@Example.TEST', true],
    [['<carol@example.net>'], 'bob@example.test', false],
    [['<carol@example.net>', ' <bob@example.test> '], 'bob@example.test', true],
    [['<>'], '', false],
  ])('isRedirectLoop(%j, %s) = %s', (values, rcpt, want) => expect(isRedirectLoop(values, rcpt)).toBe(want));
});

describe('leadingReturnPathLength', () => {
  it.each<[string, number]>([
    ['Return-Path: <a@b>\nFrom: x\n', 19],
    ['Return-Path: <a@b>\r\nReturn-Path: <c@d>\r\nFrom: x\r\n', 40],
    ['return-path:\n <a@b>\nFrom: x\n', 20],
    ['From: x\nReturn-Path: <a@b>\n', 0],
    ['Return-Path: <a@b>', 0],
  ])('%j → %d', (head, n) => expect(leadingReturnPathLength(Buffer.from(head))).toBe(n));
});
