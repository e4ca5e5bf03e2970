import { describe, expect, it } from 'vitest';
import { backoffMs, canFollow, isStale, planLocks, refreshEveryMs, type LockRequest } from '../../../src/locks/plan.js';

const c = (path: string): LockRequest => ({ kind: 'commit', path });
const q = (path: string): LockRequest => ({ kind: 'quota-recalc', path });

describe('planLocks: one canonical order for every request', () => {
  it.each([
    ['rank first', [q('/a'), c('/z')], [c('/z'), q('/a')]],
    ['then path', [c('/b'), c('/a')], [c('/a'), c('/b')]],
    ['duplicates dropped', [c('/a'), c('/a')], [c('/a')]],
    ['same path keeps the lower rank', [q('/a'), c('/a')], [c('/a')]],
    ['empty', [], []],
  ] as const)('%s', (_n, input, want) => expect(planLocks(input)).toEqual(want));

  it('every permutation of a set plans the same order (so no two processes can deadlock)', () => {
    const set = [c('/m/2'), q('/m/1'), c('/m/1'), q('/m/2')];
    const perms = (xs: LockRequest[]): LockRequest[][] =>
      xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
    const orders = new Set(perms(set).map((p) => JSON.stringify(planLocks(p))));
    expect(orders.size).toBe(1);
  });

  it.each([
    ['nothing held', [], c('/a'), true],
    ['higher rank after lower', [c('/a')], q('/a2'), true],
    ['lower rank after higher', [q('/a')], c('/b'), false],
    ['same rank, later path', [c('/a')], c('/b'), true],
    ['same rank, earlier path', [c('/b')], c('/a'), false],
    ['the same lock again', [c('/a')], c('/a'), false],
  ] as const)('canFollow: %s', (_n, held, next, want) => expect(canFollow(held, next)).toBe(want));
});

describe('isStale and backoff', () => {
  it.each([
    [0, 59_999, 60_000, false],
    [0, 60_000, 60_000, true],
    [1000, 0, 60_000, false], // clock skew: a future mtime is fresh
  ])('mtime %i now %i stale %i → %s', (m, n, s, want) => expect(isStale(m, n, s)).toBe(want));
  it.each([
    [0, 0, 2],
    [0, 0.999, 4],
    [3, 0.5, 30],
    [10, 0.999, 249],
    [50, 0, 125],
  ])('backoffMs(%i, %f) = %i', (a, r, want) => expect(backoffMs(a, r)).toBe(want));
});

describe('refreshEveryMs: a held lock is touched well before it could look stale', () => {
  it.each([
    [60_000, 20_000],
    [1_000, 333],
    [100, 50], // never more often than every 50 ms
  ])('stale %i → every %i ms', (stale, want) => expect(refreshEveryMs(stale)).toBe(want));
  it.each([1_000, 2_000, 60_000, 86_400_000])('stale %i leaves room for two missed refreshes', (stale) =>
    expect(3 * refreshEveryMs(stale)).toBeLessThanOrEqual(stale));
});
