import { describe, expect, it } from 'vitest';
import type { UserQuota } from '../../../src/quota/limits.js';
import { headerDefinition, MAILDIRSIZE_STALE_MS, parseMaildirsize } from '../../../src/quota/maildirsize.js';
import type { MaildirsizeHead } from '../../../src/quota/store.js';
import { rcptMboxQuotaDecision, rcptQuotaDecision, type MboxFileFacts, type RcptQuotaFacts } from '../../../src/recipients/quota-verdict.js';

const NOW = 1_700_000_000_000;
const UID = 1001;

/** A maildirsize as store.ts reads it: `text`, written `ageMs` ago, owned by `uid`. */
function file(text: string, ageMs = 0, uid = UID): MaildirsizeHead {
  return { parsed: parseMaildirsize(text), header: headerDefinition(text), size: text.length, mtimeMs: NOW - ageMs, uid };
}

function quota(storage: number, messages = 0, over: 'bounce' | 'defer' = 'bounce', grace = 0): UserQuota {
  return { limits: { storage, messages }, grace, overQuota: over, ignoreFolders: [] };
}

const facts = (f: RcptQuotaFacts['file'], q: UserQuota, size: number): RcptQuotaFacts => ({ file: f, quota: q, size, nowMs: NOW, uid: UID });

describe('rcptQuotaDecision', () => {
  it.each([
    ['no quota anywhere', file('0S\n5000 10\n'), quota(0), 100_000],
    ['under the limit', file('10000S\n5000 10\n'), quota(10_000), 1000],
    ['exactly at the limit with this message (reaching a limit is allowed)', file('10000S\n9000 10\n'), quota(10_000), 1000],
    ['over by SIZE but within grace', file('10000S\n9000 10\n'), quota(10_000, 0, 'bounce', 5000), 3000],
    ['no SIZE and room for more', file('10000S\n9999 10\n'), quota(10_000), 0],
    ['missing maildirsize: the commit recounts', undefined, quota(10_000), 1_000_000],
    ['could not be read (EACCES, timeout)', { trouble: 'EACCES' }, quota(10_000), 1_000_000],
    ['a FIFO or device (never read)', { parsed: { corrupt: 'maildirsize is not a regular file' }, header: undefined, size: 0, mtimeMs: 0, notRegular: 'a FIFO' }, quota(10_000), 1_000_000],
    ['corrupt', file('10000S\nxx\n'), quota(10_000), 1_000_000],
    ['over but several usage lines (not recounted: Courier docheckquota)', file('10000S\n9000 10\n900 1\n'), quota(10_000), 1000],
    ['over but the one line is older than 15 minutes', file('10000S\n10000 10\n', MAILDIRSIZE_STALE_MS), quota(10_000), 1000],
    ['over but the header has other limits than the config (quota changed)', file('20000S\n10000 10\n'), quota(10_000), 1000],
    ['over but the file is not the recipient\'s own', file('10000S\n10000 10\n', 0, 0), quota(10_000), 1000],
  ] as const)('%s → ok', (_n, f, q, size) => {
    expect(rcptQuotaDecision(facts(f, q, size))).toMatchObject({ verdict: 'ok' });
  });

  it.each([
    ['over with SIZE', file('10000S\n9000 10\n'), quota(10_000), 1001, { limit: 'storage', from: 'config' }],
    ['already full, no SIZE (usage = limit)', file('10000S\n10000 10\n'), quota(10_000), 0, { limit: 'storage' }],
    ['already over, no SIZE', file('10000S\n12000 10\n'), quota(10_000), 0, { limit: 'storage' }],
    ['message count full, no SIZE', file('0S,10C\n100 10\n'), quota(0, 10), 0, { limit: 'messages', from: 'config' }],
    ['the maildirsize header is the quota when mda has none', file('10000S\n9500 3\n'), quota(0), 1000, { limit: 'storage', from: 'maildirsize' }],
    ['grace exhausted', file('10000S\n9000 10\n'), quota(10_000, 0, 'bounce', 500), 1501, { limit: 'storage' }],
  ] as const)('%s → over', (_n, f, q, size, want) => {
    expect(rcptQuotaDecision(facts(f, q, size))).toMatchObject({ verdict: 'over', ...want });
  });

  it.each([
    ['bounce', { code: 552, dsn: '5.2.2' }, 'reject'],
    ['defer', { code: 452, dsn: '4.2.2' }, 'temp'],
  ] as const)('RFC 3463 X.2.2: [quota] over_quota = %s → %j', (over, reply, kind) => {
    const v = rcptQuotaDecision(facts(file('10000S\n10000 10\n'), quota(10_000, 0, over), 0));
    expect(v).toMatchObject({ verdict: 'over', reply, outcome: { kind, cause: 'over-quota' } });
  });
});

describe('rcptMboxQuotaDecision (an mbox inbox: its file size is its usage)', () => {
  const mbox = (size: number, uid = UID, regular = true): MboxFileFacts => ({ size, uid, regular });
  const mfacts = (f: MboxFileFacts | undefined | { trouble: string }, q: UserQuota, size: number) => ({ file: f, quota: q, size, uid: UID });
  it.each([
    ['no storage quota', mbox(1_000_000), quota(0, 10), 100_000],
    ['fits', mbox(5000), quota(10_000), 1000],
    ['reaching the limit exactly is allowed', mbox(9000), quota(10_000), 1000],
    ['over by SIZE but within grace', mbox(9000), quota(10_000, 0, 'bounce', 5000), 3000],
    ['missing mbox (created at the first delivery)', undefined, quota(10_000), 1_000_000],
    ['could not be read', { trouble: 'EACCES' }, quota(10_000), 1_000_000],
    ['not a regular file (the commit refuses it)', mbox(20_000, UID, false), quota(10_000), 1000],
    ['not the recipient\'s own (the commit refuses it)', mbox(20_000, 0), quota(10_000), 1000],
  ] as const)('%s → ok', (_n, f, q, size) => {
    expect(rcptMboxQuotaDecision(mfacts(f, q, size))).toMatchObject({ verdict: 'ok' });
  });
  it.each([
    ['over with SIZE', mbox(9000), quota(10_000), 1001],
    ['already full, no SIZE', mbox(10_000), quota(10_000), 0],
    ['grace exhausted', mbox(9000), quota(10_000, 0, 'bounce', 500), 1501],
  ] as const)('%s → over (storage)', (_n, f, q, size) => {
    expect(rcptMboxQuotaDecision(mfacts(f, q, size))).toMatchObject({ verdict: 'over', limit: 'storage', from: 'config' });
  });
  it.each([
    ['bounce', { code: 552, dsn: '5.2.2' }, 'reject'],
    ['defer', { code: 452, dsn: '4.2.2' }, 'temp'],
  ] as const)('RFC 3463 X.2.2: [quota] over_quota = %s → %j', (over, reply, kind) => {
    expect(rcptMboxQuotaDecision(mfacts(mbox(10_000), quota(10_000, 0, over), 0))).toMatchObject({ verdict: 'over', reply, outcome: { kind, cause: 'over-quota' } });
  });
});

describe('a quota file that could not be read is marked unread (the policy service reports it as trouble, and does not cache it)', () => {
  it('maildirsize', () => expect(rcptQuotaDecision(facts({ trouble: 'EACCES' }, quota(10_000), 1))).toMatchObject({ verdict: 'ok', unread: true }));
  it('mbox', () => expect(rcptMboxQuotaDecision({ file: { trouble: 'EACCES' }, quota: quota(10_000), size: 1, uid: UID })).toMatchObject({ verdict: 'ok', unread: true }));
  it('a verdict that read its file is not', () => expect(rcptQuotaDecision(facts(undefined, quota(10_000), 1))).not.toHaveProperty('unread'));
});
