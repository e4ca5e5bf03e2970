import { describe, expect, it } from 'vitest';
import {
  addField, composeHeader, deleteField, fieldLines, isFieldName, originalFields, protectedField, splitRawHeader, type HeaderSnapshot,
} from '../../../src/sieve/header-edits.js';
import { parseHeaderBlock } from '../../../src/sieve/message.js';
import { decodeEncodedWords } from '../../../src/sieve/rfc2047.js';

const HEAD = 'Return-Path: <a@example.org>\nReceived: from x\n by y\nFrom: a@example.org\nX-A: 1\nX-A: 2\nSubject: hi\n';
const parse = (head: string) => {
  const block = Buffer.from(head, 'utf8');
  return { segments: splitRawHeader(block), h: originalFields(parseHeaderBlock(block)) };
};
const names = (h: HeaderSnapshot) => h.map((f) => `${f.name}=${f.value}`);

describe('field names and protected fields', () => {
  it.each([
    ['X-Test', true], ['x', true], ['a#)*%', true], ['', false], ['X Test', false], ['X:Test', false], ['Xé', false], ['X\tY', false],
  ])('RFC 5293 §4 / RFC 5322 §3.6.8: %j is a field name: %s', (name, ok) => {
    expect(isFieldName(name)).toBe(ok);
  });

  it.each([
    ['Received', 'delete', true], ['received', 'add', false], ['Auto-Submitted', 'delete', true], ['Auto-Submitted', 'add', false],
    ['X-Sieve-Redirected-From', 'add', true], ['x-sieve-redirected-from', 'delete', true], ['Subject', 'delete', false],
  ] as const)('RFC 5293 §6 (Pigeonhole defaults): %s %s refused: %s', (name, op, refused) => {
    expect(protectedField(name, op) !== null).toBe(refused);
  });
});

describe('fieldLines: new fields as written', () => {
  it.each([
    ['X-A', 'hello', ['X-A: hello']],
    ['X-A', '', ['X-A:']],
    ['X-A', 'two\r\nlines\nX-Evil: yes', ['X-A: two lines X-Evil: yes']],
    ['X-A', `${'word '.repeat(20)}end`, ['X-A: word word word word word word word word word word word word word word', ' word word word word word word end']],
  ])('RFC 5293 §4: %s %j', (name, value, lines) => {
    expect(fieldLines(name, value)).toEqual(lines);
  });

  it('RFC 5322 §2.1.1: a word too long to fold is written as encoded-words, every line within 998 octets', () => {
    const value = 'x'.repeat(2000);
    const lines = fieldLines('X-Long', value);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(998);
    expect(decodeEncodedWords(lines.join('').slice('X-Long:'.length)).trim()).toBe(value);
  });

  it('RFC 5293 §4: a non-ASCII value is RFC 2047-encoded, every line short, and decodes back', () => {
    const value = 'Grüße aus Köln — ünïcödé '.repeat(4).trim();
    const lines = fieldLines('X-Greeting', value);
    expect(lines.join('')).not.toMatch(/[^\x00-\x7f]/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(998);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines.slice(1)) expect(l.startsWith(' ')).toBe(true);
    const unfolded = lines.join('').slice('X-Greeting:'.length);
    expect(decodeEncodedWords(unfolded).trim()).toBe(value);
  });
});

describe('addField / deleteField', () => {
  it('RFC 5293 §4: addheader prepends (after the leading Return-Path), :last appends', () => {
    const { h } = parse(HEAD);
    const a = addField(addField(h, 'X-First', '1', false), 'X-Top', '2', false);
    expect(names(a).slice(0, 3)).toEqual(['return-path=<a@example.org>', 'x-top=2', 'x-first=1']);
    const b = addField(h, 'X-End', '3', true);
    expect(names(b).at(-1)).toBe('x-end=3');
    expect(names(h)).toHaveLength(6); // snapshots are never changed in place
  });

  it.each([
    [undefined, () => true, []],
    [{ n: 1, last: false }, () => true, ['x-a=2']],
    [{ n: 1, last: true }, () => true, ['x-a=1']],
    [{ n: 2, last: true }, () => true, ['x-a=2']],
    [{ n: 3, last: false }, () => true, ['x-a=1', 'x-a=2']],
    [undefined, (v: string) => v === '2', ['x-a=1']],
    [{ n: 1, last: false }, (v: string) => v === '2', ['x-a=1', 'x-a=2']],
  ])('RFC 5293 §5: deleteheader index %j', (index, pred, left) => {
    const { h } = parse(HEAD);
    const after = deleteField(h, 'X-A', (f) => pred(f.value), index);
    expect(names(after).filter((n) => n.startsWith('x-a='))).toEqual(left);
  });

  it('RFC 5293 §5: deleting nothing keeps the same snapshot (copies may share one file)', () => {
    const { h } = parse(HEAD);
    expect(deleteField(h, 'X-None', () => true)).toBe(h);
  });
});

describe('composeHeader: the rebuilt header block', () => {
  it('keeps original bytes (folds, CRLF) and writes added fields with the message line end', () => {
    const head = HEAD.replace(/\n/g, '\r\n');
    const { segments, h } = parse(head);
    expect(composeHeader(segments, h, '\r\n').toString()).toBe(head);
    let e = addField(h, 'X-New', 'v', false);
    e = addField(e, 'X-Last', 'w', true);
    e = deleteField(e, 'x-a', (f) => f.value === '1');
    expect(composeHeader(segments, e, '\r\n').toString()).toBe(
      'Return-Path: <a@example.org>\r\nX-New: v\r\nReceived: from x\r\n by y\r\nFrom: a@example.org\r\nX-A: 2\r\nSubject: hi\r\nX-Last: w\r\n',
    );
  });

  it('keeps a line that is no field, and ends an unterminated last field before appending', () => {
    const { segments, h } = parse('From: a\nnot a field\nSubject: s');
    expect(composeHeader(segments, addField(deleteField(h, 'from', () => true), 'X', 'y', true), '\n').toString()).toBe('not a field\nSubject: s\nX: y\n');
  });
});
