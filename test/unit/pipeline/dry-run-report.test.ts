import { describe, expect, it } from 'vitest';
import type { ScannerConfig } from '../../../src/config/schema.js';
import { delivered, discarded, reject, temp } from '../../../src/outcome/outcome.js';
import { outcomeText, quotaLines, scannerLines, type QuotaFacts } from '../../../src/pipeline/dry-run-report.js';
import { parseMaildirsize } from '../../../src/quota/maildirsize.js';

describe('outcomeText', () => {
  it.each([
    [delivered('Lists.Dev', 'x'), 'would store in Lists.Dev'],
    [delivered('', 'x'), 'would store in INBOX'],
    [discarded('sieve discard'), 'would discard (exit 0): sieve discard'],
    [reject('unknown-user', 'no such user: zed'), /^would bounce \(exit 67\): 5\.1\.1 .*no such user: zed$/],
    [temp('config', 'bad'), /^would defer \(exit 75\): 4\.3\.5 .*bad$/],
  ] as const)('%j', (o, want) => {
    if (typeof want === 'string') expect(outcomeText(o)).toBe(want);
    else expect(outcomeText(o)).toMatch(want);
  });
});

const scanner = (over: Partial<ScannerConfig>): ScannerConfig => ({
  type: 'spamd', name: 'spamd', hosts: ['127.0.0.1:783'], order: 'ordered', command: [], filterMode: 'rewrite',
  spamdMode: 'headers', timeoutMs: 30_000, maxSize: 1000, onFailure: 'deliver', ...over,
});

describe('scannerLines', () => {
  it.each([
    [[], 500, ['scanners: none configured']],
    [[scanner({})], 500, ['scanners: (not run in a dry run; Sieve sees no verdicts)', '  spamd (spamd): would run: 127.0.0.1:783; timeout 30000ms, on failure deliver']],
    [[scanner({})], 1001, ['scanners: (not run in a dry run; Sieve sees no verdicts)', '  spamd (spamd): would be skipped: 1001 bytes > max_size 1000']],
    [[scanner({ type: 'filter', name: 'bf', command: ['/usr/bin/bogofilter', '-p'], onFailure: 'defer' })], 1000,
      ['scanners: (not run in a dry run; Sieve sees no verdicts)', '  bf (filter): would run: /usr/bin/bogofilter -p; timeout 30000ms, on failure defer']],
  ] as const)('%#', (scanners, bytes, want) => expect(scannerLines(scanners, bytes)).toEqual(want));
});

const NOW = 1_800_000_000_000;
const facts = (over: Partial<QuotaFacts> & { text?: string; ageMs?: number }): QuotaFacts => ({
  quota: { limits: { storage: 1000, messages: 0 }, grace: 0, overQuota: 'bounce', ignoreFolders: [] },
  file: over.text === undefined ? undefined : { parsed: parseMaildirsize(over.text), size: over.text.length, mtimeMs: NOW - (over.ageMs ?? 0) },
  nowMs: NOW, messageBytes: 100, copies: 1, ...over,
});

describe('quotaLines', () => {
  it.each([
    ['no limit anywhere', facts({ quota: { limits: { storage: 0, messages: 0 }, grace: 0, overQuota: 'bounce', ignoreFolders: [] } }), ['quota: no limit']],
    ['fits', facts({ text: '1000S\n500 5\n' }), [
      'quota: storage 1000, messages unlimited, grace 0 (from the config)', '  maildirsize: 500 bytes, 5 messages', '  decision: fits (100 bytes × 1)']],
    ['over on a fresh single-line file: the configured bounce', facts({ text: '1000S\n950 5\n' }), [
      'quota: storage 1000, messages unlimited, grace 0 (from the config)', '  maildirsize: 950 bytes, 5 messages',
      expect.stringMatching(/^ {2}decision: would bounce \(exit \d+\): 5\.2\.2 .*storage 950 \+ 100 bytes > limit 1000/)]],
    ['over with several lines: a delivery recounts; untrusted sums defer', facts({ text: '1000S\n900 4\n50 1\n' }), [
      'quota: storage 1000, messages unlimited, grace 0 (from the config)', '  maildirsize: 950 bytes, 5 messages',
      '  a delivery would recount the Maildir first: the message does not fit (storage 950 + 100 bytes > limit 1000) with 2 usage lines',
      expect.stringMatching(/^ {2}decision: would defer \(exit 75\): 4\.2\.2 .*not recounted yet \(on the sums as they are now\)$/)]],
    ['missing maildirsize', facts({}), [
      'quota: storage 1000, messages unlimited, grace 0 (from the config)', '  a delivery would recount the Maildir first: maildirsize is missing', '  decision: after the recount']],
    ['a discard stores nothing', facts({ copies: 0 }), ['quota: storage 1000, messages unlimited, grace 0 (from the config)', '  nothing stored: no quota check']],
  ])('%s', (_name, f, want) => expect(quotaLines(f)).toEqual(want));
});
