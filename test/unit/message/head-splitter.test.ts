import { describe, expect, it } from 'vitest';
import { HeadSplitter, MAX_HEAD_KEPT, findBlankLine } from '../../../src/message/head-splitter.js';

/** Feed input in pieces cut at the given offsets; return stored bytes and head. */
function run(input: Buffer, cuts: number[]) {
  const s = new HeadSplitter();
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    out.push(s.feed(input.subarray(prev, c)));
    prev = c;
  }
  out.push(s.end());
  return { stored: Buffer.concat(out), head: s.head() };
}

const FROM = 'From alice@example.org  Sat Nov 21 23:21:04 2026\n';
const cases: Array<[string, string, string, string | undefined, string]> = [
  // name, input, expected stored, expected fromLine, expected header
  ['postfix LF', FROM + 'Subject: a\n\nbody\n', 'Subject: a\n\nbody\n', FROM.slice(0, -1), 'Subject: a\n'],
  ['CRLF', 'Subject: a\r\nX: y\r\n\r\nbody\r\n', 'Subject: a\r\nX: y\r\n\r\nbody\r\n', undefined, 'Subject: a\r\nX: y\r\n'],
  ['From_ then CRLF', FROM + 'A: 1\r\n\r\nb', 'A: 1\r\n\r\nb', FROM.slice(0, -1), 'A: 1\r\n'],
  ['no final newline', 'A: 1\n\nno newline', 'A: 1\n\nno newline', undefined, 'A: 1\n'],
  ['no blank line', 'A: 1\nB: 2', 'A: 1\nB: 2', undefined, 'A: 1\nB: 2'],
  ['starts with blank line', '\nbody only\n', '\nbody only\n', undefined, ''],
  ['only a From_ line', FROM, '', FROM.slice(0, -1), ''],
  ['From_ without newline is content', 'From x', 'From x', undefined, 'From x'],
  ['"From" not followed by space', 'From:x@y\n\nb', 'From:x@y\n\nb', undefined, 'From:x@y\n'],
  ['second From line stays', 'A: 1\n\nFrom me\n', 'A: 1\n\nFrom me\n', undefined, 'A: 1\n'],
  ['NUL and 8-bit', 'A: \xff\x00\n\n\x00\xfe', 'A: \xff\x00\n\n\x00\xfe', undefined, 'A: \xff\x00\n'],
  ['bare CR', 'A: 1\r\rB\n\nx', 'A: 1\r\rB\n\nx', undefined, 'A: 1\r\rB\n'],
  ['empty', '', '', undefined, ''],
];

describe('HeadSplitter', () => {
  it.each(cases)('%s: byte-exact at every chunk boundary', (_n, input, stored, fromLine, header) => {
    const buf = Buffer.from(input, 'latin1');
    for (let cut = 0; cut <= buf.length; cut++) {
      for (const cuts of [[cut], [cut, Math.min(buf.length, cut + 1)], [cut, Math.min(buf.length, cut + 2)]]) {
        const r = run(buf, cuts);
        expect(r.stored.toString('latin1'), `cuts ${cuts}`).toBe(stored);
        expect(r.head.fromLine, `cuts ${cuts}`).toBe(fromLine);
        expect(r.head.header.toString('latin1'), `cuts ${cuts}`).toBe(header);
      }
    }
  });

  it('caps the kept header but stores everything', () => {
    const big = 'X-Big: ' + 'a'.repeat(MAX_HEAD_KEPT * 2) + '\n\nbody';
    const r = run(Buffer.from(big), [1000, 70000, 300000]);
    expect(r.stored.toString()).toBe(big);
    expect(r.head.header.length).toBe(MAX_HEAD_KEPT);
    expect(r.head.truncated).toBe(true);
  });

  it('gives up waiting for a From_ line end after 64 KiB and stores it as content', () => {
    const long = 'From ' + 'x'.repeat(70 * 1024);
    const r = run(Buffer.from(long), [10, 65 * 1024]);
    expect(r.stored.toString()).toBe(long);
    expect(r.head.fromLine).toBeUndefined();
  });
});

describe('findBlankLine', () => {
  it.each([
    ['A\n\nb', false, 2],
    ['A\r\n\r\nb', false, 3],
    ['\nb', true, 0],
    ['\r\nb', true, 0],
    ['\nb', false, -1],
    ['A\nB\n', false, -1],
    ['A\n\r', false, -1],
  ])('%j atStart=%s → %i', (s, atStart, want) => expect(findBlankLine(Buffer.from(s), atStart)).toBe(want));
});
