/**
 * clamd INSTREAM framing and reply parsing, against replies captured from a
 * real clamd 1.4.6 (test/fixtures/clamd/*.reply, see test/fixtures/spamd/capture.mjs)
 * and hand-made edge cases. Nothing but `stream: OK` may ever be clean.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE, frameChunk, INSTREAM_COMMAND, isPong, parseReply, PING_COMMAND, STREAM_END } from '../../../src/scanners/clamd/protocol.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/clamd/${name}.reply`, import.meta.url), 'latin1');

describe('command bytes and framing', () => {
  it('z-prefixed, NUL-terminated commands', () => {
    expect(INSTREAM_COMMAND).toEqual(Buffer.from('zINSTREAM\0', 'latin1'));
    expect(PING_COMMAND).toEqual(Buffer.from('zPING\0', 'latin1'));
    expect(STREAM_END).toEqual(Buffer.from([0, 0, 0, 0]));
  });
  it.each([
    [Buffer.from('abc'), '00000003616263'],
    [Buffer.alloc(256, 0x41), `00000100${'41'.repeat(256)}`],
    [Buffer.alloc(70_000, 0), `00011170${'00'.repeat(70_000)}`],
  ])('frameChunk: 4-byte big-endian length, then the data', (data, hex) => {
    expect(frameChunk(data).toString('hex')).toBe(hex);
  });
  it('refuses an empty chunk, which would end the stream', () => {
    expect(() => frameChunk(Buffer.alloc(0))).toThrow(RangeError);
  });
  it('chunks stay far below any sensible StreamMaxLength', () => {
    expect(CHUNK_SIZE).toBeLessThanOrEqual(64 * 1024);
  });
});

describe('parseReply with captured clamd 1.4.6 replies', () => {
  it.each([
    ['instream-clean', { verdict: 'clean' }],
    ['instream-eicar', { verdict: 'infected', signature: 'Realstack.Test.EICAR-NDB.UNOFFICIAL' }],
    ['instream-too-large', { verdict: 'error', why: 'clamd: "INSTREAM size limit exceeded. ERROR"' }],
    ['unknown-command', { verdict: 'error', why: 'not a clamd reply: "UNKNOWN COMMAND"' }],
    ['version', { verdict: 'error', why: 'not a clamd reply: "ClamAV 1.4.6"' }],
    ['ping', { verdict: 'error', why: 'not a clamd reply: "PONG"' }],
  ])('%s', (name, want) => expect(parseReply(fixture(name))).toEqual(want));
});

describe('parseReply edge cases', () => {
  it.each([
    ['stream: OK\0', { verdict: 'clean' }],
    ['stream: OK\n', { verdict: 'clean' }], // n-prefixed commands end with LF
    ['stream: OK', { verdict: 'clean' }],
    ['stream: Win.Test.EICAR_HDB-1 FOUND\0', { verdict: 'infected', signature: 'Win.Test.EICAR_HDB-1' }],
    ['stream: Eicar-Signature FOUND\n', { verdict: 'infected', signature: 'Eicar-Signature' }],
    ['stream: Sig.Name.UNOFFICIAL FOUND\0', { verdict: 'infected', signature: 'Sig.Name.UNOFFICIAL' }],
    // AllMatchScan: several results; any FOUND wins, even after an error
    ['stream: A FOUND\0stream: B FOUND\0', { verdict: 'infected', signature: 'A' }],
    ['stream: Can\'t allocate memory ERROR\0stream: A FOUND\0', { verdict: 'infected', signature: 'A' }],
  ])('%j', (text, want) => expect(parseReply(text)).toEqual(want));

  it.each([
    ['', /empty reply/],
    ['\0', /empty reply/],
    ['INSTREAM size limit exceeded. ERROR\n', /size limit exceeded/],
    ['stream: Can\'t allocate memory ERROR\0', /clamd: "Can't allocate memory ERROR"/],
    ['stream: lstat() failed: No such file or directory. ERROR\0', /lstat\(\) failed/],
    ['COMMAND READ TIMED OUT\0', /not a clamd reply/],
    ['stream: O', /not a clamd reply/], // half a reply
    ['stream: Eicar FOU', /not a clamd reply/],
    ['stream: FOUND\0', /not a clamd reply/],
    ['stream: OK\0stream: garbage\0', /not a clamd reply/],
    ['HTTP/1.1 400 Bad Request\r\n\r\n', /not a clamd reply/],
    ['\xff\xfe\x00\x01', /not a clamd reply/],
  ])('%j is an error, never clean', (text, why) => {
    const r = parseReply(text);
    expect(r.verdict).toBe('error');
    expect(r.verdict === 'error' && r.why).toMatch(why);
  });
});

describe('isPong', () => {
  it.each([
    [fixture('ping'), true],
    ['PONG\n', true],
    ['PONG', true],
    ['PONG\0extra', false],
    ['UNKNOWN COMMAND\0', false],
    ['', false],
  ])('%j → %s', (text, ok) => expect(isPong(text)).toBe(ok));
});
