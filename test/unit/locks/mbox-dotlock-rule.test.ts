import { describe, expect, it } from 'vitest';
import { dotlockHolder, mboxDotlockStale } from '../../../src/locks/mbox-dotlock-rule.js';
import { canFollow, KERNEL_LOCKS, planLocks, type LockRequest } from '../../../src/locks/plan.js';

describe('dotlockHolder: the pid in a FILE.lock', () => {
  it.each([
    ['1234\n', { pid: 1234 }], // liblockfile / dotlockfile -p
    ['1234 mx1 abc.def\n', { pid: 1234, host: 'mx1' }], // mda's token
    ['', {}], // Postfix local(8) writes an empty lock
    ['0\n', {}],
    ['x12\n', {}],
    ['99999999999\n', {}],
  ] as const)('%j → %j', (content, want) => expect(dotlockHolder(content)).toEqual(want));
});

describe('mboxDotlockStale: its holder gone (a dead pid: after 2 s; unknown: after mbox_dotlock_stale)', () => {
  const base = { staleMs: 300_000, myHost: 'mx1', pidAlive: (pid: number) => pid === 7 };
  it.each([
    ['under 2 s, dead pid (its writer may still be writing it)', { ageMs: 1_999, content: '8\n' }, false],
    ['2 s, dead pid (a SIGKILLed delivery)', { ageMs: 2_000, content: '8\n' }, true],
    ['2 s, dead pid in our token of this host', { ageMs: 2_000, content: '8 mx1 n\n' }, true],
    ['old, live pid', { ageMs: 9_000_000, content: '7\n' }, false],
    ['old, live pid in our token', { ageMs: 9_000_000, content: '7 mx1 n\n' }, false],
    ['young, empty (Postfix): its holder cannot be checked', { ageMs: 10_000, content: '' }, false],
    ['young, another host', { ageMs: 10_000, content: '8 mx2 n\n' }, false],
    ['old, dead pid', { ageMs: 300_000, content: '8\n' }, true],
    ['old, empty (Postfix)', { ageMs: 300_000, content: '' }, true],
    ['old, unreadable', { ageMs: 300_000, content: undefined }, true],
    ['old, a live pid number but another host', { ageMs: 300_000, content: '7 mx2 n\n' }, true],
    ['just under the age, empty', { ageMs: 299_999, content: '' }, false],
  ] as const)('%s → %s', (_n, over, want) => expect(mboxDotlockStale({ ...base, ...over })).toBe(want));
});

describe('mbox lock kinds in the lock plan', () => {
  const dot: LockRequest = { kind: 'mbox-dotlock', path: '/var/mail/u.lock' };
  const fcntl: LockRequest = { kind: 'mbox-fcntl', path: '/var/mail/u', fd: 5 };
  const flock: LockRequest = { kind: 'mbox-flock', path: '/var/mail/u', fd: 5 };
  it('are taken dotlock → fcntl → flock, as Postfix mbox_open() does', () => expect(planLocks([flock, fcntl, dot])).toEqual([dot, fcntl, flock]));
  it('kernel locks on one path are two locks, not a duplicate', () => expect(planLocks([fcntl, flock, fcntl])).toEqual([fcntl, flock]));
  it('a dotlock of another mbox comes before any kernel lock', () => {
    const dot2: LockRequest = { kind: 'mbox-dotlock', path: '/home/u/mail/Lists.lock' };
    expect(planLocks([fcntl, dot, dot2]).map((r) => r.kind)).toEqual(['mbox-dotlock', 'mbox-dotlock', 'mbox-fcntl']);
  });
  it('flock may follow fcntl on the same file, not the reverse', () => {
    expect(canFollow([dot, fcntl], flock)).toBe(true);
    expect(canFollow([flock], fcntl)).toBe(false);
  });
  it('a Maildir commit lock may follow the mbox locks (a mixed plan), never precede them', () => {
    const commit: LockRequest = { kind: 'commit', path: '/home/u/Maildir/mda-commit.lock' };
    expect(canFollow([dot, fcntl], commit)).toBe(true);
    expect(canFollow([commit], dot)).toBe(false);
  });
  it('kernel kinds are marked', () => expect([...KERNEL_LOCKS].sort()).toEqual(['mbox-fcntl', 'mbox-flock']));
});
