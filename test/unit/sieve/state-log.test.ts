import { describe, expect, it } from 'vitest';
import { isLive, MAX_ENTRIES, parseStateLog, prune, record, serializeStateLog } from '../../../src/sieve/state-log.js';

const K1 = 'a'.repeat(40);
const K2 = 'b'.repeat(40);
const K3 = 'c'.repeat(40);

describe('state log', () => {
  it.each<[string, Array<[string, number]>]>([
    ['', []],
    [`${K1} 100\n${K2} 200\n`, [[K1, 100], [K2, 200]]],
    [`${K1} 100\n${K1} 50\n${K1} 300\n`, [[K1, 300]]],
    [`garbage\n${K1} x\n${K1}\n${K2} 1 2\nZZZZZZZZZZ 5\n${K3} 7`, [[K3, 7]]],
    [`  ${K1}   9  \r\n`, [[K1, 9]]],
  ])('parseStateLog(%j)', (text, want) => {
    expect([...parseStateLog(text)]).toEqual(want);
  });

  it('isLive: present and not yet expired', () => {
    const log = parseStateLog(`${K1} 100\n`);
    expect(isLive(log, K1, 99)).toBe(true);
    expect(isLive(log, K1, 100)).toBe(false);
    expect(isLive(log, K2, 0)).toBe(false);
  });

  it('record never shortens an entry and refuses keys that could break the format', () => {
    const log = parseStateLog('');
    record(log, K1, 100);
    record(log, K1, 50);
    expect(log.get(K1)).toBe(100);
    expect(() => record(log, 'a b\n', 1)).toThrow(/bad state key/);
  });

  it('prune drops expired entries and keeps the latest-expiring ones up to the cap', () => {
    const log = parseStateLog(`${K1} 10\n${K2} 30\n${K3} 20\n`);
    expect([...prune(log, 10)]).toEqual([[K2, 30], [K3, 20]]);
    expect([...prune(log, 0, 1)]).toEqual([[K2, 30]]);
  });

  it('a flood stays bounded at MAX_ENTRIES', () => {
    const log = parseStateLog('');
    for (let i = 0; i < MAX_ENTRIES + 500; i++) record(log, i.toString(16).padStart(16, '0'), 1000 + i);
    const kept = prune(log, 0);
    expect(kept.size).toBe(MAX_ENTRIES);
    expect(kept.has((MAX_ENTRIES + 499).toString(16).padStart(16, '0'))).toBe(true);
    expect(kept.has('0'.repeat(16))).toBe(false);
  });

  it('serialize → parse round-trips', () => {
    const log = parseStateLog(`${K1} 10\n${K2} 30\n`);
    expect(parseStateLog(serializeStateLog(log))).toEqual(log);
  });
});
