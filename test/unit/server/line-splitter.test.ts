import { describe, expect, it } from 'vitest';
import { LineSplitter, type Piece } from '../../../src/server/line-splitter.js';

/** Feeds chunks and collects every piece as text ('!' for too-long). */
function split(max: number, chunks: string[]): string[] {
  const s = new LineSplitter(max);
  const out: string[] = [];
  for (const c of chunks) {
    s.push(Buffer.from(c, 'latin1'));
    for (let p: Piece | undefined; (p = s.next()); ) out.push(p.kind === 'line' ? p.line.toString('latin1') : '!');
  }
  return out;
}

describe('LineSplitter', () => {
  it.each<[string, number, string[], string[]]>([
    ['RFC 5321 §2.3.8: CRLF ends a line', 100, ['LHLO x\r\nNOOP\r\n'], ['LHLO x', 'NOOP']],
    ['a bare LF ends a line too (policy protocol, lenient LMTP)', 100, ['a\nb\n'], ['a', 'b']],
    ['an empty line (end of a policy request)', 100, ['request=smtpd_access_policy\n\n'], ['request=smtpd_access_policy', '']],
    ['a line split over chunks', 100, ['MA', 'IL FROM:<a@b>\r', '\n'], ['MAIL FROM:<a@b>']],
    ['a CR inside a line is kept', 100, ['a\rb\r\n'], ['a\rb']],
    ['no line end yet: nothing', 100, ['QUIT'], []],
    ['RFC 5321 §4.5.3.1.4: exactly max octets with CRLF is fine', 10, ['12345678\r\n'], ['12345678']],
    ['RFC 5321 §4.5.3.1.4: one octet over is too long', 10, ['123456789\r\n', 'ok\r\n'], ['!', 'ok']],
    ['a long line over many chunks is reported once, at its end', 10, ['1234567', '89012345', '678901234', '56\r\nNOOP\r\n'], ['!', 'NOOP']],
    ['a too-long line between good ones', 8, ['a\r\n', 'x'.repeat(50) + '\r\nb\r\n'], ['a', '!', 'b']],
  ])('%s', (_name, max, chunks, lines) => {
    expect(split(max, chunks)).toEqual(lines);
  });

  it('memory stays bounded while an endless line arrives', () => {
    const s = new LineSplitter(64);
    for (let i = 0; i < 1000; i++) {
      s.push(Buffer.alloc(1000, 0x41));
      expect(s.next()).toBeUndefined();
      expect(s.buffered).toBeLessThanOrEqual(64 + 1000);
    }
    s.push(Buffer.from('\r\nNOOP\r\n'));
    expect(s.next()).toEqual({ kind: 'too-long' });
    expect(s.next()).toEqual({ kind: 'line', line: Buffer.from('NOOP') });
  });

  it('raw mode: takeAll hands over what follows a line, unshift gives the rest back', () => {
    const s = new LineSplitter(100);
    s.push(Buffer.from('DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n'));
    expect(s.next()).toEqual({ kind: 'line', line: Buffer.from('DATA') });
    const raw = s.takeAll();
    expect(raw.toString()).toBe('Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n');
    expect(s.buffered).toBe(0);
    const end = raw.indexOf('\r\n.\r\n') + 5;
    s.unshift(raw.subarray(end));
    expect(s.next()).toEqual({ kind: 'line', line: Buffer.from('QUIT') });
    expect(s.next()).toBeUndefined();
  });
});
