/**
 * The metrics of `mda lmtp`, behind a facade that speaks mda's own words
 * (Outcome, connections, breakers), so the LMTP handler needs no Prometheus
 * knowledge. Outcome → labels goes through the outcome module (toExit's DSN),
 * so a DSN class here is the one the client was sent. One LmtpMetrics per
 * server process. Pure: no I/O, no clock (callers pass seconds and nowMs).
 * Must not: serve HTTP (metrics-http.ts) or format the text (metrics.ts).
 */
import type { ScannerConfig } from '../config/schema.js';
import { reject, type Outcome } from '../outcome/outcome.js';
import { toExit } from '../outcome/to-exit.js';
import { breakerDecision, type BreakerState } from '../scanners/breaker.js';
import { breakerKey, endpointsOf } from '../scanners/run-scanners.js';
import { MetricsRegistry, type Counter, type GaugeSample, type Histogram } from './metrics.js';

/**
 * Upper bounds in seconds, 1 ms .. 60 s: a 2 KB message without scanners takes
 * milliseconds, a spamd scan around a second, and the slowest delivery ends at
 * [delivery] deadline (minutes), which lands in +Inf.
 */
export const DELIVERY_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

export type DeliveryOutcomeLabel = Outcome['kind'];
export type DsnClassLabel = '2' | '4' | '5';
/** Why a RCPT was refused: unknown user (550 5.1.1), over quota (552 5.2.2 / 452 4.2.2), a lookup that could not tell (451), or another refusal. */
export type RcptRefusalReason = 'unknown' | 'over_quota' | 'temp' | 'other';
/** mda_scanner_breaker_state's values. */
export const BREAKER_CLOSED = 0;
export const BREAKER_OPEN = 1;
export const BREAKER_HALF_OPEN = 2;

/** deliveryLabels: the kind, and the class of the DSN toExit/toLmtpReply give this outcome. */
export function deliveryLabels(outcome: Outcome): { outcome: DeliveryOutcomeLabel; dsn_class: DsnClassLabel } {
  const cls = toExit(outcome).dsn.charAt(0);
  return { outcome: outcome.kind, dsn_class: cls === '2' || cls === '5' ? cls : '4' };
}

/** rcptRefusalReason: the reason label of a refused RCPT's outcome (the RcptVerdict's). */
export function rcptRefusalReason(outcome: Outcome): RcptRefusalReason {
  if (outcome.kind === 'reject' && outcome.cause === 'unknown-user') return 'unknown';
  if ((outcome.kind === 'reject' || outcome.kind === 'temp') && outcome.cause === 'over-quota') return 'over_quota';
  if (outcome.kind === 'temp') return 'temp';
  return 'other';
}

/**
 * breakerValue: 0 closed, 1 open (the endpoint is skipped), 2 half-open (the
 * cool-down is over: the next delivery probes it), as breaker.ts decides.
 */
export function breakerValue(state: BreakerState, nowMs: number): number {
  const d = breakerDecision(state, nowMs);
  return d === 'closed' ? BREAKER_CLOSED : d === 'open' ? BREAKER_OPEN : BREAKER_HALF_OPEN;
}

/**
 * breakerSamples: one sample per configured scanner endpoint (keyed as
 * run-scanners.ts keys its breakers), so a healthy endpoint shows 0 instead of
 * no series at all. `peek` reads the state without waiting (MemoryBreakerStore.peek).
 */
export function breakerSamples(
  scanners: readonly ScannerConfig[],
  peek: (key: string) => BreakerState,
  nowMs: number,
): Array<GaugeSample<'scanner' | 'endpoint'>> {
  return scanners.flatMap((cfg) =>
    endpointsOf(cfg).map((endpoint) => ({ labels: { scanner: cfg.name, endpoint }, value: breakerValue(peek(breakerKey(cfg.name, endpoint)), nowMs) })),
  );
}

export interface LmtpMetricsSources {
  /**
   * Open connections, read at scrape time (LineServer's `active`). Without it,
   * the gauge counts connectionOpened() minus connectionClosed().
   */
  activeConnections?: () => number;
  /** The breaker samples, read at scrape time (breakerSamples over the config in force). */
  breakers?: () => Iterable<GaugeSample<'scanner' | 'endpoint'>>;
}

export class LmtpMetrics {
  readonly registry = new MetricsRegistry();
  private readonly deliveries: Counter<'outcome' | 'dsn_class'>;
  private readonly seconds: Histogram<never>;
  private readonly refused: Counter<'reason'>;
  private open = 0;

  constructor(sources: LmtpMetricsSources = {}) {
    const r = this.registry;
    this.deliveries = r.counter('mda_lmtp_deliveries_total', 'Recipients answered after DATA, by outcome and the class of the DSN sent.', ['outcome', 'dsn_class']);
    // The combinations the outcome table can give exist from the start, at 0: rate() needs a first sample.
    for (const [outcome, dsn_class] of [['delivered', '2'], ['discarded', '2'], ['temp', '4'], ['reject', '5']] as const) this.deliveries.inc({ outcome, dsn_class }, 0);
    this.seconds = r.histogram('mda_lmtp_delivery_seconds', 'Seconds from the end of DATA to a recipient\'s reply, one observation per recipient.', DELIVERY_SECONDS_BUCKETS);
    r.gaugeFn('mda_lmtp_connections_active', 'LMTP connections open now.', [], () => [{ labels: {}, value: sources.activeConnections ? sources.activeConnections() : this.open }]);
    this.refused = r.counter('mda_lmtp_rcpt_refused_total', 'RCPT commands refused by the recipient checks, by reason.', ['reason']);
    for (const reason of ['unknown', 'over_quota', 'temp'] as const) this.refused.inc({ reason }, 0);
    r.gaugeFn('mda_scanner_breaker_state', 'Circuit breaker of each scanner endpoint: 0 closed, 1 open, 2 half-open.', ['scanner', 'endpoint'], () => sources.breakers?.() ?? []);
  }

  /** delivered: one recipient's outcome after DATA, and the seconds from the final dot to its reply. */
  delivered(outcome: Outcome, seconds: number): void {
    this.deliveries.inc(deliveryLabels(outcome));
    this.seconds.observe({}, Math.max(0, seconds));
  }

  /** transactionDone: every recipient of one transaction (the outcomes afterDelivery replies with). */
  transactionDone(outcomes: readonly Outcome[], seconds: number): void {
    for (const o of outcomes) this.delivered(o, seconds);
  }

  /**
   * tooLarge: a message over max_message_size, answered 552 per recipient at
   * the dot (counted as reject/5, but no latency: nothing was delivered).
   */
  tooLarge(recipients: number): void {
    this.deliveries.inc(deliveryLabels(reject('too-large', '')), recipients);
  }

  /** rcptRefused: a RCPT answered with a refusal (the RcptVerdict's outcome). */
  rcptRefused(outcome: Outcome): void {
    this.refused.inc({ reason: rcptRefusalReason(outcome) });
  }

  connectionOpened(): void {
    this.open++;
  }

  connectionClosed(): void {
    this.open = Math.max(0, this.open - 1);
  }

  /** render: the text for GET /metrics. */
  render(): string {
    return this.registry.render();
  }
}
