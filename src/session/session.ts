/**
 * A delivery session: everything one message's delivery owns, so that many
 * sessions can run in one process (LMTP) without seeing each other: the
 * deadline, the log context, the lock leases, the commit gate and the outcome
 * of each recipient.
 * Process-wide things (the unique-name source, the config) are handed in by
 * the front end that created the session. Must not: read input, exit, or
 * print; front ends (cli/deliver.ts, later servers) do that.
 */
import type { Config } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import { LockHolder } from '../locks/holder.js';
import type { Logger } from '../log/logger.js';
import type { NameSource } from '../maildir/name-source.js';
import type { Outcome } from '../outcome/outcome.js';
import type { MaildirMemo } from '../maildir/maildir-memo.js';
import type { BreakerStore } from '../scanners/breaker-store.js';

export interface Session {
  readonly config: Config;
  readonly deadline: Deadline;
  readonly logger: Logger;
  readonly names: NameSource;
  readonly gate: CommitGate;
  /** The locks this session holds (the front end's exit hook releases them). */
  readonly locks: LockHolder;
  /** Postfix's environment (deliver mode) or an empty one (servers). */
  readonly env: NodeJS.ProcessEnv;
  /**
   * The process started as root (it may since have become the recipient): files that speak for
   * the admin, like [sieve] before/after scripts, must then be root's alone (io/trusted-path.ts).
   */
  readonly startedAsRoot: boolean;
  /**
   * The scanner breakers a long-running front end keeps for its sessions (a
   * MemoryBreakerStore); undefined in `mda deliver`, which uses the files of
   * the uid it runs as.
   */
  readonly breakers: BreakerStore | undefined;
  /** What a server learned lately of the Maildirs it delivers to (maildir-memo.ts); undefined: check every time. */
  readonly maildirs: MaildirMemo | undefined;
}

export interface SessionParts {
  config: Config;
  deadline: Deadline;
  logger: Logger;
  names: NameSource;
  env?: NodeJS.ProcessEnv;
  startedAsRoot?: boolean;
  breakers?: BreakerStore;
  maildirs?: MaildirMemo;
}

export function openSession(p: SessionParts): Session {
  return {
    config: p.config, deadline: p.deadline, logger: p.logger, names: p.names, gate: new CommitGate(p.deadline.signal),
    locks: new LockHolder(), env: p.env ?? {}, startedAsRoot: p.startedAsRoot ?? false, breakers: p.breakers, maildirs: p.maildirs,
  };
}

/**
 * The commit gate: once the deadline (or a signal) has fired, no commit starts;
 * a commit that has started runs to its end, and what it stored is recorded so
 * that a front end ending the process early still reports the truth (a stored
 * message is never reported as deferred: Postfix would deliver it again).
 */
export class CommitGate {
  private running = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly storedBy = new Map<string, Outcome>();

  constructor(private readonly signal: AbortSignal) {}

  /** enter starts a commit, or returns false when the deadline or a signal has already fired. */
  enter(): boolean {
    if (this.signal.aborted) return false;
    this.running++;
    return true;
  }

  /** leave ends a commit that enter() started. */
  leave(): void {
    if (--this.running === 0) for (const w of this.waiters.splice(0)) w();
  }

  /** A commit is running now. */
  get busy(): boolean {
    return this.running > 0;
  }

  /** Resolves when no commit is running (at once when none is). */
  idle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }

  /** stored records that `recipient`'s copies are durable, before anything else can fail. */
  stored(recipient: string, outcome: Outcome): void {
    this.storedBy.set(recipient, outcome);
  }

  /** The recorded outcome of a recipient whose copies are durable, if any. */
  storedFor(recipient: string): Outcome | undefined {
    return this.storedBy.get(recipient);
  }
}
