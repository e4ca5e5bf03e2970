import { describe, expect, it } from 'vitest';
import { decodeEncodedWords, unfold } from '../../../src/sieve/rfc2047.js';

describe('decodeEncodedWords (RFC 2047)', () => {
  it.each([
    // no encoded words: unchanged (but unfolded)
    ['Plain subject', 'Plain subject'],
    ['', ''],
    ['=? not a word', '=? not a word'],
    // B and Q, charsets
    ['=?utf-8?B?SGVsbG8gV29ybGQ=?=', 'Hello World'],
    ['=?UTF-8?b?SGVsbG8gV29ybGQ=?=', 'Hello World'],
    ['=?utf-8?B?SGVsbG8gV29ybGQ?=', 'Hello World'], // missing padding tolerated
    ['=?utf-8?Q?J=C3=B6rg_M=C3=BCller?=', 'Jörg Müller'],
    ['=?utf-8?q?caf=c3=a9?=', 'café'],
    ['=?iso-8859-1?Q?caf=E9?=', 'café'],
    ['=?ISO-8859-1?B?Y2Fm6Q==?=', 'café'],
    ['=?latin1?Q?=FC?=', 'ü'],
    ['=?us-ascii?Q?plain_text?=', 'plain text'],
    ['=?windows-1252?Q?=93quoted=94?=', '\u201cquoted\u201d'],
    ['=?iso-8859-15?Q?=A4?=', '€'],
    ['=?iso-8859-1?Q?=80_=85?=', '€ …'], // WHATWG: iso-8859-1 means windows-1252, as mail really uses it
    ['=?windows-1252?Q?=81?=', '\x81'], // undefined in windows-1252: left a C1 control
    ['=?koi8-r?B?8NLJ18XU?=', 'Привет'],
    ['=?utf-8*en?Q?hi?=', 'hi'], // RFC 2231 language suffix
    ['=?utf-8?Q?a=3Db?=', 'a=b'],
    ['=?utf-8?Q?100%_=3D?=', '100% ='],
    ['=?utf-8?Q?bad=ZZhex?=', 'bad=ZZhex'], // a stray '=' stays itself
    // adjacent words: white space between them disappears (RFC 2047 §6.2)
    ['=?utf-8?Q?a?= =?utf-8?Q?b?=', 'ab'],
    ['=?utf-8?Q?a?=\r\n =?utf-8?Q?b?=', 'ab'],
    ['=?utf-8?Q?a?=   \t =?iso-8859-1?Q?=E9?=', 'aé'],
    ['=?utf-8?Q?a_?= =?utf-8?Q?_b?=', 'a  b'], // encoded spaces are kept
    // a UTF-8 character split across two B words
    ['=?utf-8?B?w6k=?==?utf-8?B?w6k=?=', 'éé'],
    ['=?utf-8?B?4oI=?= =?utf-8?B?rA==?=', '€'],
    // words next to text keep the text's white space
    ['Re: =?utf-8?Q?caf=C3=A9?= ok', 'Re: café ok'],
    ['Re:=?utf-8?Q?caf=C3=A9?=', 'Re:café'], // found without surrounding white space, as Dovecot does
    ['=?utf-8?Q?a?= x =?utf-8?Q?b?=', 'a x b'],
    // invalid words stay as written
    ['=?x-unknown?Q?abc?=', '=?x-unknown?Q?abc?='],
    ['=?utf-7?Q?abc?=', '=?utf-7?Q?abc?='],
    ['=?utf-8?X?abc?=', '=?utf-8?X?abc?='],
    ['=?utf-8?B?not*base64?=', '=?utf-8?B?not*base64?='],
    ['=?utf-8?B?abcde?=', '=?utf-8?B?abcde?='], // 5 characters cannot be base64
    ['=?utf-8?Q?a b?=', '=?utf-8?Q?a b?='], // white space is not allowed inside a word
    ['=?utf-8?Q?ok?= =?bogus?Q?x?= =?utf-8?Q?ok?=', 'ok =?bogus?Q?x?= ok'],
    // invalid bytes become U+FFFD instead of failing
    ['=?utf-8?Q?=FF?=', '\ufffd'],
    ['=?utf-8?Q?é?=', 'é'], // raw UTF-8 inside Q text (not allowed, but seen) is kept
  ])('%j → %j', (value, want) => expect(decodeEncodedWords(value)).toBe(want));
});

describe('unfold (RFC 5322 §2.2.3)', () => {
  it.each([
    ['a\r\n b', 'a b'],
    ['a\n\tb', 'a\tb'],
    ['a\r\nb', 'a\r\nb'], // not a fold
    ['a\r\n  b\r\n c', 'a  b c'],
  ])('%j → %j', (value, want) => expect(unfold(value)).toBe(want));
  it('decodeEncodedWords unfolds first', () => expect(decodeEncodedWords('Long\r\n subject')).toBe('Long subject'));
});

describe('size', () => {
  it('decodes 50 000 adjacent words in linear time (one concatenation per run)', () => {
    expect(decodeEncodedWords('=?utf-8?q?a?= '.repeat(50_000))).toBe(`${'a'.repeat(50_000)} `);
  });
});
