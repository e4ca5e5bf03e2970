/**
 * Runs every configured scanner at once, each inside its own budget taken
 * from the global deadline (its timeout, but never eating the time kept for
 * the commit). No lock is held here: concurrent deliveries scan concurrently.
 * A circuit breaker per scanner endpoint, kept in the store the front end
 * hands in (per uid on disk for `mda deliver`, in memory for a server), leaves
 * out hosts that keep failing, so a dead scanner costs a delivery nothing and
 * a dead primary no longer hides a healthy fail-over host.
 * Must not: decide what a verdict means for the mail (route.ts does).
 */
import type { Config, ScannerConfig } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import type { Logger } from '../log/logger.js';
import { breakerDecision, recordResult, shouldLog, type BreakerState } from './breaker.js';
import type { BreakerStore } from './breaker-store.js';
import { isFailure } from './route.js';
import type { ScanRequest, ScannerClient, Verdict } from './types.js';

/** Failures of one endpoint are logged at most this often, across the processes sharing a breaker store. */
const LOG_INTERVAL_MS = 60_000;

export interface ScanContext {
  config: Config;
  deadline: Deadline;
  logger: Logger;
  /** Where the breakers live: only state this delivery's uid (or this server) wrote. */
  breakers: BreakerStore;
  /** Builds a client for a scanner config (with only the endpoints worth trying). */
  createScanner: (cfg: ScannerConfig) => ScannerClient;
}

/** The endpoints a breaker tracks: each host, or the filter's command. */
export const endpointsOf = (cfg: ScannerConfig): string[] => (cfg.type === 'filter' ? [cfg.command.join(' ')] : cfg.hosts);
/** One breaker per scanner endpoint. */
export const breakerKey = (scanner: string, endpoint: string): string => `${scanner} ${endpoint}`;

export function runScanners(request: Omit<ScanRequest, 'signal' | 'onHost'>, ctx: ScanContext): Promise<Verdict[]> {
  return Promise.all(ctx.config.scanners.map((cfg) => scanOne(cfg, request, ctx)));
}

async function scanOne(cfg: ScannerConfig, request: Omit<ScanRequest, 'signal' | 'onHost'>, ctx: ScanContext): Promise<Verdict> {
  const { breakerFailures, breakerCooldownMs, commitReserveMs } = ctx.config.scanning;
  const policy = { failures: breakerFailures, cooldownMs: breakerCooldownMs };
  const endpoints = endpointsOf(cfg);
  const now = Date.now();
  const states = new Map<string, BreakerState>();
  for (const e of endpoints) states.set(e, await ctx.breakers.read(breakerKey(cfg.name, e)));
  const decisions = new Map(endpoints.map((e) => [e, breakerDecision(states.get(e)!, now)]));
  const live = endpoints.filter((e) => decisions.get(e) !== 'open');
  if (live.length === 0) {
    return { scanner: cfg.name, type: cfg.type, endpoint: endpoints.join(','), status: 'skipped', skip: 'circuit-open', detail: 'circuit breaker open', elapsedMs: 0 };
  }
  for (const e of live) {
    // Hold the others off while this delivery probes (they keep skipping for one more cool-down).
    if (decisions.get(e) === 'probe') await ctx.breakers.write(breakerKey(cfg.name, e), { ...states.get(e)!, openUntilMs: now + breakerCooldownMs });
  }

  const results = new Map<string, boolean>();
  const budgetMs = Math.max(0, Math.min(cfg.timeoutMs, ctx.deadline.remaining() - commitReserveMs));
  const budget = ctx.deadline.budget(budgetMs, `scanner ${cfg.name}`);
  let verdict: Verdict;
  try {
    const client = ctx.createScanner(cfg.type === 'filter' ? cfg : { ...cfg, hosts: live });
    verdict = await client.scan({ ...request, signal: budget.signal, onHost: (host, ok) => results.set(host, ok) });
  } catch (err) {
    // Clients never reject by contract; a bug in one must still not become a bounce.
    verdict = { scanner: cfg.name, type: cfg.type, endpoint: '', status: 'skipped', skip: 'error', detail: `scanner crashed: ${(err as Error).message}`, elapsedMs: 0 };
  } finally {
    budget.done();
  }
  // Filters (and clients that could not say) are judged by their verdict.
  if (results.size === 0 && verdict.skip !== 'too-large') for (const e of live) results.set(e, !isFailure(verdict));

  for (const [endpoint, ok] of results) {
    const before = states.get(endpoint) ?? { failures: 0, openUntilMs: 0, lastLogMs: 0 };
    // A healthy endpoint with a clean record costs no write (nor a second read) per delivery.
    if (ok && decisions.get(endpoint) !== 'probe' && before.failures === 0 && before.openUntilMs === 0) continue;
    // Recorded on the latest state: deliveries that scanned at the same time add up their
    // failures, and only the first of them logs (a line per failure once filled a log disk).
    let log = false;
    await ctx.breakers.update(breakerKey(cfg.name, endpoint), (latest) => {
      const now = Date.now();
      const next = recordResult(latest, ok, now, policy);
      log = !ok && shouldLog(next, now, LOG_INTERVAL_MS);
      return log ? { ...next, lastLogMs: now } : next;
    });
    if (log) ctx.logger.warn(`scanner ${cfg.name} ${endpoint}: ${verdict.skip ?? 'failed'}: ${verdict.detail}`);
  }
  return verdict;
}
