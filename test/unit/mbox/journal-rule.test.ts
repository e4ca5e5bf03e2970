import { describe, expect, it } from 'vitest';
import { decodeJournal, encodeJournal, repairAction, type Journal } from '../../../src/mbox/journal-rule.js';

const HEAD = Buffer.from('From a@b  Tue Dec  8 01:02:03 2026\n');
const J: Journal = { dev: 2049, ino: 123456, offset: 1000, length: 500, head: HEAD };

describe('journal encoding', () => {
  it('round-trips', () => expect(decodeJournal(encodeJournal(J))).toEqual(J));
  const good = encodeJournal(J).toString('latin1');
  it.each([
    ['torn (no line end)', good.slice(0, -1)],
    ['empty', ''],
    ['other magic', good.replace('mda-mbox-journal 1', 'mda-mbox-journal 2')],
    ['negative offset', good.replace(' 1000 ', ' -1000 ')],
    ['zero length', good.replace(' 500 ', ' 0 ')],
    ['extra field', good.replace('\n', ' x\n')],
    ['bad base64', good.replace(/ \S+\n$/, ' !!!\n')],
    ['too long', good + 'x'.repeat(600)],
    ['huge number', good.replace(' 1000 ', ' 99999999999999999999 ')],
  ])('rejects %s', (_n, text) => expect(decodeJournal(Buffer.from(text, 'latin1'))).toBeUndefined());
});

describe('repairAction: truncate only a partial append of ours', () => {
  const now = (over: Partial<{ dev: number; ino: number; size: number; atOffset: Buffer }>) => ({ dev: 2049, ino: 123456, size: 1200, atOffset: HEAD, ...over });
  it.each([
    ['partial tail, our From_ line at the offset', now({}), 'truncate'],
    ['killed within the From_ line: one byte written', now({ size: 1001, atOffset: HEAD.subarray(0, 1) }), 'truncate'],
    ['one byte, not ours', now({ size: 1001, atOffset: Buffer.from('X') }), 'leave'],
    ['nothing written', now({ size: 1000, atOffset: Buffer.alloc(0) }), 'leave'],
    ['the whole entry written (killed before the journal was removed)', now({ size: 1500 }), 'leave'],
    ['more than the entry (later appends by others)', now({ size: 9000 }), 'leave'],
    ['another inode (the file was replaced by a rewrite)', now({ ino: 9 }), 'leave'],
    ['another device', now({ dev: 1 }), 'leave'],
    ['shorter than the offset (expunged by a rewrite)', now({ size: 10, atOffset: Buffer.alloc(0) }), 'leave'],
    ['other bytes at the offset (rewritten in place)', now({ atOffset: Buffer.from('From x@y  Tue Dec  8 01:02:03 2026\n') }), 'leave'],
  ] as const)('%s → %s', (_n, n, want) => expect(repairAction(J, n)).toBe(want));
});
