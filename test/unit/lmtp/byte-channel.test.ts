/**
 * ByteChannel: the back-pressure between onRaw and the spool. A push resolves
 * only after the reader is done with its chunk; a cut input makes the reader
 * fail (never a clean end, which would deliver a partial message); a reader
 * that stops early never leaves a producer waiting.
 */
import { describe, expect, it } from 'vitest';
import { ByteChannel } from '../../../src/lmtp/byte-channel.js';

const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
};

describe('ByteChannel', () => {
  it('a push resolves only once the reader asks for the next chunk (it has written this one)', async () => {
    const ch = new ByteChannel();
    const it = ch[Symbol.asyncIterator]();
    const pushed = ch.push(Buffer.from('a'));
    expect(await settled(pushed)).toBe(false);
    expect((await it.next()).value?.toString()).toBe('a');
    expect(await settled(pushed)).toBe(false); // the reader still holds it
    const nextRead = it.next();
    expect(await settled(pushed)).toBe(true);
    ch.end();
    expect(await nextRead).toEqual({ value: undefined, done: true });
  });

  it('chunks arrive in order, then the end', async () => {
    const ch = new ByteChannel();
    void ch.push(Buffer.from('1'));
    void ch.push(Buffer.from('2'));
    ch.end();
    const got: string[] = [];
    for await (const b of ch) got.push(b.toString());
    expect(got).toEqual(['1', '2']);
  });

  it('fail: a waiting reader rejects (a cut DATA is never a complete message); pending pushes resolve', async () => {
    const ch = new ByteChannel();
    const it = ch[Symbol.asyncIterator]();
    const read = it.next();
    ch.fail(new Error('connection closed'));
    await expect(read).rejects.toThrow('connection closed');
    expect(await settled(ch.push(Buffer.from('late')))).toBe(true);
  });

  it('close: a reader that stopped early leaves no producer waiting', async () => {
    const ch = new ByteChannel();
    const first = ch.push(Buffer.from('x'));
    ch.close();
    expect(await settled(first)).toBe(true);
    expect(await settled(ch.push(Buffer.from('y')))).toBe(true);
  });
});
