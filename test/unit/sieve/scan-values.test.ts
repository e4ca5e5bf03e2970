import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../../src/scanners/types.js';
import { fromHeaders, fromVerdicts, scanValues, spamPercent, spamValue } from '../../../src/sieve/scan-values.js';

const v = (o: Partial<Verdict>): Verdict => ({ scanner: 's', type: 'spamd', endpoint: 'e', status: 'clean', detail: '', elapsedMs: 1, ...o });
const headers = (h: Record<string, string>) => (n: string) => (h[n] === undefined ? [] : [h[n]!]);

describe('spamtest values (RFC 5235 §3.1)', () => {
  it.each([
    [-5, 5, '1', '0'], [0, 5, '1', '0'], [2.5, 5, '5', '50'], [4.99, 5, '9', '99'], [5, 5, '10', '100'],
    [50, 5, '10', '100'], [1, 3, '4', '33'], [2, 3, '7', '66'], [3, 0, '10', '100'], [0, 0, '1', '0'],
  ])('score %d / required %d → %s, %s%%', (s, r, val, pct) => {
    expect(spamValue(s, r)).toBe(val);
    expect(spamPercent(s, r)).toBe(pct);
  });

  it.each<[string, Verdict[], { spam: string; spamPercent: string | undefined; virus: string }]>([
    ['no verdicts', [], { spam: '0', spamPercent: undefined, virus: '0' }],
    ['spamd ham', [v({ score: 1, threshold: 5 })], { spam: '2', spamPercent: '20', virus: '0' }],
    ['spamd spam', [v({ status: 'spam', score: 8, threshold: 5 })], { spam: '10', spamPercent: '100', virus: '0' }],
    ['spamd skipped', [v({ status: 'skipped', skip: 'timeout' })], { spam: '0', spamPercent: undefined, virus: '0' }],
    ['filter spam', [v({ type: 'filter', status: 'spam' })], { spam: '10', spamPercent: '100', virus: '0' }],
    ['filter clean', [v({ type: 'filter', status: 'clean' })], { spam: '1', spamPercent: '0', virus: '0' }],
    ['clamd clean', [v({ type: 'clamd' })], { spam: '0', spamPercent: undefined, virus: '1' }],
    ['clamd infected', [v({ type: 'clamd', status: 'infected' })], { spam: '0', spamPercent: undefined, virus: '5' }],
    ['the spammiest wins', [v({ score: 1, threshold: 5 }), v({ type: 'filter', status: 'spam' }), v({ score: 2, threshold: 5 })], { spam: '10', spamPercent: '100', virus: '0' }],
  ])('fromVerdicts: %s', (_, verdicts, want) => expect(fromVerdicts(verdicts)).toEqual(want));

  it.each<[Record<string, string>, { spam: string; spamPercent: string | undefined; virus: string }]>([
    [{}, { spam: '0', spamPercent: undefined, virus: '0' }],
    [{ 'x-spam-status': 'Yes, score=7.6 required=5.0 tests=A,B autolearn=no' }, { spam: '10', spamPercent: '100', virus: '0' }],
    [{ 'x-spam-status': 'No, score=-1.6 required=5.0' }, { spam: '1', spamPercent: '0', virus: '0' }],
    [{ 'x-spam-status': 'No, score=2.5 required=5.0 version=3.4' }, { spam: '5', spamPercent: '50', virus: '0' }],
    [{ 'x-spam-status': 'garbage' }, { spam: '0', spamPercent: undefined, virus: '0' }],
    [{ 'x-virus-status': 'Infected (Eicar-Signature)' }, { spam: '0', spamPercent: undefined, virus: '5' }],
    [{ 'x-virus-status': 'Clean' }, { spam: '0', spamPercent: undefined, virus: '1' }],
  ])('fromHeaders(%j)', (h, want) => expect(fromHeaders(headers(h))).toEqual(want));

  it('headers count only with trust_scan_headers and no scanner; a scanner always wins', () => {
    const header = headers({ 'x-spam-status': 'Yes, score=9 required=5' });
    expect(scanValues({ verdicts: [], scannersConfigured: false, trustScanHeaders: false, header }).spam).toBe('0');
    expect(scanValues({ verdicts: [], scannersConfigured: false, trustScanHeaders: true, header }).spam).toBe('10');
    expect(scanValues({ verdicts: [v({ score: 0, threshold: 5 })], scannersConfigured: true, trustScanHeaders: true, header }).spam).toBe('1');
  });
});
