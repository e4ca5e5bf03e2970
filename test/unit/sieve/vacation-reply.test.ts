import { describe, expect, it } from 'vitest';
import type { VacationReply } from '../../../src/sieve/plan.js';
import { buildVacationReply, encodeWord, mailbox, oneLine, rfc5322Date } from '../../../src/sieve/vacation-reply.js';

const NOW = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
const CTX = { now: NOW, messageId: '<1704164645.abc@mx.example.test>' };

function reply(over: Partial<VacationReply> = {}): VacationReply {
  return {
    to: 'alice@example.org', from: 'bob@example.test', subject: 'Auto: Hello', reason: 'I am away.\nBack on Monday.',
    mime: false, handle: 'h', periodSeconds: 604800, inReplyTo: '<m1@example.org>', references: '<m0@example.org>', ...over,
  };
}

const headerOf = (b: Buffer) => b.toString('utf8').split('\r\n\r\n')[0]!.split('\r\n');

describe('buildVacationReply', () => {
  it('sends the RFC 3834 / Pigeonhole header and a CRLF text body', () => {
    const text = buildVacationReply(reply(), CTX).toString('utf8');
    expect(text).toBe([
      'Message-ID: <1704164645.abc@mx.example.test>',
      'Date: Tue, 02 Jan 2024 03:04:05 +0000',
      'From: <bob@example.test>',
      'To: <alice@example.org>',
      'Subject: Auto: Hello',
      'In-Reply-To: <m1@example.org>',
      'References: <m0@example.org> <m1@example.org>',
      'Auto-Submitted: auto-replied (vacation)',
      'Precedence: bulk',
      'X-Auto-Response-Suppress: All',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'I am away.',
      'Back on Monday.',
      '',
    ].join('\r\n'));
  });

  it('without an original Message-ID: no In-Reply-To, References kept', () => {
    const h = headerOf(buildVacationReply(reply({ inReplyTo: undefined }), CTX));
    expect(h.some((l) => l.startsWith('In-Reply-To'))).toBe(false);
    expect(h).toContain('References: <m0@example.org>');
    const none = headerOf(buildVacationReply(reply({ inReplyTo: undefined, references: undefined }), CTX));
    expect(none.some((l) => l.startsWith('References'))).toBe(false);
  });

  it('a hostile subject or message-id cannot add header lines', () => {
    const text = buildVacationReply(reply({ subject: 'Hi\r\nBcc: victim@x', inReplyTo: '<a@b>\r\nBcc: v@x', from: 'me@x\r\nBcc: v@x' }), CTX).toString();
    const h = headerOf(Buffer.from(text));
    expect(h.filter((l) => /^bcc:/i.test(l))).toEqual([]);
    expect(h).toContain('Subject: Hi Bcc: victim@x');
    expect(h).toContain('In-Reply-To: <a@b>');
  });

  it('encodes a non-ASCII subject (RFC 2047) and a :from with a display name', () => {
    const h = headerOf(buildVacationReply(reply({ subject: 'Auto: Grüße', from: 'Jörg Bob <bob@example.test>' }), CTX));
    expect(h).toContain(`Subject: =?UTF-8?B?${Buffer.from('Auto: Grüße').toString('base64')}?=`);
    expect(h).toContain(`From: =?UTF-8?B?${Buffer.from('Jörg Bob').toString('base64')}?= <bob@example.test>`);
  });

  it(':mime sends the reason as the MIME entity', () => {
    const text = buildVacationReply(reply({ mime: true, reason: 'Content-Type: text/html\n\n<p>away</p>' }), CTX).toString();
    expect(text).toContain('MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n<p>away</p>\r\n');
    expect(text).not.toContain('charset=utf-8');
  });
});

describe('header helpers', () => {
  it('rfc5322Date pads every field', () => expect(rfc5322Date(new Date(Date.UTC(2030, 11, 31, 23, 59, 9)))).toBe('Tue, 31 Dec 2030 23:59:09 +0000'));
  it.each([
    ['a\r\nb', 'a b'], ['a\tb', 'a b'], ['  x  ', 'x'], ['a\x00\x7fb', 'a b'],
  ])('oneLine(%j) = %j', (i, o) => expect(oneLine(i)).toBe(o));
  it('encodeWord keeps ASCII and splits long UTF-8 into ≤75-char words on character boundaries', () => {
    expect(encodeWord('plain')).toBe('plain');
    const long = 'ü'.repeat(100);
    const words = encodeWord(long).split('\r\n ');
    expect(words.length).toBeGreaterThan(1);
    for (const w of words) expect(w.length).toBeLessThanOrEqual(75);
    const decoded = words.map((w) => Buffer.from(w.slice(10, -2), 'base64').toString('utf8')).join('');
    expect(decoded).toBe(long);
  });
  it.each([
    ['bob@x', '<bob@x>'], ['<bob@x>', '<bob@x>'], ['Bob <bob@x>', '"Bob" <bob@x>'], ['"B \\"o" <bob@x>', '"B \\\\\\"o" <bob@x>'],
  ])('mailbox(%j) = %j', (i, o) => expect(mailbox(i)).toBe(o));
});
