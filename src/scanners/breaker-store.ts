/**
 * Where circuit-breaker state (breaker.ts) lives, as an interface with two
 * homes: files private to one uid (breaker-file-store.ts: `mda deliver`, one
 * process per message, running as the recipient) and memory (this file: a
 * long-running server keeps its breakers in its own process, where no local
 * user can reach them).
 * Contract for every store: read never throws and returns a closed breaker
 * when it has nothing it trusts; write never throws and may drop the state (a
 * lost write only costs one more scan attempt, never a skipped scan).
 * Must not: decide anything about breakers (breaker.ts does).
 */
import { CLOSED, type BreakerState } from './breaker.js';

export interface BreakerStore {
  /** The endpoint's state; closed when there is none or it cannot be trusted. */
  read(key: string): Promise<BreakerState>;
  /** Stores the endpoint's state; failures are ignored (the breaker is then off). */
  write(key: string, state: BreakerState): Promise<void>;
  /**
   * Applies `change` to the latest state and stores the result (nothing when it returns its
   * argument): how a delivery records its result, so results of deliveries that scanned at
   * the same time add up instead of overwriting each other. Atomic in memory; elsewhere a
   * read and a write as close together as the store allows.
   */
  update(key: string, change: (latest: BreakerState) => BreakerState): Promise<BreakerState>;
}

/** updateByReadWrite: `update` for stores that can only read and write (a lost update costs one more scan attempt). */
export async function updateByReadWrite(store: Pick<BreakerStore, 'read' | 'write'>, key: string, change: (latest: BreakerState) => BreakerState): Promise<BreakerState> {
  const latest = await store.read(key);
  const next = change(latest);
  if (next !== latest) await store.write(key, next);
  return next;
}

/**
 * Breakers in this process's memory, for servers: one instance per server
 * (never module-level), shared by the sessions that server runs. Keys come
 * from the configured scanner endpoints, so the map stays as small as the
 * config.
 */
export class MemoryBreakerStore implements BreakerStore {
  private readonly states = new Map<string, BreakerState>();

  read(key: string): Promise<BreakerState> {
    return Promise.resolve(this.peek(key));
  }

  /**
   * peek: the state now, synchronously, for a metrics scrape (which must not
   * wait on anything); a copy, closed when there is none. Never writes.
   */
  peek(key: string): BreakerState {
    const s = this.states.get(key);
    return s ? { ...s } : { ...CLOSED };
  }

  write(key: string, state: BreakerState): Promise<void> {
    this.states.set(key, { failures: state.failures, openUntilMs: state.openUntilMs, lastLogMs: state.lastLogMs });
    return Promise.resolve();
  }

  /** Read, change and write with no await in between: nothing else runs meanwhile. */
  update(key: string, change: (latest: BreakerState) => BreakerState): Promise<BreakerState> {
    const latest = this.peek(key);
    const next = change(latest);
    if (next !== latest) void this.write(key, next);
    return Promise.resolve({ ...next });
  }
}
