import { describe, expect, it } from 'vitest';
import { parseDuration, parseSize } from '../../../src/config/units.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['0ms', 0],
    ['1ms', 1],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['30', 30_000], // a bare number means seconds
    ['0', 0],
    ['007s', 7_000],
    ['1.5s', 1_500],
    ['1.5h', 5_400_000],
    ['0.25s', 250],
    ['30 s', 30_000],
    ['  30s  ', 30_000],
    ['2.5', 2_500],
    ['9007199254740991ms', Number.MAX_SAFE_INTEGER],
  ])('%j is %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    ['5x', /"5x" is not a duration \(use e\.g\. .*30s, 5m/],
    ['', /empty string is not a duration/],
    ['   ', /empty string is not a duration/],
    ['-5s', /negative/],
    ['-1', /negative/],
    ['s', /not a duration/],
    ['ms', /not a duration/],
    ['5S', /not a duration/], // case-sensitive: "5M" would be ambiguous (months?)
    ['5M', /not a duration/],
    ['5 min', /not a duration/],
    ['5sec', /not a duration/],
    ['1s30m', /not a duration/],
    ['1e3', /not a duration/],
    ['+5s', /not a duration/],
    ['.5s', /not a duration/],
    ['5.s', /not a duration/],
    ['0x10', /not a duration/],
    ['1,000s', /not a duration/],
    ['1.5ms', /not a whole number of milliseconds/],
    ['0.0001s', /not a whole number of milliseconds/],
    ['9007199254740992ms', /too large/],
    ['99999999999999999999999d', /too large/],
    ['Infinity', /not a duration/],
    ['NaN', /not a duration/],
  ])('rejects %j', (input, message) => {
    expect(() => parseDuration(input)).toThrow(message);
  });

  it('quotes the input in its message', () => {
    expect(() => parseDuration('5x')).toThrow('"5x" is not a duration');
  });
});

describe('parseSize', () => {
  const K = 1024;
  it.each<[string | number, number]>([
    ['512', 512],
    [512, 512],
    [0, 0],
    ['0', 0],
    ['512K', 512 * K],
    ['512k', 512 * K],
    ['50M', 50 * K * K],
    ['50m', 50 * K * K],
    ['50MB', 50 * K * K],
    ['50mb', 50 * K * K],
    ['50MiB', 50 * K * K],
    ['50 M', 50 * K * K],
    [' 1G ', K ** 3],
    ['1g', K ** 3],
    ['2T', 2 * K ** 4],
    ['512B', 512],
    ['512b', 512],
    ['1.5K', 1536],
    ['0.5M', 512 * K],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    ['8191T', 8191 * K ** 4],
  ])('%j is %d bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each<[string | number, RegExp]>([
    ['', /empty string is not a size/],
    ['  ', /empty string is not a size/],
    ['50X', /"50X" is not a size \(use e\.g\./],
    ['M', /not a size/],
    ['MB', /not a size/],
    ['50MBB', /not a size/],
    ['50BM', /not a size/],
    ['512iB', /not a size/],
    ['50P', /not a size/],
    ['1e6', /not a size/],
    ['+5', /not a size/],
    ['.5M', /not a size/],
    ['0x10', /not a size/],
    ['-1', /negative/],
    ['-50M', /negative/],
    [-1, /negative/],
    [1.5, /not a whole number of bytes/],
    [Number.NaN, /not a whole number of bytes/],
    [Number.POSITIVE_INFINITY, /not a whole number of bytes/],
    ['1.5', /not a whole number of bytes/],
    ['0.1K', /not a whole number of bytes/],
    [Number.MAX_SAFE_INTEGER + 1, /too large/],
    ['8192T', /too large/],
    ['99999999999999999999', /too large/],
  ])('rejects %j', (input, message) => {
    expect(() => parseSize(input)).toThrow(message);
  });
});
