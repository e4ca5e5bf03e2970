import { describe, expect, it } from 'vitest';
import { formatScanState, parseScanState } from '../../../src/quota/scan-state.js';
import type { ScanState } from '../../../src/quota/scan.js';

describe('parseScanState (tmp/mda-quota-scan is the user\'s: anything odd is "no progress")', () => {
  const good: ScanState = { cur: { ino: 12, mtimeMs: 1.5e12, bytes: 100, count: 3, after: 'a,S=1' }, '.Sent/new': { ino: 13, mtimeMs: 1.5e12, bytes: 0, count: 0 } };
  it('round-trips what saveScanState writes', () => {
    expect(parseScanState(formatScanState(good))).toEqual(good);
  });
  it.each<[string, string]>([
    ['not JSON', '{'],
    ['another version', JSON.stringify({ v: 2, dirs: {} })],
    ['no dirs', JSON.stringify({ v: 1 })],
    ['dirs is an array', JSON.stringify({ v: 1, dirs: [] })],
    ['a path that climbs out', JSON.stringify({ v: 1, dirs: { '../new': { ino: 1, mtimeMs: 1, bytes: 1, count: 1 } } })],
    ['a path that is not new/ or cur/', JSON.stringify({ v: 1, dirs: { tmp: { ino: 1, mtimeMs: 1, bytes: 1, count: 1 } } })],
    ['a nested folder path', JSON.stringify({ v: 1, dirs: { '.A/.B/cur': { ino: 1, mtimeMs: 1, bytes: 1, count: 1 } } })],
    ['negative bytes', JSON.stringify({ v: 1, dirs: { cur: { ino: 1, mtimeMs: 1, bytes: -5, count: 1 } } })],
    ['a float count', JSON.stringify({ v: 1, dirs: { cur: { ino: 1, mtimeMs: 1, bytes: 5, count: 1.5 } } })],
    ['bytes beyond 2^53', JSON.stringify({ v: 1, dirs: { cur: { ino: 1, mtimeMs: 1, bytes: 2 ** 54, count: 1 } } })],
    ['a string ino', JSON.stringify({ v: 1, dirs: { cur: { ino: '1', mtimeMs: 1, bytes: 5, count: 1 } } })],
    ['a numeric cursor', JSON.stringify({ v: 1, dirs: { cur: { ino: 1, mtimeMs: 1, bytes: 5, count: 1, after: 7 } } })],
    ['null', 'null'],
  ])('%s → undefined', (_name, text) => {
    expect(parseScanState(text)).toBeUndefined();
  });
  it('a key named __proto__ does not reach the prototype', () => {
    const s = parseScanState('{"v":1,"dirs":{"__proto__":{"ino":1,"mtimeMs":1,"bytes":1,"count":1}}}');
    expect(s).toBeUndefined();
  });
});
