import { describe, expect, it } from 'vitest';
import { SieveRuntimeError } from '../../../src/sieve/errors.js';
import { CountingBudget } from '../../../src/sieve/match.js';
import { MAX_DFA_STATES } from '../../../src/sieve/regex-dfa.js';
import { MAX_CAPTURE_GROUPS, MAX_PATTERN_LENGTH } from '../../../src/sieve/regex-parse.js';
import { compileRegex, REGEX_CACHE_SIZE, regexSearch, type CompiledRegex } from '../../../src/sieve/regex.js';
import { MAX_MATCH_VALUES } from '../../../src/sieve/variables.js';

function compile(pattern: string, icase = false): CompiledRegex {
  const r = compileRegex(pattern, icase);
  if (!r.ok) throw new Error(`${pattern}: ${r.why}`);
  return r.regex;
}
const search = (pattern: string, text: string, icase = false) => regexSearch(compile(pattern, icase), text, new CountingBudget(1e9));

/**
 * [pattern, text, case-insensitive, expected ${0}..${n} or null]. Expectations
 * follow POSIX ERE as glibc's regexec reports it (leftmost-longest), except
 * where noted; rows marked `js` are plain enough that JS RegExp (leftmost-first)
 * must agree, and the test checks that too.
 */
type Row = [string, string, boolean, string[] | null, 'js'?];
const rows: Row[] = [
  // literals, search anywhere
  ['abc', 'xxabcxx', false, ['abc'], 'js'],
  ['abc', 'xxabxcx', false, null, 'js'],
  ['', '', false, [''], 'js'],
  ['', 'abc', false, [''], 'js'],
  // leftmost, then longest (POSIX); JS would stop at the first alternative
  ['a|ab', 'xabc', false, ['ab']],
  ['b|ab', 'ab', false, ['ab']],
  ['x*', 'abc', false, [''], 'js'],
  ['(a|ab)(c|bcd)(d*)', 'abcd', false, ['abcd', 'a', 'bcd', '']], // POSIX would say (ab)(c)(d): documented difference
  // repetition
  ['b+', 'abbbc', false, ['bbb'], 'js'],
  ['ab?c', 'ac', false, ['ac'], 'js'],
  ['a{2}', 'aaa', false, ['aa'], 'js'],
  ['a{2,}', 'aaaa', false, ['aaaa'], 'js'],
  ['a{1,3}', 'aaaa', false, ['aaa'], 'js'],
  ['a{,2}', 'aaa', false, ['aa']], // glibc's {,n}
  ['a{0}b', 'ab', false, ['b'], 'js'],
  ['(ab){2}', 'abababx', false, ['abab', 'ab'], 'js'],
  ['a**', 'aa', false, ['aa']],
  ['x(a|b)*?', 'xab', false, ['xab', 'b']], // ERE has no lazy quantifier: *? is (e*)?
  ['a{', 'a{', false, ['a{']], // a '{' that starts no bound is literal
  ['a{x}', 'a{x}', false, ['a{x}']],
  // anchors: ^ and $ are anchors anywhere in an ERE
  ['^abc$', 'abc', false, ['abc'], 'js'],
  ['^abc$', 'abcd', false, null, 'js'],
  ['^b', 'ab', false, null, 'js'],
  ['a$', 'aba', false, ['a'], 'js'],
  ['a^b', 'a^b', false, null],
  ['a\\^b', 'a^b', false, ['a^b'], 'js'],
  ['x$|^y', 'yx', false, ['y'], 'js'],
  // bracket expressions
  ['[abc]+', 'xxbcay', false, ['bca'], 'js'],
  ['[^abc]+', 'abxyzc', false, ['xyz'], 'js'],
  ['[a-c]+', 'xxbcad', false, ['bca'], 'js'],
  ['[]a]+', 'x]a]', false, [']a]']],
  ['[^]a]', 'a]b', false, ['b']],
  ['[a-]+', 'xa-a', false, ['a-a'], 'js'],
  ['[\\t]+', 'x\\tt', false, ['\\tt']], // a backslash is an ordinary character in a bracket (POSIX)
  ['[[:digit:]]+', 'ab123c', false, ['123']],
  ['[[:alpha:][:digit:]]+', '--a1b2--', false, ['a1b2']],
  ['[[:space:]]+', 'a \t\nb', false, [' \t\n']],
  ['[[:upper:]]+', 'abCDe', false, ['CD']],
  ['[[:lower:]]+', 'ABcdE', false, ['cd']],
  ['[[:punct:]]+', 'a!?b', false, ['!?']],
  ['[[:xdigit:]]+', 'xx0fAgz', false, ['0fA']],
  ['[[:alnum:]_]+', '-a_1-', false, ['a_1']],
  ['[[:blank:]]', 'a\tb', false, ['\t']],
  ['[[:cntrl:]]', 'a\x01b', false, ['\x01']],
  ['[[:print:]]+', '\x01ab c\x02', false, ['ab c']],
  ['[[:graph:]]+', ' ab c', false, ['ab']],
  ['[[=a=]]', 'ba', false, ['a']],
  ['[[.-.]]', 'a-', false, ['-']],
  ['[a-[.z.]]+', '-az', false, ['az']],
  // case-insensitive (REG_ICASE, for i;ascii-casemap)
  ['ABC', 'xabcx', true, ['abc']],
  ['abc', 'xABCx', true, ['ABC']],
  ['[a-c]+', 'xABCx', true, ['ABC']],
  ['[[:upper:]]+', 'abc', true, ['abc']],
  ['[^a]', 'Ab', true, ['b']],
  ['é', 'É', true, null], // ASCII letters only
  // any character, escapes
  ['a.b', 'a\nb', false, ['a\nb']], // no REG_NEWLINE: '.' matches a newline
  ['a\\.b', 'axb', false, null, 'js'],
  ['a\\.b', 'a.b', false, ['a.b'], 'js'],
  ['\\d', 'd1', false, ['d']], // glibc has no \d: it is a 'd'
  ['\\n', 'n', false, ['n']],
  ['\\w+', '-a_b1 c', false, ['a_b1'], 'js'],
  ['\\W+', 'ab-+c', false, ['-+'], 'js'],
  ['\\s+', 'a \t b', false, [' \t '], 'js'],
  ['\\S+', '  ab ', false, ['ab'], 'js'],
  ['\\bfoo\\b', 'a foo b', false, ['foo'], 'js'],
  ['\\bfoo\\b', 'afoo b', false, null, 'js'],
  ['\\Bo', 'foo', false, ['o'], 'js'],
  ['\\<foo\\>', 'a foo', false, ['foo']],
  ['\\<oo', 'foo', false, null],
  ['\\`a', 'ab', false, ['a']],
  ["b\\'", 'ab', false, ['b']],
  // groups
  ['(a)(b)?(c)', 'ac', false, ['ac', 'a', '', 'c']],
  ['((a)(b))', 'ab', false, ['ab', 'ab', 'a', 'b'], 'js'],
  ['(a|b)*', 'abab', false, ['abab', 'b'], 'js'],
  ['(a*)+', 'b', false, ['', '']],
  ['(a*)(a*)', 'aa', false, ['aa', 'aa', ''], 'js'],
  ['(.*)(.*)', 'ab', false, ['ab', 'ab', ''], 'js'],
  ['()', 'x', false, ['', ''], 'js'],
  ['a||b', 'b', false, ['b']],
  // alternatives sharing prefixes (the DFAs see them merged, the captures do not)
  ['abc|abd|x', 'zabd', false, ['abd'], 'js'],
  ['(foo|foobar|fob)', 'foobar', false, ['foobar', 'foobar']],
  ['\\b(cat|car|cart)\\b', 'a cart', false, ['cart', 'cart']],
  ['(a|ab|abc)*d', 'xabcabd', false, ['abcabd', 'ab']],
  ['(ab|a)(bc|c)?', 'abc', false, ['abc', 'ab', 'c']],
  ['VIAGRA|cialis|viagra pills', 'Buy Viagra Pills now', true, ['Viagra Pills']],
  ['|a', 'a', false, ['a']],
  ['the (.*) jumps off the (.*)', 'the cat jumps off the table', false, ['the cat jumps off the table', 'cat', 'table'], 'js'],
  ['the (.*) barks at the (.*) in the store', 'the dog barks at the cat in the alley', false, null, 'js'],
  // characters are code points
  ['a.c', 'a😀c', false, ['a😀c']],
  ['^.{4}$', 'café', false, ['café']],
  ['[é]', 'café', false, ['é']],
  ['[^a]', '😀', false, ['😀']],
  ['\\b.', '😀x', false, ['x']], // an emoji is not a word character: the boundary is before x
];

describe('regexSearch (POSIX ERE, leftmost-longest)', () => {
  it.each(rows)('%j on %j (icase %s)', (pattern, text, icase, want, js) => {
    expect(search(pattern, text, icase)).toEqual(want);
    if (js) {
      const got = new RegExp(pattern, icase ? 'is' : 's').exec(text);
      expect(got === null ? null : [...got].map((c) => c ?? '')).toEqual(want);
    }
  });

  it('keeps the first 31 groups (with ${0}, the 32 match values of Pigeonhole)', () => {
    expect(MAX_CAPTURE_GROUPS + 1).toBe(MAX_MATCH_VALUES);
    const r = search('(.)'.repeat(40), 'x'.repeat(40));
    expect(r).toHaveLength(MAX_MATCH_VALUES);
  });

  it('finds the match even when the DFA state cache overflows and is flushed', () => {
    // [ab]*a[ab]{14}c needs a DFA state per window of 15 letters: far more than MAX_DFA_STATES.
    let seed = 42;
    const letters = (n: number) => Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 16) & 1 ? 'a' : 'b').join('');
    const text = `${letters(20_000)}a${letters(14)}c`;
    const re = compile('[ab]*a[ab]{14}c');
    expect(regexSearch(re, text, new CountingBudget(1e9))).toEqual([text]);
    expect(re.dfa.backward.flushes + re.dfa.forward.flushes).toBeGreaterThan(0);
    expect(MAX_DFA_STATES).toBeLessThan(20_000);
  });
});

describe('big patterns', () => {
  it('alternatives with a long shared prefix, or branching at every character, compile and run', () => {
    const long = `${'a'.repeat(4000)}b|${'a'.repeat(4000)}c`;
    expect(search(long, `x${'a'.repeat(4000)}c`)).toEqual([`${'a'.repeat(4000)}c`]);
    const stairs = Array.from({ length: 120 }, (_, i) => `${'a'.repeat(i)}b`).join('|');
    expect(search(`(${stairs})$`, `${'a'.repeat(200)}b`)).toEqual([`${'a'.repeat(119)}b`, `${'a'.repeat(119)}b`]);
  });
  it('a list of 800 words costs about one step per character once the DFA is warm', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 8;
    const word = () => Array.from({ length: 6 + (rnd() % 5) }, () => String.fromCharCode(97 + (rnd() % 26))).join('');
    const words = Array.from({ length: 800 }, word);
    const re = compile(`\\b(${words.join('|')})\\b`, true);
    const text = `${Array.from({ length: 5000 }, word).join(' ')} ${(words[400] as string).toUpperCase()}`;
    regexSearch(re, text, new CountingBudget(1e9));
    const warm = new CountingBudget(1e9);
    expect(regexSearch(re, text, warm)?.[1]?.toLowerCase()).toBeDefined();
    expect(warm.used).toBeLessThan(3 * text.length);
  });
});

describe('compileRegex cache', () => {
  it('returns the same compiled key for the same pattern and case mode (the validator warms it for the evaluator)', () => {
    const a = compileRegex('cache-me', false);
    expect(compileRegex('cache-me', false)).toBe(a);
    expect(compileRegex('cache-me', true)).not.toBe(a);
    expect(REGEX_CACHE_SIZE).toBeGreaterThan(0);
  });
});

describe('compileRegex errors (as glibc regcomp would refuse them, plus our limits)', () => {
  it.each([
    ['(', "unmatched '('"],
    [')', "unmatched ')'"],
    ['a)', "unmatched ')'"],
    ['[a', "unmatched '['"],
    ['[]', "unmatched '['"],
    ['sirius(\\+.*)?@drunk[]snipers.com', "unmatched '['"], // Pigeonhole regex/errors/compile.sieve
    ['*a', 'repetition operator without an operand'],
    ['a|*b', 'repetition operator without an operand'],
    ['sirius(+\\+.*)?@drunksnipers\\.com', 'repetition operator without an operand'],
    ['^*', 'repetition operator without an operand'],
    ['a{3,2}', 'n < m'],
    ['a{256}', 'above 255'],
    ['\\1', 'back-references'],
    ['(a)\\1', 'back-references'],
    ['a\\', 'trailing backslash'],
    ['[[:foo:]]', 'invalid character class [:foo:]'],
    ['[z-a]', 'invalid range end'],
    ['[a-[:alpha:]]', 'invalid range end'],
    ['[[.ab.]]', 'invalid collating element [.ab.]'],
    ['a*****', 'too many repetition operators'],
    ['(a{255}){255}', 'too large'],
    ['a'.repeat(MAX_PATTERN_LENGTH + 1), 'longer than'],
    ['('.repeat(300) + ')'.repeat(300), 'nested too deeply'],
  ])('%j → %s', (pattern, why) => {
    const r = compileRegex(pattern, false);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.why).toContain(why);
  });
});

describe('linear time: no backtracking (ReDoS)', () => {
  const MB = 1 << 20;
  const steps = (pattern: string, text: string, captures = true): { used: number; ms: number; r: string[] | null } => {
    const re = compile(pattern);
    const b = new CountingBudget(1e12);
    const t0 = performance.now();
    const r = regexSearch(re, text, b, { captures });
    return { used: b.used, ms: performance.now() - t0, r };
  };
  const aaa = (n: number) => 'a'.repeat(n) + '!';

  // (.*a){20} does match a run of a's (it asks for 20 of them anywhere): the no-match case is (.*a){20}$.
  it.each(['(a+)+$', '(a|aa)*b', '(.*a){20}$', '(x+x+)+y', '(a*)*b', '^(a|a?)+$'])('%j on 1 MiB of a + "!": no match, fast, steps linear', (pattern) => {
    const small = steps(pattern, aaa(20 * 1024));
    const big = steps(pattern, aaa(MB));
    expect(small.r).toBeNull();
    expect(big.r).toBeNull();
    expect(big.ms).toBeLessThan(2000);
    expect(big.used).toBeLessThan(50 * small.used * 1.2);
  });

  it('(.*a){20} on 1 MiB matches (leftmost-longest: the whole run) in linear time', () => {
    const small = steps('(.*a){20}', aaa(20 * 1024), false);
    const big = steps('(.*a){20}', aaa(MB), false);
    expect(big.r).toEqual(['a'.repeat(MB)]);
    expect(big.ms).toBeLessThan(2000);
    expect(big.used).toBeLessThan(50 * small.used * 1.2);
  });

  it('the capture pass is linear too (a Pike VM: program size × text, never more)', () => {
    const small = steps('(.*a){20}', aaa(2 * 1024));
    const big = steps('(.*a){20}', aaa(16 * 1024));
    expect(big.r?.[1]).toBe('a');
    expect(big.used).toBeLessThan(8 * small.used * 1.2);
  });

  it('an exhausted budget stops a search with SieveRuntimeError', () => {
    expect(() => regexSearch(compile('(.*a){20}$'), aaa(MB), new CountingBudget(100_000))).toThrow(SieveRuntimeError);
  });
});
