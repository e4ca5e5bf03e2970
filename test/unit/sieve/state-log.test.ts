import { describe, expect, it } from 'vitest';
import {
  changes, COMPACT_SLACK, isLive, MAX_VACATION_ENTRIES, parseStateFile, parseStateLog, planWrite, prune, record, serializeStateLog, type StateLog,
} from '../../../src/sieve/state-log.js';
import { vacationDue } from '../../../src/sieve/vacation-rules.js';

const K1 = 'a'.repeat(40);
const K2 = 'b'.repeat(40);
const K3 = 'c'.repeat(40);

describe('state log', () => {
  it.each<[string, Array<[string, number]>]>([
    ['', []],
    [`${K1} 100\n${K2} 200\n`, [[K1, 100], [K2, 200]]],
    [`${K1} 100\n${K1} 50\n${K1} 300\n`, [[K1, 300]]],
    // append-only: the last line of a key wins, `0` forgets
    [`${K1} 300\n${K2} 5\n${K1} 0\n`, [[K2, 5], [K1, 0]]],
    [`garbage\n${K1} x\n${K1}\n${K2} 1 2\nZZZZZZZZZZ 5\n${K3} 7\n`, [[K3, 7]]],
    // a last line without its newline is a cut append: ignored (it could be `K1 17` of `K1 1700000000`)
    [`${K1} 1700000000\n${K1} 17`, [[K1, 1700000000]]],
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

  it('prune drops expired entries; it drops live ones only when given a cap', () => {
    const log = parseStateLog(`${K1} 10\n${K2} 30\n${K3} 20\n`);
    expect([...prune(log, 10)]).toEqual([[K2, 30], [K3, 20]]);
    expect([...prune(log, 0)]).toHaveLength(3);
    expect([...prune(log, 0, 1)]).toEqual([[K2, 30]]);
  });

  it.each<[string, string, boolean]>([
    ['', '', false],
    [`${K1} 1\n`, '', false],
    [`${K1} 1`, '', true],
    [`${K1} 1\n\n  \nbad\n`, '', false],
  ])('parseStateFile(%j) counts lines and a torn end', (text, _, torn) => {
    const f = parseStateFile(text);
    expect(f.torn).toBe(torn);
    expect(f.lines).toBe(text.split('\n').slice(0, -1).filter((l) => l.trim() !== '').length);
  });

  it('changes: new or changed keys, and `0` for removed ones', () => {
    const before: StateLog = new Map([[K1, 10], [K2, 20]]);
    const after: StateLog = new Map([[K2, 25], [K3, 30]]);
    expect(changes(before, after)).toEqual([[K2, 25], [K3, 30], [K1, 0]]);
    expect(changes(before, new Map(before))).toEqual([]);
  });

  const L = (n: number, exp = 1000): StateLog => new Map(Array.from({ length: n }, (_, i) => [i.toString(16).padStart(40, '0'), exp]));
  const plus = (log: StateLog, key: string, exp: number): StateLog => new Map([...log, [key, exp]]);
  it.each<[string, { lines: number; torn: boolean }, StateLog, StateLog, { max: number; evict: boolean }, string]>([
    ['nothing changed', { lines: 3, torn: false }, L(3), L(3), { max: 10, evict: false }, 'none'],
    ['one new entry: append', { lines: 3, torn: false }, L(3), plus(L(3), K1, 2000), { max: 10, evict: false }, 'append'],
    ['a torn end: rewrite', { lines: 3, torn: true }, L(3), plus(L(3), K1, 2000), { max: 10, evict: false }, 'rewrite'],
    ['dead lines past 2×live + slack: rewrite', { lines: 2 * 4 + COMPACT_SLACK, torn: false }, L(3), plus(L(3), K1, 2000), { max: 10, evict: false }, 'rewrite'],
    ['dead lines up to 2×live + slack: append', { lines: 2 * 4 + COMPACT_SLACK - 1, torn: false }, L(3), plus(L(3), K1, 2000), { max: 10, evict: false }, 'append'],
    ['past the cap, no eviction: full', { lines: 3, torn: false }, L(3), plus(L(3), K1, 2000), { max: 3, evict: false }, 'full'],
    ['past the cap, eviction: rewrite', { lines: 3, torn: false }, L(3), plus(L(3), K1, 2000), { max: 3, evict: true }, 'rewrite'],
    ['at the cap is fine', { lines: 2, torn: false }, L(2), plus(L(2), K1, 2000), { max: 3, evict: false }, 'append'],
  ])('planWrite: %s', (_, file, before, after, limits, action) => {
    expect(planWrite(file, before, after, 100, limits).action).toBe(action);
  });

  it('planWrite appends only the changed lines and rewrites with live entries only', () => {
    const before: StateLog = new Map([[K1, 500]]);
    expect(planWrite({ lines: 5, torn: false }, before, new Map([[K1, 500], [K2, 900]]), 100, { max: 10, evict: false }))
      .toEqual({ action: 'append', text: `${K2} 900\n` });
    expect(planWrite({ lines: 5, torn: true }, before, new Map([[K1, 500], [K2, 900], [K3, 50]]), 100, { max: 10, evict: false }))
      .toEqual({ action: 'rewrite', text: `${K1} 500\n${K2} 900\n` });
  });

  it('serialize → parse round-trips', () => {
    const log = parseStateLog(`${K1} 10\n${K2} 30\n`);
    expect(parseStateLog(serializeStateLog(log))).toEqual(log);
  });
});

describe('vacationDue: once per period per sender, under any flood', () => {
  const key = (i: number) => i.toString(16).padStart(40, '0');
  it.each<[string, StateLog, string, number, number, string]>([
    ['never answered', new Map(), K1, 100, 10, 'due'],
    ['answered, within the period', new Map([[K1, 200]]), K1, 100, 10, 'already-sent'],
    ['answered, period over', new Map([[K1, 100]]), K1, 100, 10, 'due'],
    ['forgotten (0)', new Map([[K1, 0]]), K1, 100, 10, 'due'],
    ['full of live entries: no reply to a new sender', new Map([[K2, 200], [K3, 300]]), K1, 100, 2, 'state-full'],
    ['full, but the sender is in it', new Map([[K1, 200], [K2, 300]]), K1, 100, 2, 'already-sent'],
    ['full of expired entries: room', new Map([[K2, 50], [K3, 60]]), K1, 100, 2, 'due'],
  ])('%s', (_, log, k, now, max, want) => {
    expect(vacationDue(log, k, now, max)).toBe(want);
  });

  it('6,000 distinct senders, then the first again within the period: no second reply', () => {
    const log: StateLog = new Map();
    const period = 7 * 86_400;
    for (let i = 0; i <= 6_000; i++) {
      const now = 1_000_000 + i;
      expect(vacationDue(log, key(i), now)).toBe('due');
      record(log, key(i), now + period);
    }
    expect(vacationDue(log, key(0), 1_000_000 + 6_001)).toBe('already-sent');
    expect(vacationDue(log, key(0), 1_000_000 + period)).toBe('due');
  });

  it('at MAX_VACATION_ENTRIES live entries a new sender is refused, and nobody was evicted', () => {
    const log: StateLog = new Map();
    for (let i = 0; i < MAX_VACATION_ENTRIES; i++) record(log, key(i), 5_000);
    expect(vacationDue(log, key(MAX_VACATION_ENTRIES), 100)).toBe('state-full');
    expect(vacationDue(log, key(0), 100)).toBe('already-sent');
    expect(vacationDue(log, key(MAX_VACATION_ENTRIES), 5_000)).toBe('due');
  });
});
