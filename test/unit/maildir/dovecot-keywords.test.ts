import { describe, expect, it } from 'vitest';
import { assignLetters, formatKeywords, isValidKeyword, letterOf, parseKeywords, withKeywordLetters } from '../../../src/maildir/dovecot-keywords.js';

const slots = (text: string) => parseKeywords(text).slots;

describe('parseKeywords: dovecot-keywords as Dovecot maildir_keywords_sync reads it', () => {
  it.each([
    ['empty file', '', []],
    ['one line', '0 $Label1\n', ['$Label1']],
    ['0 = a, gaps stay free', '0 work\n2 home\n', ['work', undefined, 'home']],
    ['CRLF line ends', '0 work\r\n1 home\r\n', ['work', 'home']],
    ['a last line without LF is not read', '0 work\n1 home', ['work']],
    ['no space: skipped (old .customflags first line)', 'junk\n0 work\n', ['work']],
    ['index not decimal: skipped', 'x work\n+1 home\n 2 a\n', []],
    ['index 26 or more: skipped', '26 z\n25 last\n', [...Array(25).fill(undefined), 'last']],
    ['leading zeros are decimal', '01 work\n', [undefined, 'work']],
    ['empty name: skipped', '0 \n1 ok\n', [undefined, 'ok']],
    ['a name seen before, in any case: skipped', '0 Work\n1 WORK\n', ['Work']],
    ['the name is everything after the first space', '0 a b\n', ['a b']],
    ['a later line for a taken index overwrites it', '0 one\n0 two\n', ['two']],
  ] as const)('%s', (_n, text, want) => expect(slots(text)).toEqual(want));

  it('names are looked up case-insensitively', () => {
    expect(parseKeywords('3 $Label1\n').byName.get('$label1')).toBe(3);
  });
});

describe('formatKeywords: Dovecot maildir_keywords_write_fd', () => {
  it.each([
    [[], ''],
    [['work'], '0 work\n'],
    [['work', undefined, 'home'], '0 work\n2 home\n'],
  ] as const)('%j → %j', (s, want) => expect(formatKeywords({ slots: [...s], byName: new Map() })).toBe(want));

  it('parse ∘ format is the identity on a well-formed file', () => {
    const text = '0 $Label1\n1 work\n4 Later\n';
    expect(formatKeywords(parseKeywords(text))).toBe(text);
  });
});

describe('assignLetters: keyword ↔ letter', () => {
  it.each([
    ['a new keyword in an empty file is a', '', ['work'], 'a', ['work'], [], '0 work\n'],
    ['known keywords keep their letters', '0 work\n1 home\n', ['home'], 'b', [], [], '0 work\n1 home\n'],
    ['case-insensitive: one keyword', '0 Work\n', ['WORK', 'work'], 'a', [], [], '0 Work\n'],
    ['stored as given', '', ['$Label1'], 'a', ['$Label1'], [], '0 $Label1\n'],
    ['the first free slot is taken', '0 a0\n2 a2\n', ['new'], 'b', ['new'], [], '0 a0\n1 new\n2 a2\n'],
    ['letters sorted', '0 x\n1 y\n', ['y', 'new', 'x'], 'abc', ['new'], [], '0 x\n1 y\n2 new\n'],
    ['invalid keywords dropped', '', ['\\Recent', 'a b', 'ä', 'x]', ''], '', [], ['\\Recent', 'a b', 'ä', 'x]', ''], ''],
  ] as const)('%s', (_n, file, kws, letters, added, dropped, after) => {
    const t = parseKeywords(file);
    expect(assignLetters(t, kws)).toEqual({ letters, added, dropped });
    expect(formatKeywords(t)).toBe(after);
  });

  it('more than 26 keywords: the rest are dropped, as Dovecot does', () => {
    const t = parseKeywords('');
    const names = Array.from({ length: 28 }, (_, i) => `k${i}`);
    const r = assignLetters(t, names);
    expect(r.letters).toBe('abcdefghijklmnopqrstuvwxyz');
    expect(r.added).toHaveLength(26);
    expect(r.dropped).toEqual(['k26', 'k27']);
    expect(formatKeywords(t).split('\n')[25]).toBe('25 k25');
  });

  it('read-only: unknown keywords are dropped, nothing added', () => {
    const t = parseKeywords('0 work\n');
    expect(assignLetters(t, ['work', 'new'], true)).toEqual({ letters: 'a', added: [], dropped: ['new'] });
    expect(t.slots).toEqual(['work']);
  });
});

describe('isValidKeyword: RFC 3501 §9 flag-keyword = atom, Dovecot mailbox_keyword_is_valid', () => {
  it.each([
    ['$Label1', true], ['work', true], ['Junk', true], ['$Forwarded', true], ['a'.repeat(50), true],
    ['', false], ['a'.repeat(51), false], ['a b', false], ['\\Seen', false], ['(x', false], ['x)', false],
    ['{1}', false], ['50%', false], ['a*', false], ['"q"', false], ['x]', false], ['tab\t', false], ['ü', false], ['del\x7f', false],
  ] as const)('%j → %s', (k, want) => expect(isValidKeyword(k)).toBe(want));
});

describe('letters', () => {
  it.each([[0, 'a'], [1, 'b'], [25, 'z']] as const)('slot %i → %s', (i, l) => expect(letterOf(i)).toBe(l));
  it.each([
    ['', '', ''], ['S', '', 'S'], ['', 'ba', 'ab'], ['FS', 'ca', 'FSac'],
  ] as const)('system %j + keywords %j → %j (uppercase first: ASCII order)', (s, k, want) => expect(withKeywordLetters(s, k)).toBe(want));
});
