/**
 * The global deadline: the only owner of timers in mda. Every stage gets its
 * time as a budget from here (an AbortSignal), so no stage can outlive the
 * delivery; spamc's per-read timeouts are exactly the bug this avoids.
 * When time runs out the signal aborts with a 'deadline' outcome; if cleanup
 * then hangs, the watchdog calls onHardStop after a grace period.
 * Must not: decide exit codes or print anything (that is cli/exit.ts).
 */
import { setMaxListeners } from 'node:events';
import { OutcomeError, temp, type Outcome } from '../outcome/outcome.js';

/** Monotonic ms. process.hrtime, not `performance`, which would load perf_hooks on every start. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface DeadlineOptions {
  /** How long cleanup may take after expiry or abort before onHardStop runs. */
  graceMs: number;
  /** Last resort when cleanup hangs: must end the process. */
  onHardStop: (reason: Outcome) => void;
}

export interface Budget {
  signal: AbortSignal;
  /** Stop the budget's timer once the stage is done. */
  done(): void;
}

/** A repeating timer from Deadline.every. */
export interface Repeat {
  stop(): void;
}

export class Deadline {
  private readonly controller = new AbortController();
  private readonly startedAt = monotonicMs();
  private endsAt: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private watchdog: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout;

  private constructor(ms: number, private readonly opts: DeadlineOptions) {
    // Every stage hangs listeners on this one signal (a budget, a race, each scanner's
    // socket): they are removed when the stage ends, so Node's leak warning (10) is only
    // noise, and in deliver mode noise on stderr would come before the DSN line.
    setMaxListeners(0, this.controller.signal);
    this.endsAt = this.startedAt + ms;
    this.expiry = this.armExpiry(ms);
  }

  private armExpiry(totalMs: number): NodeJS.Timeout {
    return this.schedule(Math.max(0, this.endsAt - monotonicMs()), () =>
      this.abort(temp('deadline', `no result within ${Math.round(totalMs / 1000)}s`)),
    );
  }

  /**
   * setTotal makes the delivery's whole time `ms`, still counted from start():
   * deliver starts the deadline before it reads the config (with --deadline or
   * the embedded default), then applies the config's. Budgets already handed
   * out keep their end. No effect once aborted.
   */
  setTotal(ms: number): void {
    if (this.signal.aborted) return;
    this.clear(this.expiry);
    this.endsAt = this.startedAt + ms;
    this.expiry = this.armExpiry(ms);
  }

  /** start begins counting now; ms is the whole delivery's time. */
  static start(ms: number, opts: DeadlineOptions): Deadline {
    return new Deadline(ms, opts);
  }

  /** Aborted when the deadline expires or abort() is called; reason is an OutcomeError. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * remaining is 0 once aborted: the expiry timer runs on Node's millisecond timer clock and may
   * fire a fraction of a millisecond before endsAt by hrtime, and an abort (SIGTERM) ends the
   * delivery however much time the clock still shows.
   */
  remaining(): number {
    if (this.signal.aborted) return 0;
    return Math.max(0, this.endsAt - monotonicMs());
  }

  /**
   * throwIfAborted: the first line of a stage's catch. An abort (deadline or signal) belongs to
   * the delivery; a stage that turned it into "no script" or "no state" would go on and store.
   */
  throwIfAborted(): void {
    if (this.signal.aborted) throw this.signal.reason;
  }

  /** abort ends the delivery early (e.g. on SIGTERM) and arms the watchdog. */
  abort(reason: Outcome): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(new OutcomeError(reason));
    this.watchdog = setTimeout(() => this.opts.onHardStop(reason), this.opts.graceMs);
    this.watchdog.unref();
  }

  /** rearmWatchdog: after an abort, run onHardStop again ms from now instead (a started commit gets to finish). */
  rearmWatchdog(ms: number): void {
    const reason: unknown = this.signal.reason;
    if (!this.watchdog || !(reason instanceof OutcomeError)) return;
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.opts.onHardStop(reason.outcome), ms);
    this.watchdog.unref();
  }

  /** A child signal that aborts after min(ms, remaining) or with the deadline. */
  budget(ms: number, what: string): Budget {
    const child = new AbortController();
    setMaxListeners(0, child.signal); // one budget may serve many sockets (scanner failover)
    const onParent = () => child.abort(this.signal.reason);
    if (this.signal.aborted) onParent();
    else this.signal.addEventListener('abort', onParent, { once: true });
    const wait = Math.min(ms, this.remaining());
    const t = this.schedule(wait, () =>
      child.abort(new OutcomeError(temp('deadline', `${what} took longer than ${Math.round(wait)}ms`))),
    );
    return {
      signal: child.signal,
      done: () => {
        this.clear(t);
        this.signal.removeEventListener('abort', onParent);
      },
    };
  }

  /** sleep resolves after ms, or rejects when the deadline aborts first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.signal.aborted) return reject(this.signal.reason);
      const onAbort = () => {
        this.clear(t);
        reject(this.signal.reason);
      };
      const t = this.schedule(Math.min(ms, this.remaining()), () => {
        this.signal.removeEventListener('abort', onAbort);
        resolve();
      });
      t.ref(); // a sleep is work in progress: it must keep the event loop alive (guards do not)
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** race settles with p, or rejects with the deadline's reason if it aborts first. */
  race<T>(p: Promise<T>, signal: AbortSignal = this.signal): Promise<T> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
        (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
      );
    });
  }

  /**
   * every runs fn each ms until stop() or dispose() (not until expiry: a lock
   * is still held, and must stay fresh, while cleanup runs after the deadline).
   * Unref'd: a repeating timer never keeps the process alive.
   */
  every(ms: number, fn: () => void): Repeat {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.add(t);
    return { stop: () => this.clear(t) };
  }

  /**
   * grace resolves ms from now whether or not the deadline has fired: how long
   * work that must not be cut short (a commit under way elsewhere) may still take.
   * Unref'd: it never keeps the process alive by itself.
   */
  grace(ms: number): Promise<void> {
    return new Promise((resolve) => void this.schedule(ms, resolve));
  }

  /** dispose stops every timer once the outcome is known (the watchdog too). */
  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
    return t;
  }

  private clear(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.timers.delete(t);
  }
}
