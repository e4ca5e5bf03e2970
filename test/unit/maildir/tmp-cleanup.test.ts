import { describe, expect, it } from 'vitest';
import { ABANDONED_AFTER_MS, isAbandoned, scanDue, SCAN_EVERY_MS } from '../../../src/maildir/tmp-cleanup.js';

const H = 3_600_000;
const NOW = 1_800_000_000_000;

describe('scanDue (tmp/ atime = last scan)', () => {
  it.each([
    ['just scanned', NOW, false],
    ['7h59 ago', NOW - 8 * H + 60_000, false],
    ['exactly 8h ago', NOW - SCAN_EVERY_MS, true],
    ['a week ago', NOW - 7 * 24 * H, true],
    ['never (epoch)', 0, true],
    ['1 min in the future (clock jitter)', NOW + 60_000, false],
    ['a day in the future (clock stepped back)', NOW + 24 * H, true],
  ])('%s → %s', (_why, mark, want) => expect(scanDue(mark, NOW)).toBe(want));
});

describe('isAbandoned (maildir(5): not accessed for 36 hours)', () => {
  const f = (ageA: number, ageM: number, isFile = true) => ({ isFile, atimeMs: NOW - ageA, mtimeMs: NOW - ageM });
  it.each([
    ['fresh file', f(0, 0), false],
    ['35h old', f(35 * H, 35 * H), false],
    ['exactly 36h', f(ABANDONED_AFTER_MS, ABANDONED_AFTER_MS), true],
    ['37h old', f(37 * H, 37 * H), true],
    ['old mtime but read 1h ago (a scanner has it open)', f(1 * H, 37 * H), false],
    ['old atime but written 1h ago', f(37 * H, 1 * H), false],
    ['37h old directory', f(37 * H, 37 * H, false), false],
    ['dated in the future', f(-2 * H, -2 * H), false],
    ['a future atime keeps an old file', f(-40 * H, 37 * H), false],
  ])('%s → %s', (_why, entry, want) => expect(isAbandoned(entry, NOW)).toBe(want));
});
