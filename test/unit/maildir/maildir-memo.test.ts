import { describe, expect, it } from 'vitest';
import { MAX_REMEMBERED, MaildirMemo, REMEMBER_MS } from '../../../src/maildir/maildir-memo.js';

const T = 1_800_000_000_000;

describe('MaildirMemo: when a server looks at tmp/ again', () => {
  it.each([
    ['never looked', [], T, true],
    ['looked just now', [T], T, false],
    ['looked 9 min 59 s ago', [T - REMEMBER_MS + 1000], T, false],
    ['looked 10 min ago', [T - REMEMBER_MS], T, true],
    ['the clock stepped back since the look', [T + 60_000], T, true],
  ] as const)('%s → due: %s', (_, looks, now, due) => {
    const m = new MaildirMemo();
    for (const at of looks) m.tmpCheckDue('/m', at);
    expect(m.tmpCheckDue('/m', now)).toBe(due);
  });

  it('a look is per Maildir, and a yes counts as the look', () => {
    const m = new MaildirMemo();
    expect(m.tmpCheckDue('/a', T)).toBe(true);
    expect(m.tmpCheckDue('/a', T + 1)).toBe(false);
    expect(m.tmpCheckDue('/b', T + 1)).toBe(true);
  });
});

describe('MaildirMemo: links proven from a spool directory into a Maildir', () => {
  it('is per (spool directory, Maildir), expires, and is forgotten on a failed copy', () => {
    const m = new MaildirMemo();
    expect(m.linkProven('/spool/tmp', '/m', T)).toBe(false);
    m.linked('/spool/tmp', '/m', T);
    expect(m.linkProven('/spool/tmp', '/m', T + 1)).toBe(true);
    expect(m.linkProven('/other/tmp', '/m', T + 1)).toBe(false);
    expect(m.linkProven('/spool/tmp', '/m2', T + 1)).toBe(false);
    expect(m.linkProven('/spool/tmp', '/m', T + REMEMBER_MS)).toBe(false);
    m.forgetLinks('/spool/tmp', '/m');
    expect(m.linkProven('/spool/tmp', '/m', T + 1)).toBe(false);
  });

  it(`holds at most ${MAX_REMEMBERED} entries of each kind, forgetting the least recently used first`, () => {
    const m = new MaildirMemo();
    for (let i = 0; i < MAX_REMEMBERED + 500; i++) {
      m.tmpCheckDue(`/m${i}`, T);
      m.linked('/s', `/m${i}`, T);
    }
    expect(m.sizes()).toEqual({ tmpChecked: MAX_REMEMBERED, linkedFrom: MAX_REMEMBERED });
    expect(m.linkProven('/s', '/m0', T)).toBe(false); // the oldest went
    expect(m.linkProven('/s', `/m${MAX_REMEMBERED + 499}`, T)).toBe(true);
  });
});
