/**
 * Runs every configured scanner at once, each inside its own budget taken
 * from the global deadline (its timeout, but never eating the time kept for
 * the commit). No lock is held here: concurrent deliveries scan concurrently.
 * A circuit breaker per scanner, shared by all mda processes, skips a scanner
 * that keeps failing so a dead one costs a delivery nothing.
 * Must not: decide what a verdict means for the mail (route.ts does).
 */
import type { Config } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import type { Logger } from '../log/logger.js';
import { breakerDecision, recordResult, shouldLog, type BreakerState } from './breaker.js';
import { readBreaker, writeBreaker } from './breaker-store.js';
import { isFailure } from './route.js';
import type { ScanRequest, ScannerClient, Verdict } from './types.js';

/** Failures of one scanner are logged at most this often, across all processes. */
const LOG_INTERVAL_MS = 60_000;

export interface ScanContext {
  config: Config;
  deadline: Deadline;
  logger: Logger;
}

export function runScanners(
  clients: readonly ScannerClient[],
  request: Omit<ScanRequest, 'signal'>,
  ctx: ScanContext,
): Promise<Verdict[]> {
  return Promise.all(clients.map((c) => scanOne(c, request, ctx)));
}

async function scanOne(client: ScannerClient, request: Omit<ScanRequest, 'signal'>, ctx: ScanContext): Promise<Verdict> {
  const cfg = ctx.config.scanners.find((s) => s.name === client.name)!;
  const { stateDir, breakerFailures, breakerCooldownMs, commitReserveMs } = ctx.config.scanning;
  const now = Date.now();
  let state: BreakerState = await readBreaker(stateDir, client.name);
  const decision = breakerDecision(state, now);
  if (decision === 'open') {
    return { scanner: client.name, type: client.type, endpoint: cfg.hosts.join(',') || cfg.command.join(' '), status: 'skipped', skip: 'circuit-open', detail: 'circuit breaker open', elapsedMs: 0 };
  }
  if (decision === 'probe') {
    // Hold the others off while this delivery probes (they keep skipping for one more cool-down).
    await writeBreaker(stateDir, client.name, { ...state, openUntilMs: now + breakerCooldownMs });
  }
  const budgetMs = Math.max(0, Math.min(cfg.timeoutMs, ctx.deadline.remaining() - commitReserveMs));
  const budget = ctx.deadline.budget(budgetMs, `scanner ${client.name}`);
  let verdict: Verdict;
  try {
    verdict = await client.scan({ ...request, signal: budget.signal });
  } catch (err) {
    // Clients never reject by contract; a bug in one must still not become a bounce.
    verdict = { scanner: client.name, type: client.type, endpoint: '', status: 'skipped', skip: 'error', detail: `scanner crashed: ${(err as Error).message}`, elapsedMs: 0 };
  } finally {
    budget.done();
  }
  const failed = isFailure(verdict);
  const before = state;
  state = recordResult(state, !failed, Date.now(), { failures: breakerFailures, cooldownMs: breakerCooldownMs });
  if (failed && shouldLog(state, Date.now(), LOG_INTERVAL_MS)) {
    ctx.logger.warn(`scanner ${client.name} ${verdict.endpoint}: ${verdict.skip}: ${verdict.detail}`);
    state = { ...state, lastLogMs: Date.now() };
  }
  // A healthy scanner with a clean record costs no write per delivery.
  const changed = failed || decision === 'probe' || before.failures !== 0 || before.openUntilMs !== 0;
  if (changed) await writeBreaker(stateDir, client.name, state);
  return verdict;
}
