import { describe, expect, it } from 'vitest';
import { SieveRuntimeError } from '../../../src/sieve/errors.js';
import type { Comparator, MatchSpec, Relation } from '../../../src/sieve/match-api.js';
import { CountingBudget, globMatch, matchValues, parseGlob } from '../../../src/sieve/match.js';

const budget = () => new CountingBudget(1e9);
const octet: Comparator = 'i;octet';
const casemap: Comparator = 'i;ascii-casemap';
const numeric: Comparator = 'i;ascii-numeric';
const m = (values: string[], keys: string[], spec: MatchSpec) => matchValues(values, keys, spec, budget());

// Header values of Pigeonhole's tests/match-types/matches.svtest.
const FROM = 'stephan+sieve@friep.example.com';
const BULL = '33333???a';
const SCORE = '**********';
const XSUBJ = 'Log for successful build of Dovecot.';
const SUBJ = 'make your money very fast!!!';
const XA = 'This is a TEST header';
const BULL2 = 'f fr fro frop frob frobn frobnitzn';

describe(':matches (RFC 5228 §2.7.1, Pigeonhole match-types/matches.svtest)', () => {
  // Patterns are as the Sieve strings read after unescaping: "\\?" in the script is \? here.
  const rows: Array<[string, string, boolean]> = [
    ['', '', true],
    ['', '*', true],
    ['', '?', false],
    [FROM, '*@fri*p*examp*.com', true],
    [FROM, '*@f*pex*mple.com', false],
    [FROM, 'stephan+sieve@friep.*', true],
    [FROM, 'stepan+sieve@friep.*', false],
    [FROM, '*+sieve@friep.example.com', true],
    [FROM, '*+sieve@friep.example.om', false],
    [FROM, 'stephan+sieve?friep.example.com', true],
    [FROM, 'stephan+sieve?fiep.example.com', false],
    [FROM, '?tephan+sieve@friep.example.com', true],
    [FROM, '?tephan+sievefriep.example.com', false],
    [FROM, 'stephan+sieve@friep.example.co?', true],
    [FROM, 'sephan+sieve@friep.example.co?', false],
    [FROM, '?t?phan?sieve?fri?p.exampl?.co?', true],
    [FROM, '?t?phan?sieve?fiep.exam?le.co?', false],
    [BULL, '33333\\?\\?\\??', true],
    [BULL, '33333\\?\\?\\?', false],
    [BULL, '33333*\\?\\??', true],
    [BULL, '*\\?\\?\\?a', true],
    [BULL, '*3333\\?\\?\\?a', true],
    [SCORE, '\\*\\*\\*\\*\\**', true],
    [SCORE, '\\*'.repeat(10), true],
    [SCORE, '\\*'.repeat(11), false],
    [SCORE, '\\*\\*\\***\\*\\*', true],
    [SCORE, '\\*?\\*?\\*?\\*?\\*?', true],
    [SCORE, '\\*?\\*?\\*?\\*?\\*??', false],
    [BULL, '\\*3333\\?\\?\\?a', false],
    [BULL, '33333\\?\\?\\?aa', false],
    [BULL, '\\f3333\\?\\?\\?a', false],
    [XSUBJ, 'Log for *??????????? build of *', false],
    [XSUBJ, 'Log for *?????????? build of *', true],
    [XSUBJ, 'Log for *? build of *', true],
    [XSUBJ, 'Log for ???????????* build of *', false],
    [XSUBJ, 'Log for ??????????* build of *', true],
    [XSUBJ, 'Log for ?* build of *', true],
    [SUBJ, 'make your *', true],
    [SUBJ, '* very fast!!!', true],
    [SUBJ, '* very fast!!', false],
    ['sirius@example.org', 'sirius@example.org', true],
    ['sirius@example.org', 'example.org', false],
    ['sirius@example.org', 'sirius', false],
    ['X', '*?X', false],
    ['Slashy slash\\', '*slash\\\\', true],
    ['a\\', 'a\\', true], // a lone trailing backslash is a literal backslash
    ['café', 'caf?', true], // '?' is one character, not one byte
    ['😀', '?', true],
    ['ab', '**', true],
    ['ab', 'a**b', true],
  ];
  it.each(rows)('%j :matches %j → %s', (value, key, want) => {
    expect(m([value], [key], { type: 'matches', comparator: octet }).matched).toBe(want);
  });
});

describe('comparators in :contains / :matches (Pigeonhole comparators/core.svtest, match-types/contains.svtest, is.svtest)', () => {
  const rows: Array<['is' | 'contains' | 'matches', Comparator, string, string, boolean]> = [
    ['contains', octet, XA, 'TEST', true],
    ['contains', octet, XA, 'test', false],
    ['matches', octet, XA, 'This*TEST*r', true],
    ['matches', octet, XA, 'ThIs*tEsT*R', false],
    ['contains', casemap, XA, 'TEST', true],
    ['contains', casemap, XA, 'test', true],
    ['matches', casemap, XA, 'This*TEST*r', true],
    ['matches', casemap, XA, 'ThIs*tEsT*R', true],
    ['contains', casemap, BULL2, '', true],
    ['contains', casemap, '', '', true],
    ['contains', casemap, 'stephan@example.org', 'stephan@example.org', true],
    ['contains', casemap, 'stephan@example.org', 'stephan', true],
    ['contains', casemap, 'stephan@example.org', 'example.org', true],
    ['contains', casemap, 'stephan@example.org', '@', true],
    ['contains', casemap, BULL2, 'frobnitzn', true],
    ['contains', casemap, 'stephan@example.org', 'EXAMPLE', true],
    ['contains', casemap, 'test@dovecot.example.net', 'frob@example.com', false],
    ['contains', casemap, BULL2, 'frobnitzm', false],
    ['is', casemap, 'Stephan Bosch <stephan@example.org>', '', false],
    ['is', casemap, '', '', true],
    ['is', casemap, 'Value', 'value', true],
    ['is', octet, 'Value', 'value', false],
    ['is', casemap, 'Ünïcode', 'üNÏCODE', false], // non-ASCII letters never fold
    ['is', numeric, '007', '7', true],
    ['is', numeric, 'abc', 'xyz', true], // two "infinities" are equal (RFC 4790 §9.1)
  ];
  it.each(rows)(':%s %s %j %j → %s', (type, comparator, value, key, want) => {
    expect(m([value], [key], { type, comparator }).matched).toBe(want);
  });
});

describe('match variables of :matches (RFC 5229 §3.2, Pigeonhole variables/match.svtest)', () => {
  const rows: Array<[string, string, Comparator, string[] | null]> = [
    ['frop:frup:frop', '*:*:*', octet, ['frop:frup:frop', 'frop', 'frup', 'frop']],
    ['frop.......frop.........frop....', '?*frop*', octet, ['frop.......frop.........frop....', 'f', 'rop.......', '.........frop....']],
    ['test', '*', octet, ['test', 'test']],
    ['a b c d e f g', '? ? ? ? ? ? ?', octet, ['a b c d e f g', 'a', 'b', 'c', 'd', 'e', 'f', 'g']],
    ['puk pok puk pok', 'pu*ok', octet, ['puk pok puk pok', 'k pok puk p']],
    ['the cat jumps off the table', 'the * jumps off the *', octet, ['the cat jumps off the table', 'cat', 'table']],
    ['the dog barks at the cat in the alley', 'the * barks at the * in the store', octet, null],
    ['Dovecot Mailing List <dovecot@dovecot.example.net>', '*<*@*', casemap, ['Dovecot Mailing List <dovecot@dovecot.example.net>', 'Dovecot Mailing List ', 'dovecot', 'dovecot.example.net>']],
    ['[acme-users] [fwd] version 1.0 is out', '[*] *', casemap, ['[acme-users] [fwd] version 1.0 is out', 'acme-users', '[fwd] version 1.0 is out']],
    ['coyote@ACME.Example.COM', 'coyote@**.com', casemap, ['coyote@ACME.Example.COM', '', 'ACME.Example']],
    ['Test of general stupidity', 'Test of *', octet, ['Test of general stupidity', 'general stupidity']],
    ['Test of general stupidity', 'of *', octet, null],
    ['toptoptop', '*top', octet, ['toptoptop', 'toptop']],
    ['ik ben een tukker met grote oren en een lelijke broek.', 'ik ben * met * en *.', octet, ['ik ben een tukker met grote oren en een lelijke broek.', 'een tukker', 'grote oren', 'een lelijke broek']],
    ['beter van niet?', '*\\?', octet, ['beter van niet?', 'beter van niet']],
    ['zero:one:zero|three;one;zero/five', '*one?zero?five', octet, ['zero:one:zero|three;one;zero/five', 'zero:one:zero|three;', ';', '/']],
    ['frop', '??op', octet, ['frop', 'f', 'r']],
    ['frop', 'fr??', octet, ['frop', 'o', 'p']],
    ['klopfropstroptop', '*fr??*top', octet, ['klopfropstroptop', 'klop', 'o', 'p', 'strop']],
    ['klopfropstroptop', '?*fr??*top', octet, ['klopfropstroptop', 'k', 'lop', 'o', 'p', 'strop']],
    ['klopfropstroptop', '*?op', octet, ['klopfropstroptop', 'klopfropstrop', 't']],
    ['klopfropstroptop', '*?op*', octet, ['klopfropstroptop', 'k', 'l', 'fropstroptop']],
    ['Log for failed build of dovecot_2:1.2.alpha5-0~auto+159 (dist=hardy)', 'Log for ?* build of *', casemap, ['Log for failed build of dovecot_2:1.2.alpha5-0~auto+159 (dist=hardy)', 'f', 'ailed', 'dovecot_2:1.2.alpha5-0~auto+159 (dist=hardy)']],
    ['foo1234@example.com', '*??@foobar.example.com', octet, null],
    ['foo1234@foobar.example.com', '*??@foobar.example.com', octet, ['foo1234@foobar.example.com', 'foo12', '3', '4']],
    ['d@example.jp', '*?@example.com', octet, null],
    ['d@example.com', '*?@example.com', octet, ['d@example.com', '', 'd']],
    ['  pending ', '* pending *', octet, ['  pending ', ' ', '']],
    ['Subject: CAPS', 'subject: *', casemap, ['Subject: CAPS', 'CAPS']], // captures come from the text as written
  ];
  it.each(rows)('%j :matches %j (%s)', (value, key, comparator, want) => {
    const r = m([value], [key], { type: 'matches', comparator });
    expect(r.matched).toBe(want !== null);
    expect(r.captures).toEqual(want ?? undefined);
  });

  it('"Alphabet ?": every ? is its own variable', () => {
    const r = m(['The quick brown fox jumps over the lazy dog.'], ['T?? ????? ????? ?o? ?u??? o?er ?he ???? ?o?.'], { type: 'matches', comparator: octet });
    const c = r.captures ?? [];
    const order = [22, 8, 6, 25, 2, 13, 26, 1, 5, 15, 7, 21, 16, 12, 10, 17, 3, 9, 18, 20, 4, 19, 11, 14, 24, 23];
    expect(order.map((i) => c[i]).join('')).toBe('abcdefghijklmnopqrstuvwxyz');
    expect(m(['The quick brown fox jumps over the lazy dog.'], ['T?? ????? ?w??? ?o? ?u??? o?er ?he ???? ?o?.'], { type: 'matches', comparator: octet }).matched).toBe(false);
  });

  it('keeps at most 32 match values (${0}..${31}, Pigeonhole)', () => {
    const r = m(['x'.repeat(40)], ['?'.repeat(40)], { type: 'matches', comparator: octet });
    expect(r.captures).toHaveLength(32);
  });

  it('the first value that matches wins, with the first key it matches (values are the outer loop)', () => {
    const r = m(['xa', 'ya'], ['y*', 'x*'], { type: 'matches', comparator: octet });
    expect(r.captures).toEqual(['xa', 'a']);
  });

  it('captures: false leaves them out', () => {
    expect(matchValues(['ab'], ['a*'], { type: 'matches', comparator: octet }, budget(), { captures: false })).toEqual({ matched: true });
  });

  it('truncates a capture to the variable size limit (4 KiB)', () => {
    const r = m(['x'.repeat(10000)], ['*'], { type: 'matches', comparator: octet });
    expect(r.captures?.[1]).toHaveLength(4096);
  });
});

describe(':regex through matchValues (Pigeonhole extensions/regex/*.svtest)', () => {
  it('matches case-insensitively with i;ascii-casemap and captures ${1}', () => {
    const keys = ['stephan(\\+.*)?@it\\.example\\.com', 'stephan(\\+.*)?@friep\\.example\\.com'];
    expect(m(['Stephan+sieve@Friep.example.com'], keys, { type: 'regex', comparator: casemap })).toEqual({
      matched: true,
      captures: ['Stephan+sieve@Friep.example.com', '+sieve'],
    });
    expect(m(['Stephan+sieve@Friep.example.com'], keys, { type: 'regex', comparator: octet }).matched).toBe(false);
  });
  it('a key that does not compile never matches, and the others are still tried', () => {
    expect(m(['abc'], ['(', 'b'], { type: 'regex', comparator: octet })).toEqual({ matched: true, captures: ['b'] });
  });
  it('26 groups give ${1}..${26} ("Many match values")', () => {
    const r = m(['abcdefghijklmnopqrstuvwxyz'], ['(.)'.repeat(26)], { type: 'regex', comparator: octet });
    expect(r.captures?.slice(1).join('')).toBe('abcdefghijklmnopqrstuvwxyz');
  });
  it('Basic match values 1 and 2', () => {
    const sender = 'antlr-interest-bounces@ant.example.com';
    expect(m([sender], ['([^-@]*)-([^-@]*)(-bounces)?@ant.example.com'], { type: 'regex', comparator: casemap }).captures).toEqual([sender, 'antlr', 'interest', '-bounces']);
    expect(m([sender], ['(.*>[ \\t]*,?[ \\t]*)?([^-@]*)-([^-@]*)(-bounces)?@ant.example.com'], { type: 'regex', comparator: casemap }).captures).toEqual([sender, '', 'antlr', 'interest', '-bounces']);
  });
});

describe(':value and :count (RFC 5231, Pigeonhole match-types/relational.svtest)', () => {
  const value = (values: string[], rel: Relation, keys: string[], comparator: Comparator = numeric) => m(values, keys, { type: 'value', relation: rel, comparator }).matched;
  const count = (values: string[], rel: Relation, keys: string[], comparator: Comparator = numeric) => m(values, keys, { type: 'count', relation: rel, comparator }).matched;
  const letters = [...'abcdefghijklmnopqrstuvwxyz'];
  it.each([
    [[''], 'eq', ['40'], false],
    [['300'], 'gt', [''], false],
    [['300'], 'eq', ['2'], false],
    [['300'], 'lt', ['2'], false],
    [['300'], 'le', ['300'], true],
    [['300'], 'le', ['302'], true],
    [['300'], 'le', ['00302'], true],
    [['1000', '20'], 'le', ['300'], true],
    [['1000', '20'], 'lt', ['3'], false],
    [['1000', '20'], 'gt', ['3000'], false],
    [['1000', '20'], 'gt', ['3000', '30'], true],
    [['1000', '20'], 'lt', ['3', '19'], false],
    [['1000', '20'], 'gt', ['3000', '1001'], false],
    [[], 'ne', ['1'], false], // no values: nothing to compare
  ] as Array<[string[], Relation, string[], boolean]>)(':value %j %s %j → %s', (values, rel, keys, want) => {
    expect(value(values, rel, keys)).toBe(want);
  });
  it(':value with i;octet: "abcdzyx" gt "aaaaaaa"', () => expect(value(['abcdzyx'], 'gt', ['aaaaaaa'], octet)).toBe(true));
  it.each([
    [['a', 'b'], 'ne', ['2'], false],
    [['a', 'b'], 'ge', ['2'], true],
    [['a', 'b'], 'ge', ['002'], true],
    [letters, 'lt', ['4', '5', '6', '10', '20'], false],
    [letters, 'lt', ['4', '5', '6', '10', '20', '100'], true],
    [[], 'eq', ['0'], true],
    [['a', '', 'c'], 'eq', ['3'], true], // counts what it is given: the string test drops '' first (RFC 5229 §5)
  ] as Array<[string[], Relation, string[], boolean]>)(':count %j %s %j → %s', (values, rel, keys, want) => {
    expect(count(values, rel, keys)).toBe(want);
  });
  it(':count uses the comparator it is given: with i;ascii-casemap "10" sorts before "9"', () => {
    const ten = letters.slice(0, 10);
    expect(count(ten, 'gt', ['9'], casemap)).toBe(false);
    expect(count(ten, 'gt', ['9'], numeric)).toBe(true);
  });
});

describe('errors and budget', () => {
  it.each(['contains', 'matches', 'regex'] as const)('i;ascii-numeric with :%s is a runtime error', (type) => {
    expect(() => m(['1'], ['1'], { type, comparator: numeric })).toThrow(SieveRuntimeError);
  });
  it('CountingBudget counts and throws SieveRuntimeError past its limit', () => {
    const b = new CountingBudget(10);
    b.spend(10);
    expect(b.used).toBe(10);
    expect(() => b.spend(1)).toThrow(SieveRuntimeError);
  });
  it('matching long values is charged', () => {
    expect(() => matchValues(['x'.repeat(100_000)], ['y'], { type: 'contains', comparator: octet }, new CountingBudget(1000))).toThrow(SieveRuntimeError);
  });
  it.each([
    ['*a*a*a*a*a*b', 'a'.repeat(5000)],
    ['*?*?*?*?*?*?*?*?*?*?x', 'a'.repeat(5000)],
  ])(':matches %j on 5000 characters stays within text × pattern steps', (key, value) => {
    const b = new CountingBudget(1e9);
    expect(matchValues([value], [key], { type: 'matches', comparator: octet }, b).matched).toBe(false);
    expect(b.used).toBeLessThanOrEqual(2 * value.length * key.length);
  });
});

describe('parseGlob / globMatch', () => {
  it.each([
    ['a\\*b', ['a', '*', 'b']],
    ['\\\\', ['\\']],
    ['*?', [2, 1]],
  ])('parseGlob(%j)', (p, want) => expect(parseGlob(p)).toEqual(want));
  it('globMatch returns one capture per wildcard', () => {
    expect(globMatch(parseGlob('*-?'), 'ab-c', 'ab-c', budget())).toEqual(['ab', 'c']);
  });
});
