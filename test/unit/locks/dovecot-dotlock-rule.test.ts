import { describe, expect, it } from 'vitest';
import { changeTime, dovecotLockContent, dovecotLockStale, lockPid } from '../../../src/locks/dovecot-dotlock-rule.js';
import { canFollow, DOVECOT_DOTLOCKS, planLocks, type LockRequest } from '../../../src/locks/plan.js';

describe("lockPid: Dovecot's read_local_pid", () => {
  it.each([
    ['123:host', 123], ['123:host\n', 123], ['123:other', undefined], ['123', undefined], [':host', undefined],
    ['0:host', undefined], ['-5:host', undefined], ['12a:host', undefined], ['', undefined], ['123:host\n\n', undefined],
  ] as const)('%j → %s', (content, want) => expect(lockPid(content, 'host')).toBe(want));
  it('what mda writes is what Dovecot reads', () => expect(lockPid(dovecotLockContent(42, 'mx1'), 'mx1')).toBe(42));
});

describe("changeTime: Dovecot's update_change_info, first look", () => {
  it.each([
    [{ mtimeS: 50, ctimeS: 60 }, 100, 60],
    [{ mtimeS: 70, ctimeS: 60 }, 100, 70],
    [{ mtimeS: 200, ctimeS: 60 }, 100, 60], // a future mtime is not trusted
  ] as const)('%j at %i → %i', (t, now, want) => expect(changeTime(t, now)).toBe(want));
});

describe("dovecotLockStale: Dovecot's check_lock (stale pid after 2 s, else 120 s without change)", () => {
  const base = { nowS: 1000, myHost: 'h', pidAlive: (pid: number) => pid === 7 };
  const at = (s: number) => ({ mtimeS: s, ctimeS: s });
  it.each([
    ['live pid, old lock', { lock: at(0), content: '7:h' }, false],
    ['dead pid, older than 2 s', { lock: at(997), content: '8:h' }, true],
    ['dead pid, 2 s old or less: pid not read yet', { lock: at(998), content: '8:h' }, false],
    ['other host: no pid; changed 120 s ago', { lock: at(880), content: '8:x' }, false],
    ['other host: no pid; unchanged for over 120 s', { lock: at(879), content: '8:x' }, true],
    ['unreadable: unchanged for over 120 s', { lock: at(0), content: undefined }, true],
    ['no pid, but the protected file changed lately', { lock: at(0), content: '', protectedFile: at(990) }, false],
  ] as const)('%s → %s', (_n, over, want) => expect(dovecotLockStale({ ...base, ...over })).toBe(want));
});

describe("the 'dovecot-uidlist' lock kind in mda's lock plan", () => {
  const commit: LockRequest = { kind: 'commit', path: '/m/mda-commit.lock' };
  const uid: LockRequest = { kind: 'dovecot-uidlist', path: '/m/dovecot-uidlist.lock' };
  const recalc: LockRequest = { kind: 'quota-recalc', path: '/m/maildirsize.lock' };
  it('is a Dovecot dotlock', () => expect(DOVECOT_DOTLOCKS.has('dovecot-uidlist')).toBe(true));
  it('ranks after the commit lock and before quota-recalc', () => expect(planLocks([recalc, uid, commit])).toEqual([commit, uid, recalc]));
  it('may follow the commit lock, not quota-recalc', () => {
    expect(canFollow([commit], uid)).toBe(true);
    expect(canFollow([recalc], uid)).toBe(false);
  });
});
