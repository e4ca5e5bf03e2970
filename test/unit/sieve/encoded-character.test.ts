import { describe, expect, it } from 'vitest';
import { decodeEncodedCharacters } from '../../../src/sieve/encoded-character.js';

const decode = (s: string): string => {
  const r = decodeEncodedCharacters(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('RFC 5228 §2.4.2.4 examples', () => {
  it.each([
    ['$${hex:40}', '$@'],
    ['${hex: 40 }', '@'],
    ['${HEX: 40}', '@'],
    ['${hex:40', '${hex:40'],
    ['${hex:400}', '${hex:400}'],
    ['${hex:4${hex:30}}', '${hex:40}'],
    ['${unicode:40}', '@'],
    ['${ unicode:40}', '${ unicode:40}'],
    ['${UNICODE:40}', '@'],
    ['${UnICoDE:0000040}', '@'],
    ['${Unicode:40}', '@'],
    ['${Unicode:Cool}', '${Unicode:Cool}'],
    ['$${hex:24 24}', '$$$'], // the §2.4.2.4 Subject example
  ])('%s → %s', (input, output) => {
    expect(decode(input)).toBe(output);
  });

  it.each([
    ['${unicode:200000}', 'U+200000'],
    ['${Unicode:DF01}', 'U+DF01'],
    ['${unicode:d800}', 'U+D800'],
    ['${unicode:110000}', 'U+110000'],
    ['${unicode:333333333}', 'U+333333333'],
    ['${unicode:33333333333333333}', 'U+333333333333...'], // overflows any integer: still a clean error
    ['ok ${unicode:41} then ${unicode:41 DFFF}', 'U+DFFF'],
  ])('%s is an error naming %s', (input, name) => {
    const r = decodeEncodedCharacters(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(`invalid Unicode character ${name} in \${unicode:...}`);
  });
});

describe('more sequences', () => {
  it.each([
    ['no sequence', 'plain ${var} text', 'plain ${var} text'],
    ['multi-byte UTF-8 from hex pairs', '${hex:C3 A9}', 'é'],
    ['octets of adjacent sequences join into one character', '${hex:C3}${hex:A9}', 'é'],
    ['one-digit hex pairs', '${hex:9 41}', '\tA'],
    ['line breaks as blanks', '${hex:\r\n41\n42\t}', 'AB'],
    ['a NUL octet', 'a${hex:00}b', 'a\0b'],
    ['octets that are not UTF-8 become U+FFFD', '${hex:FF}x', '\uFFFDx'],
    ['several unicode values', '${unicode:48 49 1F600}', 'HI😀'],
    ['the range limits are characters', '${unicode:0 D7FF E000 10FFFF}', '\0\uD7FF\uE000\u{10FFFF}'],
    ['empty hex is not a sequence', '${hex:}', '${hex:}'],
    ['blank-only unicode is not a sequence', '${unicode: }', '${unicode: }'],
    ['a bad item makes the whole sequence literal, even with an out-of-range value', '${unicode:41 d800 x}', '${unicode:41 d800 x}'],
    ['unterminated unicode is literal', '${unicode:200000', '${unicode:200000'],
    ['a variable reference is untouched', '${hex:40}${foo}', '@${foo}'],
    ['text around sequences is kept', 'a${hex:62}c${unicode:64}e', 'abcde'],
  ])('%s', (_name, input, output) => {
    expect(decode(input)).toBe(output);
  });
});
