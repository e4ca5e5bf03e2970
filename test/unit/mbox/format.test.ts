import { describe, expect, it } from 'vitest';
import { asctime, FromQuoter, fromLine, mboxEntry, quoteLocal } from '../../../src/mbox/format.js';

// Local time, as asctime(localtime()) in Postfix: built from local fields so the test holds in any TZ.
const DATE = new Date(2026, 11, 8, 1, 2, 3); // Tue Dec  8 01:02:03 2026

describe('asctime', () => {
  it.each([
    [new Date(2026, 11, 8, 1, 2, 3), 'Tue Dec  8 01:02:03 2026'],
    [new Date(2024, 1, 29, 23, 59, 59), 'Thu Feb 29 23:59:59 2024'],
    [new Date(2000, 0, 10, 0, 0, 0), 'Mon Jan 10 00:00:00 2000'],
  ])('%s → %s', (d, want) => expect(asctime(d)).toBe(want));
});

describe('fromLine', () => {
  it.each([
    ['alice@example.org', 'From alice@example.org  Tue Dec  8 01:02:03 2026\n'],
    ['', 'From MAILER-DAEMON  Tue Dec  8 01:02:03 2026\n'],
    ['john doe@example.org', 'From "john doe"@example.org  Tue Dec  8 01:02:03 2026\n'],
    ['a\nFrom x@y', 'From "a_From x"@y  Tue Dec  8 01:02:03 2026\n'],
  ])('sender %j', (sender, want) => expect(fromLine(sender, DATE).toString('latin1')).toBe(want));
});

describe('quoteLocal', () => {
  it.each([
    ['a.b@c', 'a.b@c'],
    ['.a@c', '".a"@c'],
    ['a"b@c', '"a\\"b"@c'],
    ['postmaster', 'postmaster'],
  ])('%s', (a, want) => expect(quoteLocal(a)).toBe(want));
});

const HEAD = 'From alice@example.org  Tue Dec  8 01:02:03 2026\n';

describe('mboxEntry: the message between the From_ line and the empty line', () => {
  it.each([
    ['plain', 'Subject: x\n\nhello\n', 'Subject: x\n\nhello\n\n'],
    ['From_ line in the body', 'Subject: x\n\nFrom me\nhi\n', 'Subject: x\n\n>From me\nhi\n\n'],
    ['From at the very start of the message', 'From here\nx\n', '>From here\nx\n\n'],
    ['>From untouched (mboxo)', 'S: x\n\n>From a\n>>From b\n', 'S: x\n\n>From a\n>>From b\n\n'],
    ['From without a space is not a separator', 'S: x\n\nFrom:me\nFromage\n', 'S: x\n\nFrom:me\nFromage\n\n'],
    ['From not at a line start', 'S: x\n\nsee From here\n', 'S: x\n\nsee From here\n\n'],
    ['CRLF kept byte for byte, From quoted', 'S: x\r\n\r\nFrom y\r\nz\r\n', 'S: x\r\n\r\n>From y\r\nz\r\n\n'],
    // Postfix mail_copy.c: a last line without its end gets one, then the empty line
    ['no final newline', 'S: x\n\nlast', 'S: x\n\nlast\n\n'],
    ['no final newline after a From', 'S: x\n\nFrom', 'S: x\n\nFrom\n\n'],
    ['empty body line at end kept', 'S: x\n\nb\n\n', 'S: x\n\nb\n\n\n'],
  ])('%s', (_name, msg, body) => {
    expect(mboxEntry('alice@example.org', DATE, Buffer.from(msg)).toString('latin1')).toBe(HEAD + body);
  });

  it('gives the same bytes for every way of cutting the message into chunks', () => {
    const msg = Buffer.from('S: x\n\nFrom a\nFro\nFrom\nFrom b\n>From c\nx From d\nFrom ');
    const whole = mboxEntry('alice@example.org', DATE, msg);
    for (let cut = 0; cut <= msg.length; cut++) {
      for (let cut2 = cut; cut2 <= msg.length; cut2 += 3) {
        const q = new FromQuoter();
        const out = Buffer.concat([fromLine('alice@example.org', DATE), q.feed(msg.subarray(0, cut)), q.feed(msg.subarray(cut, cut2)), q.feed(msg.subarray(cut2)), q.end()]);
        expect(out.toString('latin1'), `cut at ${cut},${cut2}`).toBe(whole.toString('latin1'));
      }
    }
    expect(whole.toString('latin1')).toBe(HEAD + 'S: x\n\n>From a\nFro\nFrom\n>From b\n>From c\nx From d\n>From \n\n');
  });

  it('one byte at a time', () => {
    const msg = Buffer.from('From a\nFrom b\nc');
    const q = new FromQuoter();
    const parts = [...msg].map((b) => q.feed(Buffer.from([b])));
    expect(Buffer.concat([...parts, q.end()]).toString()).toBe('>From a\n>From b\nc\n\n');
  });
});
