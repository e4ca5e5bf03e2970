import { describe, expect, it } from 'vitest';
import { MAX_COMMAND_LINE, parseCommand, type LmtpCommand } from '../../../src/lmtp/commands.js';

/** The reply of an ERROR command, without its CRLF: what a test compares. */
const err = (line: string): string => {
  const c = parseCommand(line);
  if (c.verb !== 'ERROR') throw new Error(`expected an error for ${JSON.stringify(line)}, got ${JSON.stringify(c)}`);
  expect(c.reply.endsWith('\r\n')).toBe(true);
  return c.reply.slice(0, -2);
};

describe('parseCommand: commands Postfix sends', () => {
  it.each<[string, string, LmtpCommand]>([
    ['RFC 2033 §4.1', 'LHLO mx.example.org', { verb: 'LHLO', domain: 'mx.example.org' }],
    ['RFC 5321 §2.4 (verbs are case-insensitive)', 'lhlo mx', { verb: 'LHLO', domain: 'mx' }],
    ['RFC 5321 §4.1.3 (address literal)', 'LHLO [127.0.0.1]', { verb: 'LHLO', domain: '[127.0.0.1]' }],
    ['RFC 5321 §4.1.1.2', 'MAIL FROM:<alice@example.org>', { verb: 'MAIL', from: 'alice@example.org', smtputf8: false }],
    ['RFC 5321 §4.1.1.2 (null reverse-path)', 'MAIL FROM:<>', { verb: 'MAIL', from: '', smtputf8: false }],
    ['RFC 1870 §3 + RFC 6152 §2', 'MAIL FROM:<a@x> SIZE=2048 BODY=8BITMIME', { verb: 'MAIL', from: 'a@x', size: 2048, body: '8BITMIME', smtputf8: false }],
    ['RFC 6152 §2 (BODY=7BIT, keyword case-insensitive)', 'mail from:<a@x> body=7bit', { verb: 'MAIL', from: 'a@x', body: '7BIT', smtputf8: false }],
    ['RFC 6531 §3.4 (SMTPUTF8)', 'MAIL FROM:<jöran@bücher.de> SMTPUTF8', { verb: 'MAIL', from: 'jöran@bücher.de', smtputf8: true }],
    ['RFC 1870 §3 (SIZE=0)', 'MAIL FROM:<> SIZE=0', { verb: 'MAIL', from: '', size: 0, smtputf8: false }],
    ['RFC 5321 §4.1.1.3', 'RCPT TO:<bob@example.org>', { verb: 'RCPT', to: 'bob@example.org' }],
    ['RFC 6531 §3.3 (UTF-8 local part and domain)', 'RCPT TO:<用户@例子.广告>', { verb: 'RCPT', to: '用户@例子.广告' }],
    ['RFC 6531 §3.3 (astral character in a quoted local part)', 'RCPT TO:<"😀 x"@y>', { verb: 'RCPT', to: '"😀 x"@y' }],
    ['RFC 5321 §4.1.2 (quoted local part kept quoted when it must be)', 'RCPT TO:<"a b"@x>', { verb: 'RCPT', to: '"a b"@x' }],
    ['RFC 5321 §4.1.2 (a ">" inside quotes is not the end of the path)', 'RCPT TO:<"a>b"@x>', { verb: 'RCPT', to: '"a>b"@x' }],
    ['RFC 5321 §4.1.2 (quoted-pair, re-escaped minimally)', 'RCPT TO:<"a\\"b\\c"@x>', { verb: 'RCPT', to: '"a\\"bc"@x' }],
    ['RFC 5321 §4.1.2 (a needlessly quoted Dot-string is unquoted)', 'RCPT TO:<"joe.user"@x>', { verb: 'RCPT', to: 'joe.user@x' }],
    ['RFC 5321 §4.1.2 (source route accepted and stripped)', 'RCPT TO:<@a.example,@b.example:u@d.example>', { verb: 'RCPT', to: 'u@d.example' }],
    ['RFC 5321 §4.1.2 (source route on MAIL)', 'MAIL FROM:<@relay:s@x>', { verb: 'MAIL', from: 's@x', smtputf8: false }],
    ['RFC 5321 §4.1.1.3 (<Postmaster> without a domain)', 'RCPT TO:<Postmaster>', { verb: 'RCPT', to: 'Postmaster' }],
    ['RFC 5321 §4.1.3 (address literal domain)', 'RCPT TO:<u@[IPv6:::1]>', { verb: 'RCPT', to: 'u@[IPv6:::1]' }],
    ['RFC 5321 §4.1.2 (lenient: consecutive dots, as some carriers issue)', 'RCPT TO:<john..doe.@x>', { verb: 'RCPT', to: 'john..doe.@x' }],
    ['RFC 5321 §4.1.2 (lenient: space after the colon)', 'MAIL FROM: <a@x>', { verb: 'MAIL', from: 'a@x', smtputf8: false }],
    ['RFC 5321 §4.1.2 (lenient: no angle brackets)', 'RCPT TO:bob@x', { verb: 'RCPT', to: 'bob@x' }],
    ['RFC 5321 §4.1.2 (lenient: underscore in a host name)', 'RCPT TO:<a@my_host.example>', { verb: 'RCPT', to: 'a@my_host.example' }],
    ['RFC 5321 §4.1.1.4', 'DATA', { verb: 'DATA' }],
    ['RFC 5321 §4.1.1.5', 'rset', { verb: 'RSET' }],
    ['RFC 5321 §4.1.1.9 (NOOP ignores its argument)', 'NOOP hello there', { verb: 'NOOP' }],
    ['RFC 5321 §4.1.1.10', 'QUIT', { verb: 'QUIT' }],
    ['RFC 5321 §4.1.1.6 (bare local part)', 'VRFY bob', { verb: 'VRFY', arg: 'bob' }],
    ['RFC 5321 §4.1.1.6 (a whole argument)', 'VRFY Bob Smith <bob@x>', { verb: 'VRFY', arg: 'Bob Smith <bob@x>' }],
    ['RFC 2033 §4.1 (HELO is not LMTP)', 'HELO x', { verb: 'HELO' }],
    ['RFC 2033 §4.1 (EHLO is not LMTP)', 'ehlo x', { verb: 'EHLO' }],
    ['trailing white space is ignored', 'QUIT  \t', { verb: 'QUIT' }],
  ])('%s: %j', (_rfc, line, want) => {
    expect(parseCommand(line)).toEqual(want);
  });
});

describe('parseCommand: errors carry the RFC 5321 code and RFC 3463 enhanced code', () => {
  it.each<[string, string, string]>([
    ['RFC 5321 §4.2.4: unknown command', 'FOO bar', '500 5.5.1 '],
    ['RFC 5321 §4.2.4: empty line', '', '500 5.5.1 '],
    ['RFC 5321 §4.2.4: known but not implemented', 'EXPN list', '502 5.5.1 '],
    ['RFC 5321 §4.2.4: BDAT not offered (no CHUNKING)', 'BDAT 10 LAST', '502 5.5.1 '],
    ['RFC 5321 §4.5.3.1.4: command line too long', 'NOOP ' + 'x'.repeat(MAX_COMMAND_LINE), '500 5.5.2 '],
    ['RFC 5321 §4.1.1.1: LHLO needs a domain', 'LHLO', '501 5.5.4 '],
    ['RFC 5321 §4.1.1.2: MAIL without FROM:', 'MAIL <a@x>', '501 5.5.2 '],
    ['RFC 5321 §4.1.1.2: MAIL with no path', 'MAIL FROM:', '501 5.1.7 '],
    ['RFC 3463 5.1.7: unbalanced <', 'MAIL FROM:<a@x', '501 5.5.2 '],
    ['RFC 3463 5.1.7: bad domain', 'MAIL FROM:<a@-x.example>', '501 5.1.7 '],
    ['RFC 3463 5.1.7: space in an unquoted local part', 'MAIL FROM:<a b@x>', '501 5.1.7 '],
    ['RFC 3463 5.1.7: control character', 'MAIL FROM:<a\x01b@x>', '501 5.1.7 '],
    ['RFC 3463 5.1.7: invalid UTF-8 (decoded as U+FFFD)', 'MAIL FROM:<a\ufffdb@x>', '501 5.1.7 '],
    ['RFC 3463 5.1.7: unterminated quoted local part', 'MAIL FROM:<"ab@x>', '501 5.5.2 '],
    ['RFC 3463 5.1.7: empty domain', 'MAIL FROM:<a@>', '501 5.1.7 '],
    ['RFC 3463 5.1.7: two @', 'MAIL FROM:<a@b@c>', '501 5.1.7 '],
    ['RFC 5321 §4.1.2: no space between path and parameter', 'MAIL FROM:<a@x>SIZE=1', '501 5.5.2 '],
    ['RFC 3463 5.1.3: null recipient', 'RCPT TO:<>', '501 5.1.3 '],
    ['RFC 3463 5.1.3: bad recipient syntax', 'RCPT TO:<a(b)@x>', '501 5.1.3 '],
    ['RFC 3463 5.1.3: bad source route', 'RCPT TO:<@,@:u@x>', '501 5.1.3 '],
    ['RFC 5321 §4.1.1.3: RCPT without TO:', 'RCPT <bob@x>', '501 5.5.2 '],
    ['RFC 5321 §4.1.1.11: unknown MAIL parameter', 'MAIL FROM:<a@x> RET=FULL', '555 5.5.4 '],
    ['RFC 5321 §4.1.1.11: unknown RCPT parameter (no DSN offered)', 'RCPT TO:<a@x> NOTIFY=NEVER', '555 5.5.4 '],
    ['RFC 1870 §3: SIZE not a number', 'MAIL FROM:<a@x> SIZE=12k', '501 5.5.4 '],
    ['RFC 1870 §3: SIZE without a value', 'MAIL FROM:<a@x> SIZE', '501 5.5.4 '],
    ['RFC 1870 §3: SIZE over 2^53', 'MAIL FROM:<a@x> SIZE=99999999999999999999', '501 5.5.4 '],
    ['RFC 6152 §2: BODY=BINARYMIME needs CHUNKING', 'MAIL FROM:<a@x> BODY=BINARYMIME', '501 5.5.4 '],
    ['RFC 6531 §3.4: SMTPUTF8 takes no value', 'MAIL FROM:<a@x> SMTPUTF8=yes', '501 5.5.4 '],
    ['RFC 5321 §4.1.2: a duplicate parameter', 'MAIL FROM:<a@x> SIZE=1 SIZE=2', '501 5.5.4 '],
    ['RFC 5321 §4.1.1.4: DATA takes no argument', 'DATA now', '501 5.5.4 '],
    ['RFC 5321 §4.1.1.5: RSET takes no argument', 'RSET x', '501 5.5.4 '],
    ['RFC 5321 §4.1.1.6: VRFY needs an argument', 'VRFY', '501 5.5.4 '],
  ])('%s: %j', (_rfc, line, prefix) => {
    expect(err(line).startsWith(prefix)).toBe(true);
  });

  it('RFC 5321 §4.5.3.1.4: a line of exactly the limit is parsed, not refused', () => {
    const line = 'NOOP ' + 'x'.repeat(MAX_COMMAND_LINE - 5);
    expect(parseCommand(line)).toEqual({ verb: 'NOOP' });
  });
});
