import { describe, expect, it } from 'vitest';
import { angleAddress, firstValue, parseHeaders } from '../../../src/message/headers.js';

describe('parseHeaders (RFC 5322 §2.2)', () => {
  it.each([
    ['simple', 'Subject: hi\nTo: a@b\n', [['subject', 'hi'], ['to', 'a@b']]],
    ['CRLF', 'Subject: hi\r\nTo: a@b\r\n', [['subject', 'hi'], ['to', 'a@b']]],
    ['folded', 'Subject: one\n two\n\tthree\n', [['subject', 'one two three']]],
    ['duplicates kept in order', 'Received: 1\nReceived: 2\n', [['received', '1'], ['received', '2']]],
    ['case folded names', 'MESSAGE-ID: <x@y>\n', [['message-id', '<x@y>']]],
    ['no space after colon', 'X:y\n', [['x', 'y']]],
    ['empty value', 'X:\n', [['x', '']]],
    ['garbage lines skipped', 'no colon here\n: empty name\nGood: 1\n', [['good', '1']]],
    ['continuation before any header ignored', ' orphan\nA: 1\n', [['a', '1']]],
    ['obsolete space before colon', 'Subject : x\n', [['subject', 'x']]],
    ['8-bit value', 'Subject: caf\xc3\xa9\n', [['subject', 'café']]],
    ['empty', '', []],
  ])('%s', (_n, block, want) => {
    expect(parseHeaders(Buffer.from(block, 'latin1')).map((f) => [f.name, f.value])).toEqual(want);
  });
  it('firstValue is case-insensitive', () => expect(firstValue(parseHeaders(Buffer.from('A: 1\na: 2\n')), 'A')).toBe('1'));
  it.each([
    ['<a@b>', 'a@b'],
    ['<>', ''],
    ['a@b', 'a@b'],
    ['  a@b  ', 'a@b'],
    ['Name <a@b>', 'a@b'],
  ])('angleAddress(%j) = %j', (v, want) => expect(angleAddress(v)).toBe(want));
});
