import { describe, expect, it } from 'vitest';
import { mboxOverQuota } from '../../../src/mbox/quota-rule.js';

const q = (storage: number, grace = 0) => ({ limits: { storage, messages: 0 }, grace });

describe('mboxOverQuota: the file size against [quota] storage', () => {
  it.each([
    ['unlimited', 10 ** 12, 10, q(0), false],
    ['fits', 100, 50, q(200), false],
    ['exactly at the limit after', 100, 100, q(200), false],
    ['one byte over', 100, 101, q(200), true],
    ['within grace', 100, 150, q(200, 50), false],
    ['past grace', 100, 151, q(200, 50), true],
    ['already at the limit', 200, 1, q(200, 50), true],
  ] as const)('%s', (_n, size, adding, quota, over) => expect(mboxOverQuota(size, adding, quota) !== undefined).toBe(over));
});
