import { describe, expect, it } from 'vitest';
import { TroubleLog } from '../../../src/policy/trouble-log.js';
import { TtlCache } from '../../../src/policy/ttl-cache.js';

describe('TtlCache', () => {
  it('keeps a value for ttl, then forgets it', () => {
    let now = 0;
    const c = new TtlCache<string>(5_000, 10, () => now);
    c.set('a', 'x');
    now = 4_999;
    expect(c.get('a')).toBe('x');
    now = 5_000;
    expect(c.get('a')).toBeUndefined();
  });
  it('holds at most maxEntries, dropping the oldest', () => {
    const c = new TtlCache<number>(60_000, 3, () => 0);
    for (let i = 0; i < 10; i++) c.set(`k${i}`, i);
    expect(c.size).toBe(3);
    expect(c.get('k6')).toBeUndefined();
    expect(c.get('k9')).toBe(9);
  });
  it('a ttl of 0 caches nothing', () => {
    const c = new TtlCache<number>(0, 3, () => 0);
    c.set('a', 1);
    expect(c.get('a')).toBeUndefined();
  });
});

describe('TroubleLog', () => {
  it('one line per kind per interval, with the count of lines left out', () => {
    let now = 0;
    const lines: string[] = [];
    const log = new TroubleLog({ warn: (m) => lines.push(m) }, 60_000, () => now);
    for (let i = 0; i < 100; i++) log.warn('lookup', `failed ${i}`);
    log.warn('quota', 'unreadable');
    now = 60_000;
    log.warn('lookup', 'failed again');
    expect(lines).toEqual(['policy: failed 0', 'policy: unreadable', 'policy: failed again (99 more like it not logged)']);
  });
});
