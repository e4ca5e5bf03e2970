/**
 * DataDecoder against a whole-input model, under every chunking fast-check
 * finds. Replay a failure with MDA_FC_SEED=<seed>.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataDecoder } from '../../../src/lmtp/data-decoder.js';

const seed = process.env.MDA_FC_SEED ? Number(process.env.MDA_FC_SEED) : undefined;

/** The model: whole input at once, line by line, the plain reading of RFC 5321 §4.5.2. */
function model(input: Buffer): { out: Buffer; done: boolean; rest: Buffer } {
  const s = input.toString('latin1');
  let out = '';
  let pos = 0;
  while (pos < s.length) {
    const lf = s.indexOf('\n', pos);
    if (lf < 0) break; // an unfinished line: decoded only once its end is known
    let line = s.slice(pos, lf + 1);
    pos = lf + 1;
    if (line === '.\n' || line === '.\r\n') return { out: Buffer.from(out, 'latin1'), done: true, rest: Buffer.from(s.slice(pos), 'latin1') };
    if (line.startsWith('.')) line = line.slice(1);
    if (line.endsWith('\r\n')) line = line.slice(0, -2) + '\n';
    out += line;
  }
  // the unfinished tail: whatever cannot still turn into a terminator or a CRLF
  let tail = s.slice(pos);
  if (tail === '.' || tail === '.\r') tail = '';
  else {
    if (tail.startsWith('.')) tail = tail.slice(1);
    if (tail.endsWith('\r')) tail = tail.slice(0, -1);
  }
  return { out: Buffer.from(out + tail, 'latin1'), done: false, rest: Buffer.alloc(0) };
}

function run(chunks: Buffer[], maxSize = 0, maxLineLength?: number) {
  const d = new DataDecoder({ maxSize, maxLineLength });
  const out: Buffer[] = [];
  const rest: Buffer[] = [];
  let done = false;
  for (const c of chunks) {
    const r = d.push(c);
    out.push(...r.out);
    if (r.done) {
      done = true;
      rest.push(r.rest);
    }
  }
  return { out: Buffer.concat(out), done, rest: Buffer.concat(rest), d };
}

/** Split a buffer at the given cut points. */
function cut(input: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (input.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    chunks.push(input.subarray(prev, p));
    prev = p;
  }
  chunks.push(input.subarray(prev));
  return chunks;
}

const TOKENS = ['\r\n', '\n', '\r', '.', '..', '.\r\n', '\r\n.\r\n', '\n.\n', '\r\n..\r\n', 'a', 'xyz', ' ', 'é', '\0', 'MAIL FROM:<>\r\n'];
const mailish = fc.array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 5 })), { maxLength: 40 }).map((a) => Buffer.from(a.join(''), 'latin1'));

describe('DataDecoder: decoding (RFC 5321 §4.5.2)', () => {
  it.each<[string, string, string, boolean, string]>([
    ['RFC 5321 §4.1.1.4: ends at CRLF.CRLF, CRLF → LF', 'a\r\nb\r\n.\r\n', 'a\nb\n', true, ''],
    ['RFC 5321 §4.5.2: a leading dot is removed', '..x\r\n.\r\n', '.x\n', true, ''],
    ['RFC 5321 §4.5.2: only the first dot is removed', '...\r\n.\r\n', '..\n', true, ''],
    ['RFC 5321 §4.5.2: a dot inside a line stays', 'a.b\r\n.\r\n', 'a.b\n', true, ''],
    ['RFC 5321 §4.1.1.4: "." on the very first line ends an empty message', '.\r\n', '', true, ''],
    ['lenient: bare LF line ends, \\n.\\n ends', 'a\nb\n.\n', 'a\nb\n', true, ''],
    ['lenient: mixed line ends', 'a\r\nb\n.\r\n', 'a\nb\n', true, ''],
    ['a bare CR is kept', 'a\rb\r\n.\r\n', 'a\rb\n', true, ''],
    ['CRCRLF: the first CR is bare', 'a\r\r\n.\r\n', 'a\r\n', true, ''],
    ['".\\r" then not LF: the dot is stuffing, the CR bare', '.\rx\r\n.\r\n', '\rx\n', true, ''],
    ['". " is not the terminator', '. \r\n.\r\n', ' \n', true, ''],
    ['RFC 2920 §3.1 (PIPELINING): bytes after the dot are the next commands', 'x\r\n.\r\nRSET\r\nQUIT\r\n', 'x\n', true, 'RSET\r\nQUIT\r\n'],
    ['no terminator yet: not done, the final CR held back', 'a\r\nb\r', 'a\nb', false, ''],
    ['CRLF.CR at the end: not done yet', 'a\r\n.\r', 'a\n', false, ''],
    ['a message without a final line end before the dot is impossible: "a.\\r\\n" is text', 'a.\r\n', 'a.\n', false, ''],
  ])('%s', (_n, input, out, done, rest) => {
    const r = run([Buffer.from(input, 'latin1')]);
    expect(r.out.toString('latin1')).toBe(out);
    expect(r.done).toBe(done);
    expect(r.rest.toString('latin1')).toBe(rest);
  });

  it('RFC 5321 §4.5.2: any chunking of any input gives the same output, end and rest as the whole-input model', () => {
    fc.assert(
      fc.property(mailish, fc.array(fc.nat(), { maxLength: 12 }), (input, points) => {
        const want = model(input);
        const whole = run([input]);
        const pieces = run(cut(input, points));
        const bytes = run([...input].map((b) => Buffer.from([b])));
        for (const got of [whole, pieces, bytes]) {
          expect(got.out.equals(want.out)).toBe(true);
          expect(got.done).toBe(want.done);
          expect(got.rest.equals(want.rest)).toBe(true);
          expect(got.d.size).toBe(want.out.length);
        }
      }),
      { seed, numRuns: 2000 },
    );
  });

  it('RFC 5321 §4.1.1.4: the terminator split at every byte boundary is still found', () => {
    const input = Buffer.from('Subject: s\r\n\r\nbody\r\n..dot\r\n.\r\nQUIT\r\n');
    for (let a = 0; a <= input.length; a++) {
      for (let b = a; b <= input.length; b++) {
        const r = run([input.subarray(0, a), input.subarray(a, b), input.subarray(b)]);
        expect(r.out.toString()).toBe('Subject: s\n\nbody\n.dot\n');
        expect(r.rest.toString()).toBe('QUIT\r\n');
      }
    }
  });

  it('after the end, further bytes come back untouched as rest', () => {
    const d = new DataDecoder({ maxSize: 0 });
    expect(d.push(Buffer.from('.\r\n')).done).toBe(true);
    const r = d.push(Buffer.from('..\r\n'));
    expect(r).toEqual({ out: [], done: true, rest: Buffer.from('..\r\n') });
  });
});

describe('DataDecoder: limits', () => {
  it('RFC 1870 §6.3 + RFC 3463 5.3.4: over maxSize it reports tooLarge, stores nothing more, and still finds the dot', () => {
    const body = Buffer.from('0123456789\r\n'.repeat(10) + '.\r\nQUIT\r\n');
    const r = run(cut(body, [7, 50, 51, 119]), 50);
    expect(r.d.tooLarge).toBe(true);
    expect(r.done).toBe(true);
    expect(r.rest.toString()).toBe('QUIT\r\n');
    expect(r.out.length).toBeLessThanOrEqual(50);
    expect(r.d.size).toBe(110); // 10 lines of 11 stored bytes, counted to the end
  });

  it('RFC 1870 §6.3: exactly maxSize stored bytes is not too large', () => {
    const r = run([Buffer.from('0123456789\r\n'.repeat(10) + '.\r\n')], 110);
    expect(r.d.tooLarge).toBe(false);
    expect(r.out.length).toBe(110);
  });

  it('RFC 5321 §4.5.3.1.6: a line over 998 octets is reported, and kept whole (lenient)', () => {
    const long = 'x'.repeat(5000);
    const r = run(cut(Buffer.from(`short\r\n${long}\r\n.\r\n`), [100, 3000]));
    expect(r.d.longLines).toBe(true);
    expect(r.out.toString()).toBe(`short\n${long}\n`);
    const ok = run([Buffer.from(`${'y'.repeat(998)}\r\n.\r\n`)]);
    expect(ok.d.longLines).toBe(false);
    expect(run([Buffer.from(`${'y'.repeat(999)}\r\n.\r\n`)]).d.longLines).toBe(true);
    expect(run([Buffer.from(`${long}\r\n.\r\n`)], 0, 0).d.longLines).toBe(false); // 0 = never report
  });

  it('memory per push is bounded by the chunk, not by the line', () => {
    const d = new DataDecoder({ maxSize: 0 });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 100; i++) {
      const r = d.push(chunk);
      expect(r.out.reduce((n, b) => n + b.length, 0)).toBeLessThanOrEqual(chunk.length + 1);
    }
    expect(d.size).toBe(100 * chunk.length);
  });
});
