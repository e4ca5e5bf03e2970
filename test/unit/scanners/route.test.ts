import { describe, expect, it } from 'vitest';
import { defaultConfig, type ScannerConfig } from '../../../src/config/schema.js';
import { insertPoint } from '../../../src/message/insert-point.js';
import { isFailure, routeScan } from '../../../src/scanners/route.js';
import { foldField, scanHeaderLines, scanSummary } from '../../../src/scanners/scan-headers.js';
import type { Verdict } from '../../../src/scanners/types.js';

const scanner = (name: string, type: ScannerConfig['type'], onFailure: 'deliver' | 'defer' = 'deliver'): ScannerConfig => ({
  type, name, hosts: [], order: 'ordered', command: [], filterMode: 'rewrite', spamdMode: 'headers', timeoutMs: 1000, maxSize: 1e6, onFailure,
});
const v = (scannerName: string, type: Verdict['type'], status: Verdict['status'], extra: Partial<Verdict> = {}): Verdict => ({
  scanner: scannerName, type, endpoint: 'e', status, detail: '', elapsedMs: 1, ...extra,
});
const SCANNERS = [scanner('spamd', 'spamd'), scanner('clamd', 'clamd', 'defer'), scanner('filter', 'filter')];
const policy = (spamFolder = 'Junk', action: 'quarantine' | 'discard' | 'deliver' = 'quarantine') => {
  const c = defaultConfig();
  c.spam.folder = spamFolder;
  c.virus.action = action;
  return c;
};

describe('routeScan: verdicts → what happens to the mail (never a bounce)', () => {
  it.each([
    ['all clean', [v('spamd', 'spamd', 'clean'), v('clamd', 'clamd', 'clean')], policy(), { action: 'deliver', folder: undefined }],
    ['spam → Junk', [v('spamd', 'spamd', 'spam')], policy(), { action: 'deliver', folder: 'Junk' }],
    ['spam, no spam folder → INBOX marked', [v('spamd', 'spamd', 'spam')], policy(''), { action: 'deliver', folder: undefined }],
    ['virus → quarantine', [v('clamd', 'clamd', 'infected', { signature: 'Eicar' })], policy(), { action: 'deliver', folder: 'Quarantine' }],
    ['virus → discard', [v('clamd', 'clamd', 'infected')], policy('Junk', 'discard'), { action: 'discard' }],
    ['virus → deliver marked', [v('clamd', 'clamd', 'infected')], policy('Junk', 'deliver'), { action: 'deliver', folder: undefined }],
    ['virus wins over spam', [v('spamd', 'spamd', 'spam'), v('clamd', 'clamd', 'infected')], policy(), { action: 'deliver', folder: 'Quarantine' }],
    ['failed on_failure=deliver → deliver unscanned', [v('spamd', 'spamd', 'skipped', { skip: 'timeout' })], policy(), { action: 'deliver', folder: undefined }],
    ['failed on_failure=defer → defer', [v('clamd', 'clamd', 'skipped', { skip: 'refused' })], policy(), { action: 'defer' }],
    ['circuit open on_failure=defer → defer', [v('clamd', 'clamd', 'skipped', { skip: 'circuit-open' })], policy(), { action: 'defer' }],
    ['too-large is not a failure', [v('clamd', 'clamd', 'skipped', { skip: 'too-large' })], policy(), { action: 'deliver', folder: undefined }],
    ['defer beats a virus verdict elsewhere', [v('clamd', 'clamd', 'skipped', { skip: 'error' }), v('filter', 'filter', 'infected')], policy(), { action: 'defer' }],
    ['no scanners', [], policy(), { action: 'deliver', folder: undefined }],
  ] as const)('%s', (_n, verdicts, p, want) => {
    expect(routeScan(verdicts as Verdict[], SCANNERS, p)).toMatchObject(want);
  });
  it.each([
    ['timeout', true], ['refused', true], ['error', true], ['circuit-open', true], ['too-large', false],
  ] as const)('isFailure(skipped %s) = %s', (skip, want) => expect(isFailure(v('x', 'spamd', 'skipped', { skip }))).toBe(want));
});

describe('scanHeaderLines', () => {
  it('uses spamd’s own X-Spam-* fields when it sent them', () => {
    expect(scanHeaderLines([v('spamd', 'spamd', 'spam', { score: 1000, threshold: 5, spamHeaders: ['X-Spam-Flag: YES', 'X-Spam-Status: Yes, score=1000.0 required=5.0 tests=GTUBE'] })])).toEqual([
      'X-Spam-Flag: YES', 'X-Spam-Status: Yes, score=1000.0 required=5.0 tests=GTUBE', 'X-MDA-Scan: spamd=spam',
    ]);
  });
  it.each([
    [v('spamd', 'spamd', 'spam', { score: 7.25, threshold: 5, tests: ['A', 'B'] }), ['X-Spam-Flag: YES', 'X-Spam-Level: *******', 'X-Spam-Status: Yes, score=7.3 required=5.0 tests=A,B', 'X-MDA-Scan: spamd=spam']],
    [v('spamd', 'spamd', 'clean', { score: -0.5, threshold: 5 }), ['X-Spam-Status: No, score=-0.5 required=5.0', 'X-MDA-Scan: spamd=clean']],
    [v('spamd', 'spamd', 'clean', { score: 99, threshold: 100 }), ['X-Spam-Level: ' + '*'.repeat(50), 'X-Spam-Status: No, score=99.0 required=100.0', 'X-MDA-Scan: spamd=clean']],
    [v('clamd', 'clamd', 'infected', { signature: 'Realstack.Test.EICAR-NDB.UNOFFICIAL' }), ['X-Virus-Status: Infected (Realstack.Test.EICAR-NDB.UNOFFICIAL)', 'X-MDA-Scan: clamd=infected']],
    [v('clamd', 'clamd', 'clean'), ['X-Virus-Status: Clean', 'X-MDA-Scan: clamd=clean']],
    [v('clamd', 'clamd', 'skipped', { skip: 'timeout' }), ['X-MDA-Scan: clamd=skipped (timeout)']],
    [v('spamd', 'spamd', 'skipped', { skip: 'circuit-open' }), ['X-MDA-Scan: spamd=skipped (circuit-open)']],
    [v('f', 'filter', 'clean'), ['X-MDA-Scan: f=clean']],
  ])('%#', (verdict, want) => expect(scanHeaderLines([verdict])).toEqual(want));
  it('never lets a line end from a scanner start a new field', () => {
    const lines = scanHeaderLines([v('clamd', 'clamd', 'infected', { signature: 'Evil\r\nX-Spam-Flag: NO' })]);
    expect(lines.every((l) => !/[\r\n]/.test(l))).toBe(true);
  });
  it('scanSummary', () => expect(scanSummary(v('s', 'spamd', 'skipped'))).toBe('s=skipped (error)'));
});

describe('insertPoint: after Postfix’s fields, before the sender’s', () => {
  it.each([
    ['postfix block', 'Return-Path: <a@b>\nX-Original-To: c@d\nDelivered-To: c@d\nSubject: x\n', true, 56, '\n'],
    ['folded prepended field', 'Return-Path: <a@b>\n <more>\nSubject: x\n', true, 27, '\n'],
    ['CRLF message', 'Return-Path: <a@b>\r\nSubject: x\r\n', true, 20, '\r\n'],
    ['not from Postfix: top', 'Return-Path: <a@b>\nSubject: x\n', false, 0, '\n'],
    ['no prepended fields', 'Subject: x\nDelivered-To: y\n', true, 0, '\n'],
    ['unterminated last line', 'Return-Path: <a@b>', true, 0, '\n'],
    ['empty header', '', true, 0, '\n'],
  ])('%s', (_n, header, fromPostfix, offset, eol) => {
    expect(insertPoint(Buffer.from(header), fromPostfix)).toEqual({ offset, eol });
  });
});

describe('foldField (RFC 5322 §2.2.3)', () => {
  it('leaves short fields alone', () => expect(foldField('X-A: short', '\n')).toBe('X-A: short'));
  it('folds at white space, every line ≤ 78 when words allow, unfolding restores it', () => {
    const field = 'X-Spam-Status: Yes, score=1000.0 required=5.0 tests=' + Array.from({ length: 40 }, (_, i) => `RULE_NUMBER_${i}`).join(' ');
    const folded = foldField(field, '\r\n');
    const lines = folded.split('\r\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(78);
    for (const l of lines.slice(1)) expect(l).toMatch(/^[ \t]/);
    expect(folded.replace(/\r\n/g, '')).toBe(field);
  });
  it('a word longer than the width stays whole on its own line', () => {
    const folded = foldField('X-A: ' + 'x'.repeat(100) + ' end', '\n');
    expect(folded).toBe('X-A:\n ' + 'x'.repeat(100) + '\n end');
  });
});
