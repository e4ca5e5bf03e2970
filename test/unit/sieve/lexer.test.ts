import { describe, expect, it } from 'vitest';
import { MAX_NUMBER, tokenize, type Token } from '../../../src/sieve/lexer.js';

/** Each token as [kind, value, line, column]; value is the name, number or string value. */
function toks(text: string): Array<[string, string | number | null, number, number]> {
  const r = tokenize(text);
  expect(r.errors).toEqual([]);
  return r.tokens.map((t: Token) => {
    const v = t.kind === 'identifier' || t.kind === 'tag' ? t.name : t.kind === 'number' || t.kind === 'string' ? t.value : null;
    return [t.kind, v, t.pos.line, t.pos.column];
  });
}

/** The first error as "line:column message", and whether it was fatal. */
function firstError(text: string): string {
  const e = tokenize(text).errors[0];
  return e ? `${e.line}:${e.column} ${e.message}` : 'no error';
}

describe('tokens and positions', () => {
  it('lexes the RFC 5228 §2.3 comment example with 1-based lines and columns', () => {
    const text = 'if size :over 100K { /* this is a comment\n   this is still a comment */ discard /* this is a comment\n   */ ;\n}\n';
    expect(toks(text)).toEqual([
      ['identifier', 'if', 1, 1],
      ['identifier', 'size', 1, 4],
      ['tag', 'over', 1, 9],
      ['number', 102400, 1, 15],
      ['{', null, 1, 20],
      ['identifier', 'discard', 2, 31],
      [';', null, 3, 7],
      ['}', null, 4, 1],
      ['eof', null, 5, 1],
    ]);
  });

  it.each([
    ['identifiers and tags are lower-cased', 'IF :Contains Foo_1', [['identifier', 'if'], ['tag', 'contains'], ['identifier', 'foo_1']]],
    ['punctuation', '[],(){};', [['['], [']'], [','], ['('], [')'], ['{'], ['}'], [';']]],
    ['hash comment to the end of the line', 'keep; # discard;\nstop;', [['identifier', 'keep'], [';'], ['identifier', 'stop'], [';']]],
    ['hash comment at the end of the script without a line break', 'keep; # bye', [['identifier', 'keep'], [';']]],
    ['bracket comments do not nest: the first */ ends it', '/* a /* b */ keep;', [['identifier', 'keep'], [';']]],
    ['a star inside a bracket comment', '/* ** / * */ keep;', [['identifier', 'keep'], [';']]],
    ['"/*/" does not close the comment it opens', '/*/ stop; */ keep;', [['identifier', 'keep'], [';']]],
    ['CRLF line breaks', 'keep;\r\nstop;\r\n', [['identifier', 'keep'], [';'], ['identifier', 'stop'], [';']]],
    ['a bare CR between tokens is blank', 'keep;\rstop;', [['identifier', 'keep'], [';'], ['identifier', 'stop'], [';']]],
    ['a number directly followed by a name is two tokens', '123abc', [['number', 123], ['identifier', 'abc']]],
    ['a byte order mark at the start is skipped', '\uFEFFkeep;', [['identifier', 'keep'], [';']]],
  ])('%s', (_name, text, want) => {
    const got = toks(text).slice(0, -1).map(([k, v]) => (v === null ? [k] : [k, v]));
    expect(got).toEqual(want);
  });

  it.each([
    ['a tab is one column', '\tkeep;', 1, 2],
    ['a non-ASCII character in a comment is one column', '# é\n/*é*/keep;', 2, 6],
    ['a character outside the BMP is one column', '"😀" keep;', 1, 5],
    ['after a multi-line string', 'x text:\na\n.\nkeep;', 4, 1],
    ['after a quoted string with a line break', '"a\nb" keep;', 2, 4],
  ])('%s', (_name, text, line, column) => {
    const keep = tokenize(text).tokens.find((t) => t.kind === 'identifier' && t.name === 'keep')!;
    expect(keep.pos).toEqual({ line, column });
  });
});

describe('numbers (RFC 5228 §2.4.1)', () => {
  it.each([
    ['0', 0],
    ['007', 7],
    ['1K', 1024],
    ['1k', 1024],
    ['2M', 2 * 1024 ** 2],
    ['2m', 2 * 1024 ** 2],
    ['3G', 3 * 1024 ** 3],
    ['2147483647', 2 ** 31 - 1], // the range every implementation must support
    ['4294967295', 2 ** 32 - 1],
    ['34G', 34 * 1024 ** 3], // Pigeonhole 0.4 refused this; mda takes up to 2^53-1
    ['8388607G', 8388607 * 2 ** 30],
    [String(MAX_NUMBER), MAX_NUMBER],
  ])('%s = %d', (text, value) => {
    expect(toks(text)[0]).toEqual(['number', value, 1, 1]);
  });

  it.each([
    ['9007199254740992', 'number 9007199254740992 is too large'],
    ['8388608G', 'number 8388608G is too large'],
    ['9007199254740991K', 'number 9007199254740991K is too large'],
    ['49834598293485814273947921734981723971293741923', 'number 498345982934858142739479217349... is too large'],
  ])('%s overflows cleanly', (text, message) => {
    const r = tokenize(`if size :over ${text} { stop; }`);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ line: 1, column: 15, fatal: false });
    expect(r.errors[0]!.message).toContain(message);
    expect(r.tokens.map((t) => t.kind)).toEqual(['identifier', 'identifier', 'tag', 'number', '{', 'identifier', ';', '}', 'eof']);
  });
});

describe('quoted strings (RFC 5228 §2.4.2)', () => {
  it.each([
    ['""', ''],
    ['"plain"', 'plain'],
    ['"a\\"b"', 'a"b'],
    ['"a\\\\b"', 'a\\b'],
    ['"\\a"', 'a'], // an undefined escape is the character itself
    ['"\\*\\?"', '*?'],
    ['"c:\\\\\\\\x"', 'c:\\\\x'],
    ['"line1\nline2"', 'line1\r\nline2'], // a bare LF becomes CRLF
    ['"line1\r\nline2"', 'line1\r\nline2'],
    ['"a\\\nb"', 'a\r\nb'],
    ['"tab\there"', 'tab\there'],
    ['"ünïcødé 😀"', 'ünïcødé 😀'],
    ['"# not a comment /* nor this */"', '# not a comment /* nor this */'],
  ])('%s', (text, value) => {
    expect(toks(text)[0]).toEqual(['string', value, 1, 1]);
  });
});

describe('multi-line strings (text:)', () => {
  it.each([
    ['basic', 'text:\nhello\nworld\n.\n', 'hello\r\nworld\r\n'],
    ['CRLF', 'text:\r\nhello\r\n.\r\n', 'hello\r\n'],
    ['empty', 'text:\n.\n', ''],
    ['a hash comment after text:', 'text: # the reason\nbody\n.\n', 'body\r\n'],
    ['spaces and tabs after text:', 'text: \t \nbody\n.\n', 'body\r\n'],
    ['TEXT: is case-insensitive', 'TEXT:\nx\n.\n', 'x\r\n'],
    ['dot-stuffing: ".." is "."', 'text:\n..\n.\n', '.\r\n'],
    ['dot-stuffing: "..foo" is ".foo"', 'text:\n..foo\n.\n', '.foo\r\n'],
    ['".foo" is not stuffed and stays', 'text:\n.foo\n.\n', '.foo\r\n'],
    ['"..." is ".."', 'text:\n...\n.\n', '..\r\n'],
    ['a line " ." does not end it', 'text:\n .\n.\n', ' .\r\n'],
    ['a line ". " does not end it', 'text:\n. \n.\n', '. \r\n'],
    ['"#" and quotes are text', 'text:\n# "x" /* y */\n.\n', '# "x" /* y */\r\n'],
    ['empty lines are kept', 'text:\n\n\n.\n', '\r\n\r\n'],
  ])('%s', (_name, text, value) => {
    expect(toks(text)[0]).toEqual(['string', value, 1, 1]);
  });

  it('is followed by more tokens on the next line', () => {
    expect(toks('vacation text:\nx\n.\n;').map(([k]) => k)).toEqual(['identifier', 'string', ';', 'eof']);
  });
});

describe('errors carry exact positions', () => {
  it.each([
    ['unterminated quoted string', 'keep;\n  "abc', '2:3 unterminated string: this " has no closing "', true],
    ['unterminated after a backslash', '"abc\\', '1:1 unterminated string: this " has no closing "', true],
    ['unterminated comment', 'keep; /* no end\n\n', '1:7 unterminated comment: this /* has no closing */', true],
    ['unterminated text:', 'x\n text:\nline\n', "2:2 unterminated text: string: the script ends before the line with a single '.'", true],
    ['text: ended by "." without a line break', 'text:\nline\n.', "3:1 the '.' that ends a text: string must be followed by a line break", true],
    ['text: at the very end', 'text:', "1:1 unterminated text: string: the script ends before the line with a single '.'", true],
    ['a bracket comment after text:', 'text: /* no */\nx\n.\n', "1:7 unexpected '/' after text: (only spaces, tabs and a # comment may follow it on its line)", true],
    ['a word after text:', 'text: body\n.\n', "1:7 unexpected 'b' after text: (only spaces, tabs and a # comment may follow it on its line)", true],
    ['bad character', 'keep;\nif true { @ }', "2:11 unexpected character '@'", false],
    ['bad control character', 'keep;\u0001', '1:6 unexpected character U+0001', false],
    ['a lone slash', 'keep; / stop;', "1:7 unexpected character '/'", false],
    ['a dash in a name', 'foo-bar;', "1:4 unexpected character '-'", false],
    ['a colon without a tag name', 'header : "a"', "1:8 ':' must be followed by a tag name, as in :is", false],
    ['a colon before a digit', 'x :1', "1:3 ':' must be followed by a tag name, as in :is", false],
    ['a bare CR in a quoted string', '"a\rb"', '1:3 a carriage return (CR) in a string must be followed by a line feed (LF)', false],
    ['a bare CR in a text: line', 'text:\nab\rc\n.\n', '2:3 a carriage return (CR) in a text: string must be followed by a line feed (LF)', false],
    ['NUL in a quoted string', '"a\0"', '1:3 a NUL character is not allowed in a string; write ${hex:00} with require "encoded-character"', false],
    ['number too large', '\n  99999999999999999', '2:3 number 99999999999999999 is too large (the largest supported number is 9007199254740991)', false],
  ])('%s', (_name, text, want, fatal) => {
    expect(firstError(text)).toBe(want);
    expect(tokenize(text).errors[0]!.fatal).toBe(fatal);
  });

  it('reports a run of bad characters once', () => {
    const r = tokenize('friep $$$;');
    expect(r.errors.map((e) => `${e.line}:${e.column} ${e.message}`)).toEqual(["1:7 unexpected character '$'"]);
    expect(r.tokens.map((t) => t.kind)).toEqual(['identifier', ';', 'eof']);
  });

  it('keeps scanning after a recoverable error', () => {
    const r = tokenize('@ keep; % stop;');
    expect(r.errors.map((e) => e.column)).toEqual([1, 9]);
    expect(r.tokens.filter((t) => t.kind === 'identifier')).toHaveLength(2);
  });
});
