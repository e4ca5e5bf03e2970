import { describe, expect, it } from 'vitest';
import { SieveRuntimeError } from '../../../src/sieve/errors.js';
import {
  applyModifiers,
  checkModifiers,
  expandVariables,
  isVariableName,
  MAX_EXPANDED_LENGTH,
  MAX_VARIABLE_SIZE,
  modifierPrecedence,
  truncateUtf8,
  utf8Length,
  VariableScope,
} from '../../../src/sieve/variables.js';

const vars: Record<string, string> = {
  company: 'ACME',
  foo: 'bar',
  s: '$',
  name: 'Ethelbert',
  a: 'the monkey',
  'env.phase': 'during',
  'ns.sub.x': 'deep',
};
const lookup = (name: string): string | undefined => vars[name];
const matches = ['whole', 'one', 'two'];
const expand = (text: string) => expandVariables(text, lookup, matches);

describe('expandVariables (RFC 5229 §3, Pigeonhole variables/basic.svtest, quoting.svtest)', () => {
  it.each([
    ['${company}', 'ACME'],
    ['${COMPANY}', 'ACME'], // names are case-insensitive
    ['${CoMpAnY} Inc.', 'ACME Inc.'],
    ['${full}', ''], // unknown: empty
    ['[${qwerty}]', '[]'],
    ['[${20}]', '[]'], // unset match variable: empty
    ['${0}', 'whole'],
    ['${1}-${2}', 'one-two'],
    ['${0000002}', 'two'], // leading zeros (match.svtest "RFC - leading zeroes")
    ['${BAD${Company}', '${BADACME'],
    ['${President, ${Company} Inc.}', '${President, ACME Inc.}'],
    ['$', '$'],
    ['${', '${'],
    ['${a', '${a'],
    ['${$}', '${$}'],
    ['${%%%%}', '${%%%%}'],
    ['${0.s}', '${0.s}'], // a namespace must start with a letter
    ['&%${}!', '&%${}!'],
    ['${doh!}', '${doh!}'],
    ['${fo\\o}', '${fo\\o}'], // the lexer removes "\\o"; a backslash left here is an illegal identifier
    ['${s}{foo}', '${foo}'], // one pass: the result is not scanned again
    ['$${foo}', '$bar'],
    ['${foo}${foo}', 'barbar'],
    ['${ foo}', '${ foo}'],
    ['dear${name}', 'dearEthelbert'],
    ['${env.phase}', 'during'], // namespaced, known
    ['${ns.sub.x}', 'deep'],
    ['${env.unknown}', '${env.unknown}'], // namespaced, unknown: left as written
    ['${env.0}', '${env.0}'],
    ['${_private}', ''],
    ['${a1_b}', ''],
    [`\${${'x'.repeat(65)}}`, `\${${'x'.repeat(65)}}`], // longer than a name may be
    ['no variables at all', 'no variables at all'],
  ])('%j → %j', (text, want) => expect(expand(text)).toBe(want));

  it('stays linear on a string full of "${"', () => {
    const text = '${'.repeat(200_000);
    expect(expand(text)).toBe(text);
  });

  it(`caps the expansion at ${MAX_EXPANDED_LENGTH} characters`, () => {
    const big = expandVariables('${v}'.repeat(1000), () => 'x'.repeat(4096), []);
    expect(big.length).toBe(MAX_EXPANDED_LENGTH);
  });
});

describe('applyModifiers (RFC 5229 §4, Pigeonhole variables/modifiers.svtest)', () => {
  it.each([
    [['lower'], 'VaLuE', 'value'],
    [['upper'], 'vAlUe', 'VALUE'],
    [['lower', 'upperfirst'], 'vAlUe', 'Value'],
    [['upperfirst', 'lower'], 'vAlUe', 'Value'], // precedence, not the order written
    [['upper', 'lowerfirst'], 'VaLuE', 'vALUE'],
    [['lowerfirst', 'upper'], 'VaLuE', 'vALUE'],
    [['length'], 'VaLuE', '5'],
    [['length'], ' abcdefghijklmnopqrstuvwxyz:1234567890  ', '40'],
    [['length'], 'café😀', '5'], // characters, not bytes or UTF-16 units
    [['quotewildcard'], '^^***??**^^', '^^\\*\\*\\*\\?\\?\\*\\*^^'],
    [['quotewildcard'], 'a\\b', 'a\\\\b'],
    [['length', 'quotewildcard'], '^^***??**^^', '18'],
    [['quoteregex'], 'a.b*c(d)[e]{f}|g^h$i+j?k\\l', 'a\\.b\\*c\\(d\\)\\[e\\]\\{f\\}\\|g\\^h\\$i\\+j\\?k\\\\l'],
    [['upperfirst'], '', ''],
    [['upperfirst'], 'éa', 'éa'], // ASCII only, as Pigeonhole
    [['upper'], 'straße', 'STRAßE'],
    [['lower'], 'ÄB', 'Äb'],
    [[], 'as is', 'as is'],
  ])('%j on %j → %j', (mods, value, want) => expect(applyModifiers(value, mods)).toBe(want));

  it.each([
    [['lower', 'upperfirst', 'quotewildcard', 'length'], undefined],
    [['lower', 'upper'], 'conflict'],
    [['quotewildcard', 'quoteregex'], 'conflict'],
    [['lowerfirst', 'upperfirst'], 'conflict'],
    [['shout'], 'unknown modifier :shout'],
  ] as Array<[string[], string | undefined]>)('checkModifiers(%j) → %j', (mods, why) => {
    const r = checkModifiers(mods);
    if (why === undefined) expect(r).toBeUndefined();
    else expect(r).toContain(why);
  });

  it.each([
    ['lower', 40],
    ['upperfirst', 30],
    ['quoteregex', 20],
    ['length', 10],
    ['constructor', undefined],
  ])('modifierPrecedence(%j) → %j', (name, p) => expect(modifierPrecedence(name)).toBe(p));
});

describe('size limits (RFC 5229 §6, Pigeonhole variables/limits.svtest with a 4000-byte limit)', () => {
  const LIMIT = 4000;
  const digits = '012345678901234567890123456789012345678901234567\n'; // 49 bytes a line, as in limits.svtest
  it('"Variable size limit": truncated, never an error', () => {
    const a = truncateUtf8(digits.repeat(82), LIMIT);
    expect(a.length).toBe(4000);
    expect(applyModifiers(`${a}b`, [], LIMIT)).toHaveLength(4000);
    expect(applyModifiers(a + a, ['length'], LIMIT)).toBe('4000');
  });
  it('"Variable size limit UTF-8": a character that does not fit is dropped whole', () => {
    const b = truncateUtf8(digits.repeat(82), 3999);
    const withChar = applyModifiers(`${b}\u4e03`, [], LIMIT);
    expect(utf8Length(withChar)).toBe(3999);
    expect(utf8Length(applyModifiers(`${withChar}ccc`, [], LIMIT))).toBe(4000);
  });
  it('":quotewildcard variable size limit": never splits an escape', () => {
    const c = '*'.repeat(4000);
    expect(applyModifiers(c, ['quotewildcard'], LIMIT)).toBe('\\*'.repeat(2000));
    const d = applyModifiers(`0${c}`, [], LIMIT);
    expect(applyModifiers(d, ['quotewildcard'], LIMIT)).toBe(`0${'\\*'.repeat(1999)}`);
  });
  it.each([
    ['abc', 2, 'ab'],
    ['é', 1, ''],
    ['aé', 3, 'aé'],
    ['😀x', 4, '😀'],
    ['😀x', 3, ''],
  ])('truncateUtf8(%j, %i) → %j', (s, n, want) => expect(truncateUtf8(s, n)).toBe(want));
  it(`defaults to ${MAX_VARIABLE_SIZE} bytes`, () => expect(applyModifiers('x'.repeat(10_000), [])).toHaveLength(MAX_VARIABLE_SIZE));
});

describe('VariableScope', () => {
  it('is case-insensitive and truncates values', () => {
    const scope = new VariableScope();
    scope.set('Subject', 'x'.repeat(5000));
    expect(scope.get('SUBJECT')).toHaveLength(MAX_VARIABLE_SIZE);
    expect(expandVariables('${subject}', scope.lookup, [])).toHaveLength(MAX_VARIABLE_SIZE);
  });
  it('refuses a variable past the limit (a runtime error), but reassigning is fine', () => {
    const scope = new VariableScope(2);
    scope.set('a', '1');
    scope.set('b', '2');
    scope.set('A', '3');
    expect(scope.get('a')).toBe('3');
    expect(() => scope.set('c', '4')).toThrow(SieveRuntimeError);
  });
  it.each([
    ['name', true],
    ['_x1', true],
    ['1x', false],
    ['a.b', false],
    ['', false],
    ['x'.repeat(64), true],
    ['x'.repeat(65), false],
  ])('isVariableName(%j) → %s', (name, ok) => expect(isVariableName(name)).toBe(ok));
});
