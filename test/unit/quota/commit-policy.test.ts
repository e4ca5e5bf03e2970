import { describe, expect, it } from 'vitest';
import { commitDecision, recalcBudgetMs } from '../../../src/quota/commit-policy.js';
import type { QuotaLimits } from '../../../src/quota/maildirsize.js';

const lim = (storage: number, messages: number): QuotaLimits => ({ storage, messages });

describe('recalcBudgetMs (a recount before the commit lock)', () => {
  it.each<[string, number, number, number, number]>([
    ['default deliver (240 s left, 10 s lock timeout, 60 s stale): under half the stale age', 240_000, 10_000, 60_000, 30_000],
    ['--deadline 1s: half of what is left', 900, 10_000, 60_000, 450],
    ['lock timeout plus commit time are kept back', 20_000, 5_000, 60_000, 14_500],
    ['nothing left', 0, 10_000, 60_000, 0],
    ['a short stale age caps it', 100_000, 1_000, 4_000, 2_000],
    ['fractions round down', 101, 10_000, 60_000, 50],
  ])('%s', (_name, remaining, lockTimeout, stale, want) => {
    expect(recalcBudgetMs(remaining, lockTimeout, stale)).toBe(want);
  });
});

describe('commitDecision (fits / over on trusted sums / over on sums not recounted)', () => {
  type Row = [string, [number, number], QuotaLimits, { bytes: number; copies: number; grace: number }, boolean, 'bounce' | 'defer', RegExp | undefined];
  it.each<Row>([
    ['fits', [100, 1], lim(1000, 0), { bytes: 100, copies: 1, grace: 0 }, true, 'bounce', undefined],
    ['fits on untrusted sums: let in', [100, 1], lim(1000, 0), { bytes: 100, copies: 1, grace: 0 }, false, 'bounce', undefined],
    ['over, trusted, bounce: 5.2.2', [950, 1], lim(1000, 0), { bytes: 130, copies: 1, grace: 0 }, true, 'bounce', /^reject over-quota storage 950 \+ 130 bytes > limit 1000$/],
    ['over, trusted, defer: 4.2.2', [950, 1], lim(1000, 0), { bytes: 130, copies: 1, grace: 0 }, true, 'defer', /^temp over-quota storage 950/],
    ['over, not recounted: never a bounce', [950, 1], lim(1000, 0), { bytes: 130, copies: 1, grace: 0 }, false, 'bounce', /^temp over-quota .*not recounted yet$/],
    ['every copy counts', [50, 0], lim(100, 0), { bytes: 30, copies: 2, grace: 0 }, true, 'bounce', /^reject over-quota storage 50 \+ 60 bytes > limit 100 \(2 copies\)$/],
    ['copies against the count', [2, 2], lim(0, 3), { bytes: 1, copies: 2, grace: 0 }, true, 'bounce', /2 messages \+ 2 > limit 3 \(2 copies\)/],
    ['grace lets it in', [950, 1], lim(1000, 0), { bytes: 130, copies: 1, grace: 100 }, true, 'bounce', undefined],
  ])('%s', (_name, [bytes, count], limits, incoming, trusted, overQuota, want) => {
    const o = commitDecision({ usage: { bytes, count }, limits, incoming, trusted, overQuota });
    if (want === undefined) expect(o).toBeUndefined();
    else {
      expect(o).toBeDefined();
      const line = o && (o.kind === 'temp' || o.kind === 'reject') ? `${o.kind} ${o.cause} ${o.detail}` : JSON.stringify(o);
      expect(line).toMatch(want);
    }
  });
});
