import { describe, expect, it } from 'vitest';
import {
  breakerDecision,
  breakerFileName,
  CLOSED,
  decodeBreaker,
  encodeBreaker,
  MAX_COOLDOWN_MS,
  RECORD_BYTES,
  recordResult,
  shouldLog,
  type BreakerState,
} from '../../../src/scanners/breaker.js';

const NOW = 1_700_000_000_000;
const POLICY = { failures: 3, cooldownMs: 60_000 };
const st = (failures: number, openUntilMs = 0, lastLogMs = 0): BreakerState => ({ failures, openUntilMs, lastLogMs });

describe('breakerDecision', () => {
  it.each<[string, BreakerState, number, string]>([
    ['fresh state', CLOSED, NOW, 'closed'],
    ['failures below the threshold', st(2), NOW, 'closed'],
    ['open, cool-down running', st(3, NOW + 1), NOW, 'open'],
    ['open, cool-down just over', st(3, NOW), NOW, 'probe'],
    ['open, cool-down long over', st(3, NOW - 3_600_000), NOW, 'probe'],
    ['open for exactly the longest cool-down', st(3, NOW + MAX_COOLDOWN_MS), NOW, 'open'],
    ['open beyond any cool-down (clock stepped back, forged file)', st(3, NOW + MAX_COOLDOWN_MS + 1), NOW, 'probe'],
  ])('%s → %s', (_name, state, now, expected) => {
    expect(breakerDecision(state, now)).toBe(expected);
  });
});

describe('recordResult', () => {
  it.each<[string, BreakerState, boolean, BreakerState]>([
    ['first failure counts', CLOSED, false, st(1)],
    ['second failure counts', st(1), false, st(2)],
    ['Nth failure opens for one cool-down', st(2), false, st(3, NOW + 60_000)],
    ['a failed probe reopens from now', st(3, NOW - 5), false, st(4, NOW + 60_000)],
    ['a failure while open pushes it forward', st(5, NOW + 10), false, st(6, NOW + 60_000)],
    ['success resets the count', st(2), true, st(0)],
    ['a successful probe closes it', st(7, NOW - 5), true, st(0)],
    ['lastLogMs survives a failure', st(1, 0, 42), false, st(2, 0, 42)],
    ['lastLogMs survives a success', st(4, NOW, 42), true, st(0, 0, 42)],
    ['the count stops at its field width', st(9_999_999_999), false, st(9_999_999_999, NOW + 60_000)],
  ])('%s', (_name, state, ok, expected) => {
    expect(recordResult(state, ok, NOW, POLICY)).toEqual(expected);
  });

  it('a threshold of 1 opens on the first failure', () => {
    expect(recordResult(CLOSED, false, NOW, { failures: 1, cooldownMs: 1000 })).toEqual(st(1, NOW + 1000));
  });

  it('walks closed → open → probe → open → probe → closed', () => {
    let s: BreakerState = { ...CLOSED };
    let t = NOW;
    for (let i = 0; i < 3; i++) s = recordResult(s, false, t, POLICY);
    expect(breakerDecision(s, t)).toBe('open');
    t += 60_000;
    expect(breakerDecision(s, t)).toBe('probe');
    s = { ...s, openUntilMs: t + POLICY.cooldownMs }; // the prober holds others off
    expect(breakerDecision(s, t + 1)).toBe('open');
    s = recordResult(s, false, t + 2, POLICY);
    expect(breakerDecision(s, t + 3)).toBe('open');
    t += 60_002;
    expect(breakerDecision(s, t)).toBe('probe');
    s = recordResult(s, true, t, POLICY);
    expect(breakerDecision(s, t)).toBe('closed');
  });
});

describe('shouldLog', () => {
  it.each<[string, number, number, boolean]>([
    ['never logged', 0, NOW, true],
    ['logged just now', NOW, NOW, false],
    ['logged within the interval', NOW - 59_999, NOW, false],
    ['interval over', NOW - 60_000, NOW, true],
    ['logged "in the future" a little (clock skew between hosts)', NOW + 1_000, NOW, false],
    ['logged far in the future (clock stepped back)', NOW + 3_600_000, NOW, true],
  ])('%s → %s', (_name, lastLogMs, now, expected) => {
    expect(shouldLog(st(1, 0, lastLogMs), now, 60_000)).toBe(expected);
  });
});

describe('encodeBreaker / decodeBreaker', () => {
  it.each<[BreakerState]>([[CLOSED], [st(1)], [st(5, NOW + 60_000, NOW)], [st(9_999_999_999, 999_999_999_999_999, 1)]])(
    '%j round-trips in exactly RECORD_BYTES',
    (s) => {
      const rec = encodeBreaker(s);
      expect(rec).toHaveLength(RECORD_BYTES);
      expect(decodeBreaker(rec)).toEqual(s);
    },
  );

  it.each<[string, BreakerState, BreakerState]>([
    ['negative numbers become 0', st(-1, -5, -7), CLOSED],
    ['fractions are cut', st(1.7, NOW + 0.5, 0.2), st(1, NOW, 0)],
    ['NaN and Infinity become 0', st(NaN, Infinity, NaN), CLOSED],
  ])('%s', (_name, s, expected) => {
    const rec = encodeBreaker(s);
    expect(rec).toHaveLength(RECORD_BYTES);
    expect(decodeBreaker(rec)).toEqual(expected);
  });

  it.each([
    ['empty', ''],
    ['garbage', 'hello world\n'],
    ['torn (half a record)', encodeBreaker(st(3, NOW, NOW)).slice(0, 30)],
    ['wrong version', encodeBreaker(st(3, NOW, NOW)).replace('mda-breaker 1', 'mda-breaker 2')],
    ['no newline', encodeBreaker(st(3, NOW, NOW)).trimEnd()],
    ['binary', '\0'.repeat(RECORD_BYTES)],
    ['signs', 'mda-breaker 1 -000000001 000000000000000 000000000000000\n'],
  ])('%s decodes as closed', (_name, text) => {
    expect(decodeBreaker(text)).toEqual(CLOSED);
  });

  it('bytes after the record are ignored (a longer file from an older layout)', () => {
    expect(decodeBreaker(encodeBreaker(st(2, NOW, 1)) + 'junk')).toEqual(st(2, NOW, 1));
  });
});

describe('breakerFileName', () => {
  it.each([
    ['spamd', 'spamd.breaker'],
    ['spamd-2', 'spamd-2.breaker'],
    ['clam_av', 'clam_av.breaker'],
    ['127.0.0.1:783', '127%2E0%2E0%2E1%3A783.breaker'],
    ['[::1]:783', '%5B%3A%3A1%5D%3A783.breaker'],
    ['/run/clamav/clamd.ctl', '%2Frun%2Fclamav%2Fclamd%2Ectl.breaker'],
    ['..', '%2E%2E.breaker'],
    ['a/../../etc/passwd', 'a%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd.breaker'],
    ['%41', '%2541.breaker'],
    ['ü', '%C3%BC.breaker'],
    ['', '%.breaker'],
    ['a b\n', 'a%20b%0A.breaker'],
  ])('%j → %s', (key, name) => {
    expect(breakerFileName(key)).toBe(name);
  });

  it('different keys get different names', () => {
    const keys = ['a.b', 'a_b', 'a%2Eb', 'a/b', 'a:b', 'A.b', '', '%'];
    expect(new Set(keys.map(breakerFileName)).size).toBe(keys.length);
  });

  it('long keys stay under NAME_MAX and apart', () => {
    const a = breakerFileName('/'.repeat(300) + 'a');
    const b = breakerFileName('/'.repeat(300) + 'b');
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(255);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_%~-]+\.breaker$/);
  });
});
