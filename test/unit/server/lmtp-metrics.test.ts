/**
 * The LmtpMetrics facade: every Outcome kind and cause → (outcome, dsn_class)
 * labels that agree with toExit and toLmtpReply, RCPT refusals → reason, the
 * breaker states → 0/1/2 from a MemoryBreakerStore, connections, and the
 * whole text read back by the strict exposition-format parser.
 */
import { describe, expect, it } from 'vitest';
import type { ScannerConfig } from '../../../src/config/schema.js';
import { delivered, discarded, reject, temp, type Outcome, type RejectCause, type TempCause } from '../../../src/outcome/outcome.js';
import { REJECT_TABLE, TEMP_TABLE, toExit } from '../../../src/outcome/to-exit.js';
import { toLmtpReply } from '../../../src/outcome/to-lmtp.js';
import { refusalOutcome } from '../../../src/recipients/resolve.js';
import { MemoryBreakerStore } from '../../../src/scanners/breaker-store.js';
import {
  DELIVERY_SECONDS_BUCKETS,
  LmtpMetrics,
  breakerSamples,
  breakerValue,
  deliveryLabels,
  rcptRefusalReason,
} from '../../../src/server/lmtp-metrics.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';

const every: Outcome[] = [
  delivered('', '/m/new/x'),
  discarded('sieve'),
  ...(Object.keys(TEMP_TABLE) as TempCause[]).map((c) => temp(c, 'd')),
  ...(Object.keys(REJECT_TABLE) as RejectCause[]).map((c) => reject(c, 'd')),
];
const nameOf = (o: Outcome) => `${o.kind}${'cause' in o ? `/${o.cause}` : ''}`;

describe('deliveryLabels: every outcome', () => {
  it.each(every.map((o) => [nameOf(o), o] as const))('RFC 2033 §4.2 / RFC 3463: %s → dsn_class is the class of the reply sent and of toExit', (_n, o) => {
    const l = deliveryLabels(o);
    expect(l.outcome).toBe(o.kind);
    expect(l.dsn_class).toBe(toExit(o).dsn.charAt(0));
    expect(l.dsn_class).toBe(toLmtpReply(o, 'a@b').charAt(0));
  });

  it.each<[string, Outcome, string, string]>([
    ['delivered', delivered('', 'f'), 'delivered', '2'],
    ['a Sieve discard', discarded('sieve'), 'discarded', '2'],
    ['over quota, deferred', temp('over-quota', 'q'), 'temp', '4'],
    ['a scanner down with on_failure = defer', temp('scanner-unavailable', ''), 'temp', '4'],
    ['over quota, bounced', reject('over-quota', 'q'), 'reject', '5'],
    ['a loop', reject('loop', ''), 'reject', '5'],
  ])('%s → outcome=%s, dsn_class=%s', (_n, o, outcome, cls) => {
    expect(deliveryLabels(o)).toEqual({ outcome, dsn_class: cls });
  });
});

describe('rcptRefusalReason', () => {
  it.each<[string, Outcome, string]>([
    ['RFC 3463 5.1.1: unknown user (refusalOutcome of an unknown)', refusalOutcome({ kind: 'unknown', why: 'x' }), 'unknown'],
    ['RFC 3463 4.3.0: lookup failed (refusalOutcome of a temp)', refusalOutcome({ kind: 'temp', why: 'LDAP down' }), 'temp'],
    ['RFC 3463 5.2.2: over quota, over_quota = bounce', reject('over-quota', 'q'), 'over_quota'],
    ['RFC 3463 4.2.2: over quota, over_quota = defer', temp('over-quota', 'q'), 'over_quota'],
    ['another temporary cause', temp('io', 'EIO'), 'temp'],
    ['another rejection (not given at RCPT today)', reject('too-large', ''), 'other'],
  ])('%s → %s', (_n, o, reason) => {
    expect(rcptRefusalReason(o)).toBe(reason);
  });
});

describe('breakers', () => {
  const NOW = 1_800_000_000_000;
  it.each<[string, { failures: number; openUntilMs: number; lastLogMs: number }, number]>([
    ['never failed', { failures: 0, openUntilMs: 0, lastLogMs: 0 }, 0],
    ['failing but not yet open', { failures: 2, openUntilMs: 0, lastLogMs: 0 }, 0],
    ['open, cool-down running', { failures: 5, openUntilMs: NOW + 30_000, lastLogMs: 0 }, 1],
    ['cool-down over: the next delivery probes (half-open)', { failures: 5, openUntilMs: NOW - 1, lastLogMs: 0 }, 2],
    ['open until an impossible future (clock stepped back): probes', { failures: 5, openUntilMs: NOW + 86_400_000, lastLogMs: 0 }, 2],
  ])('%s → %s', (_n, state, want) => {
    expect(breakerValue(state, NOW)).toBe(want);
  });

  it('one sample per configured endpoint, read from the memory store under run-scanners.ts keys', async () => {
    const scanners = [
      { type: 'spamd', name: 'spamd', hosts: ['10.0.0.1:783', '10.0.0.2:783'], command: [] },
      { type: 'filter', name: 'dkim', hosts: [], command: ['/usr/bin/filter', '-q'] },
    ] as unknown as ScannerConfig[];
    const store = new MemoryBreakerStore();
    await store.write('spamd 10.0.0.2:783', { failures: 5, openUntilMs: NOW + 1000, lastLogMs: 0 });
    await store.write('dkim /usr/bin/filter -q', { failures: 5, openUntilMs: NOW - 1000, lastLogMs: 0 });
    expect(breakerSamples(scanners, (k) => store.peek(k), NOW)).toEqual([
      { labels: { scanner: 'spamd', endpoint: '10.0.0.1:783' }, value: 0 },
      { labels: { scanner: 'spamd', endpoint: '10.0.0.2:783' }, value: 1 },
      { labels: { scanner: 'dkim', endpoint: '/usr/bin/filter -q' }, value: 2 },
    ]);
  });

  it('peek returns a copy and the closed state for an unknown key', async () => {
    const store = new MemoryBreakerStore();
    expect(store.peek('x')).toEqual({ failures: 0, openUntilMs: 0, lastLogMs: 0 });
    await store.write('x', { failures: 1, openUntilMs: 2, lastLogMs: 3 });
    store.peek('x').failures = 99;
    expect(store.peek('x')).toEqual({ failures: 1, openUntilMs: 2, lastLogMs: 3 });
  });
});

describe('LmtpMetrics', () => {
  it('a fresh facade shows every metric, the deliveries and refusals the table can give at 0', () => {
    const f = parsePrometheusText(new LmtpMetrics().render());
    expect([...f.keys()]).toEqual(['mda_lmtp_deliveries_total', 'mda_lmtp_delivery_seconds', 'mda_lmtp_connections_active', 'mda_lmtp_rcpt_refused_total', 'mda_scanner_breaker_state']);
    expect(f.get('mda_lmtp_deliveries_total')!.type).toBe('counter');
    expect(f.get('mda_lmtp_delivery_seconds')!.type).toBe('histogram');
    expect(f.get('mda_lmtp_connections_active')!.type).toBe('gauge');
    expect(f.get('mda_scanner_breaker_state')!.type).toBe('gauge');
    for (const [outcome, dsn_class] of [['delivered', '2'], ['discarded', '2'], ['temp', '4'], ['reject', '5']]) {
      expect(sampleValue(f, 'mda_lmtp_deliveries_total', { outcome: outcome!, dsn_class: dsn_class! })).toBe(0);
    }
    for (const reason of ['unknown', 'over_quota', 'temp']) expect(sampleValue(f, 'mda_lmtp_rcpt_refused_total', { reason })).toBe(0);
    expect(sampleValue(f, 'mda_lmtp_connections_active')).toBe(0);
    expect(f.get('mda_lmtp_delivery_seconds')!.samples.filter((s) => s.name.endsWith('_bucket'))).toHaveLength(DELIVERY_SECONDS_BUCKETS.length + 1);
  });

  it('every outcome kind is counted under its labels; one histogram observation per recipient', () => {
    const m = new LmtpMetrics();
    for (const o of every) m.delivered(o, 0.004);
    m.transactionDone([delivered('', 'a'), temp('over-quota', 'q'), reject('unknown-user', 'u')], 2);
    const f = parsePrometheusText(m.render());
    const temps = Object.keys(TEMP_TABLE).length;
    const rejects = Object.keys(REJECT_TABLE).length;
    expect(sampleValue(f, 'mda_lmtp_deliveries_total', { outcome: 'delivered', dsn_class: '2' })).toBe(2);
    expect(sampleValue(f, 'mda_lmtp_deliveries_total', { outcome: 'discarded', dsn_class: '2' })).toBe(1);
    expect(sampleValue(f, 'mda_lmtp_deliveries_total', { outcome: 'temp', dsn_class: '4' })).toBe(temps + 1);
    expect(sampleValue(f, 'mda_lmtp_deliveries_total', { outcome: 'reject', dsn_class: '5' })).toBe(rejects + 1);
    expect(f.get('mda_lmtp_deliveries_total')!.samples).toHaveLength(4); // no other combination appeared
    const n = every.length + 3;
    expect(sampleValue(f, 'mda_lmtp_delivery_seconds_count')).toBe(n);
    expect(sampleValue(f, 'mda_lmtp_delivery_seconds_bucket', { le: '0.0025' })).toBe(0);
    expect(sampleValue(f, 'mda_lmtp_delivery_seconds_bucket', { le: '0.005' })).toBe(every.length);
    expect(sampleValue(f, 'mda_lmtp_delivery_seconds_bucket', { le: '2.5' })).toBe(n);
    expect(sampleValue(f, 'mda_lmtp_delivery_seconds_sum')).toBeCloseTo(every.length * 0.004 + 3 * 2, 9);
  });

  it('a negative duration (a caller bug) counts as 0 s, never as a value below every bucket', () => {
    const m = new LmtpMetrics();
    m.delivered(delivered('', 'f'), -3);
    const f = parsePrometheusText(m.render());
    expect(sampleValue(f, 'mda_lmtp_delivery_seconds_sum')).toBe(0);
    expect(sampleValue(f, 'mda_lmtp_delivery_seconds_bucket', { le: '0.001' })).toBe(1);
  });

  it('RFC 1870 / RFC 2033 §4.2: a message too large counts one reject/5 per recipient and no latency', () => {
    const m = new LmtpMetrics();
    m.tooLarge(3);
    const f = parsePrometheusText(m.render());
    expect(sampleValue(f, 'mda_lmtp_deliveries_total', { outcome: 'reject', dsn_class: '5' })).toBe(3);
    expect(sampleValue(f, 'mda_lmtp_delivery_seconds_count')).toBe(0);
  });

  it('RCPT refusals are counted by reason', () => {
    const m = new LmtpMetrics();
    m.rcptRefused(reject('unknown-user', 'x'));
    m.rcptRefused(reject('unknown-user', 'y'));
    m.rcptRefused(temp('over-quota', 'q'));
    m.rcptRefused(temp('system', 'ldap'));
    const f = parsePrometheusText(m.render());
    expect(sampleValue(f, 'mda_lmtp_rcpt_refused_total', { reason: 'unknown' })).toBe(2);
    expect(sampleValue(f, 'mda_lmtp_rcpt_refused_total', { reason: 'over_quota' })).toBe(1);
    expect(sampleValue(f, 'mda_lmtp_rcpt_refused_total', { reason: 'temp' })).toBe(1);
  });

  it('connections: counted by opened/closed (never below 0), or read from the server at scrape time', () => {
    const m = new LmtpMetrics();
    m.connectionOpened();
    m.connectionOpened();
    m.connectionClosed();
    expect(sampleValue(parsePrometheusText(m.render()), 'mda_lmtp_connections_active')).toBe(1);
    m.connectionClosed();
    m.connectionClosed();
    expect(sampleValue(parsePrometheusText(m.render()), 'mda_lmtp_connections_active')).toBe(0);
    let active = 3;
    const fromServer = new LmtpMetrics({ activeConnections: () => active });
    expect(sampleValue(parsePrometheusText(fromServer.render()), 'mda_lmtp_connections_active')).toBe(3);
    active = 0;
    expect(sampleValue(parsePrometheusText(fromServer.render()), 'mda_lmtp_connections_active')).toBe(0);
  });

  it('breaker states come from the callback at each scrape, with escaped scanner names', () => {
    let value = 1;
    const m = new LmtpMetrics({ breakers: () => [{ labels: { scanner: 'spam "d"', endpoint: '[::1]:783' }, value }] });
    expect(m.render()).toContain('mda_scanner_breaker_state{scanner="spam \\"d\\"",endpoint="[::1]:783"} 1\n');
    value = 0;
    expect(sampleValue(parsePrometheusText(m.render()), 'mda_scanner_breaker_state', { scanner: 'spam "d"', endpoint: '[::1]:783' })).toBe(0);
  });
});
