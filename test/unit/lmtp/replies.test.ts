import { describe, expect, it } from 'vitest';
import { BYE, IDLE_TIMEOUT, MAX_REPLY_LINE, SHUTTING_DOWN, greeting, lhloReply, multiline, reply } from '../../../src/lmtp/replies.js';

describe('replies: formatting (RFC 5321 §4.2, RFC 2034 §3)', () => {
  it.each<[string, string, string]>([
    ['RFC 2034 §3: enhanced code after the reply code', reply(250, '2.1.0', 'Ok'), '250 2.1.0 Ok\r\n'],
    ['RFC 5321 §4.2: a reply without enhanced code', reply(354, '', 'go ahead'), '354 go ahead\r\n'],
    ['RFC 5321 §4.2.1: multi-line replies use "-" on all but the last line', multiline(250, ['a', 'b', 'c']), '250-a\r\n250-b\r\n250 c\r\n'],
    ['RFC 5321 §4.2.1: a one-line multiline is a plain reply', multiline(250, ['only']), '250 only\r\n'],
    ['RFC 5321 §4.2: greeting', greeting('mx.example.org'), '220 mx.example.org LMTP ready\r\n'],
    ['RFC 5321 §4.2: a host name with spaces or controls is one token', greeting('bad host\r\n'), '220 badhost LMTP ready\r\n'],
    ['RFC 5321 §4.1.1.10: QUIT', BYE, '221 2.0.0 Bye\r\n'],
    ['RFC 5321 §3.8 + RFC 3463 4.3.2: shutdown', SHUTTING_DOWN, '421 4.3.2 Service shutting down\r\n'],
    ['RFC 5321 §4.5.3.2 + RFC 3463 4.4.2: idle timeout', IDLE_TIMEOUT, '421 4.4.2 Idle timeout\r\n'],
    [
      'RFC 2033 §4.1 + RFC 1870 §4: LHLO advertises exactly the extensions mda implements',
      lhloReply('mx', 10_240_000),
      '250-mx\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10240000\r\n',
    ],
    ['RFC 1870 §4: SIZE 0 when there is no fixed maximum', lhloReply('mx', 0).split('\r\n').at(-2)!, '250 SIZE 0'],
  ])('%s', (_n, got, want) => {
    expect(got).toBe(want);
  });

  it('no reply text can carry a CR or LF (reply injection)', () => {
    expect(reply(550, '5.1.1', 'a\r\n250 2.0.0 fake\nb')).toBe('550 5.1.1 a 250 2.0.0 fake b\r\n');
    expect(multiline(250, ['x\r\n250 y', 'z'])).toBe('250-x 250 y\r\n250 z\r\n');
  });

  it('RFC 5321 §4.5.3.1.5: a reply line is cut to 512 octets with CRLF, on a UTF-8 character boundary', () => {
    const r = reply(451, '4.3.0', 'ü'.repeat(600));
    expect(Buffer.byteLength(r)).toBeLessThanOrEqual(MAX_REPLY_LINE);
    expect(r).toMatch(/^451 4\.3\.0 ü+\.\.\.\r\n$/);
    expect(Buffer.from(r).toString('utf8')).not.toContain('\ufffd');
  });
});
