import { describe, expect, it } from 'vitest';
import {
  asciiUpper,
  comparatorSupports,
  compareCodePoints,
  compareNumeric,
  parseComparator,
  relationHolds,
} from '../../../src/sieve/comparators.js';
import type { Comparator, MatchType, Relation } from '../../../src/sieve/match-api.js';

// Pigeonhole tests/extensions/relational/comparators.svtest: string :comparator C :value R value key.
describe('relationHolds (RFC 5231 §4, Pigeonhole relational/comparators.svtest)', () => {
  const rows: Array<[Comparator, Relation, string, string, boolean]> = [
    ['i;octet', 'eq', '', '', true],
    ['i;octet', 'gt', 'a', '', true],
    ['i;octet', 'lt', '', 'a', true],
    ['i;octet', 'gt', 'ab', 'a', true],
    ['i;octet', 'lt', 'a', 'ab', true],
    ['i;octet', 'gt', 'ba', 'ab', true],
    ['i;octet', 'lt', 'ab', 'ba', true],
    ['i;octet', 'eq', 'abcd', 'abcd', true],
    ['i;octet', 'lt', 'abcce', 'abcde', true],
    ['i;octet', 'gt', 'abcde', 'abcce', true],
    ['i;octet', 'lt', 'abcce', 'abcd', true],
    ['i;octet', 'gt', 'abcd', 'abcce', true],
    ['i;octet', 'lt', 'Z', 'b', true],
    ['i;octet', 'eq', 'A', 'a', false],
    ['i;octet', 'ne', 'A', 'a', true],
    ['i;ascii-casemap', 'eq', '', '', true],
    ['i;ascii-casemap', 'gt', 'a', '', true],
    ['i;ascii-casemap', 'lt', '', 'a', true],
    ['i;ascii-casemap', 'gt', 'ab', 'a', true],
    ['i;ascii-casemap', 'lt', 'a', 'ab', true],
    ['i;ascii-casemap', 'gt', 'ba', 'ab', true],
    ['i;ascii-casemap', 'lt', 'ab', 'ba', true],
    ['i;ascii-casemap', 'eq', 'abcd', 'abcd', true],
    ['i;ascii-casemap', 'lt', 'abcce', 'abcde', true],
    ['i;ascii-casemap', 'gt', 'abcde', 'abcce', true],
    ['i;ascii-casemap', 'lt', 'abcce', 'abcd', true],
    ['i;ascii-casemap', 'gt', 'abcd', 'abcce', true],
    ['i;ascii-casemap', 'gt', 'Z', 'b', true],
    ['i;ascii-casemap', 'eq', 'ABC', 'abc', true],
    ['i;ascii-casemap', 'eq', 'É', 'é', false], // only ASCII letters fold
    ['i;ascii-casemap', 'gt', '_', 'a', true], // RFC 4790 §9.2 folds to upper case: '_' (0x5F) > 'A' (0x41)
    ['i;ascii-numeric', 'eq', '', '', true],
    ['i;ascii-numeric', 'eq', 'a', '', true],
    ['i;ascii-numeric', 'eq', '', 'a', true],
    ['i;ascii-numeric', 'eq', 'a', 'b', true],
    ['i;ascii-numeric', 'eq', 'b', 'a', true],
    ['i;ascii-numeric', 'eq', 'a', '0', false],
    ['i;ascii-numeric', 'eq', '0', 'a', false],
    ['i;ascii-numeric', 'ne', 'a', '0', true],
    ['i;ascii-numeric', 'ne', '0', 'a', true],
    ['i;ascii-numeric', 'lt', 'a', '0', false],
    ['i;ascii-numeric', 'lt', '0', 'a', true],
    ['i;ascii-numeric', 'gt', 'a', '0', true],
    ['i;ascii-numeric', 'gt', '0', 'a', false],
    ['i;ascii-numeric', 'ge', 'a', '0', true],
    ['i;ascii-numeric', 'ge', '0', 'a', false],
    ['i;ascii-numeric', 'le', 'a', '0', false],
    ['i;ascii-numeric', 'le', '0', 'a', true],
    ['i;ascii-numeric', 'eq', '0', '0', true],
    ['i;ascii-numeric', 'eq', '2', '2', true],
    ['i;ascii-numeric', 'gt', '2', '1', true],
    ['i;ascii-numeric', 'lt', '1', '2', true],
    ['i;ascii-numeric', 'lt', '65535', '65635', true],
    ['i;ascii-numeric', 'gt', '65635', '65535', true],
    ['i;ascii-numeric', 'eq', '0', '000', true],
    ['i;ascii-numeric', 'eq', '000', '0', true],
    ['i;ascii-numeric', 'eq', '02', '0002', true],
    ['i;ascii-numeric', 'eq', '0002', '02', true],
    ['i;ascii-numeric', 'gt', '2', '001', true],
    ['i;ascii-numeric', 'lt', '001', '2', true],
    ['i;ascii-numeric', 'gt', '002', '1', true],
    ['i;ascii-numeric', 'lt', '1', '002', true],
    // Leading digits only; numbers beyond 2^53 compare exactly.
    ['i;ascii-numeric', 'eq', '300abc', '300', true],
    ['i;ascii-numeric', 'lt', '12 apples', '9999', true],
    ['i;ascii-numeric', 'gt', '123456789012345678901234567890', '123456789012345678901234567889', true],
    ['i;ascii-numeric', 'gt', '300', '', false], // basic.svtest: "" is infinity
    ['i;ascii-numeric', 'eq', '', '40', false],
  ];
  it.each(rows)('%s: %j %s %j → %s', (cmp, rel, value, key, want) => {
    expect(relationHolds(rel, cmp, value, key)).toBe(want);
  });
});

describe('compareCodePoints (i;octet = UTF-8 byte order)', () => {
  it.each([
    ['a', 'b', -1],
    ['b', 'a', 1],
    ['', '', 0],
    ['\uffff', '😀', -1], // U+FFFF < U+1F600, though UTF-16 units say otherwise
    ['😀', '\ue000', 1],
    ['é', 'z', 1],
  ])('%j vs %j → %i', (a, b, want) => expect(Math.sign(compareCodePoints(a, b))).toBe(want));
});

describe('compareNumeric', () => {
  it.each([
    ['10', '9', 1],
    ['007', '7', 0],
    ['x', 'y', 0],
    ['x', '99999', 1],
  ])('%j vs %j → %i', (a, b, want) => expect(Math.sign(compareNumeric(a, b))).toBe(want));
});

describe('comparatorSupports (RFC 4790 §9.1: i;ascii-numeric has no substring operation)', () => {
  const rows: Array<[Comparator, MatchType, boolean]> = [
    ['i;octet', 'contains', true],
    ['i;octet', 'regex', true],
    ['i;ascii-casemap', 'matches', true],
    ['i;ascii-casemap', 'count', true],
    ['i;ascii-numeric', 'is', true],
    ['i;ascii-numeric', 'value', true],
    ['i;ascii-numeric', 'count', true],
    ['i;ascii-numeric', 'contains', false],
    ['i;ascii-numeric', 'matches', false],
    ['i;ascii-numeric', 'regex', false],
  ];
  it.each(rows)('%s with :%s → %s', (cmp, type, want) => expect(comparatorSupports(cmp, type)).toBe(want));
});

describe('helpers', () => {
  it('asciiUpper folds ASCII letters only', () => expect(asciiUpper('aBz-éÿ')).toBe('ABZ-éÿ'));
  it.each([
    ['i;octet', 'i;octet'],
    ['I;ASCII-CASEMAP', 'i;ascii-casemap'],
    ['i;unicode-casemap', undefined],
  ])('parseComparator(%j) → %j', (name, want) => expect(parseComparator(name)).toBe(want));
});
