/**
 * The parent side of per-uid delivery, for front ends that run as root: one
 * long-lived worker process per uid (uid-worker-main.ts), started on first use.
 * A job streams the spooled message to the worker in chunks, mirrors the
 * session's deadline and abort, relays the worker's log lines to the session's
 * logger, answers its reads and writes of the session's scanner breakers (only keys of
 * configured endpoints, open no longer than one cool-down), and returns one outcome per recipient. A worker that dies or cannot
 * switch user fails its jobs with a deferral, never a bounce.
 * Must not: deliver anything itself, or change this process's privileges.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as C } from 'node:fs';
import type { Config } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import { open, read, withFd } from '../io/fs-async.js';
import type { Logger } from '../log/logger.js';
import { OutcomeError, temp, type Outcome } from '../outcome/outcome.js';
import type { MessageRecipient, RecipientResult, SpooledMessage, UidRunner } from '../pipeline/deliver-message.js';
import type { Account } from '../privileges/accounts.js';
import type { BreakerStore } from '../scanners/breaker-store.js';
import { CLOSED, type BreakerState } from '../scanners/breaker.js';
import { breakerKey, endpointsOf } from '../scanners/run-scanners.js';
import type { Session } from './session.js';
import { CHUNK_BYTES, type FromWorker, type ToWorker } from './uid-worker-protocol.js';

/** How to start a worker: this Node with an entry that calls runUidWorker(). */
export interface WorkerEntry {
  execPath: string;
  args: string[];
}

/** How long a job's answer is still awaited after the session's deadline (a started commit runs to its end). */
const COMMIT_GRACE_MS = 30_000;

/** Resolves ms after the deadline fires (at once if it has). */
function afterDeadline(d: Deadline, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const arm = () => void d.grace(ms).then(resolve);
    if (d.signal.aborted) arm();
    else d.signal.addEventListener('abort', arm, { once: true });
  });
}

interface Pending {
  logger: Logger;
  breakers: BreakerStore | undefined;
  resolve: (results: RecipientResult[]) => void;
}

class Worker {
  readonly ready: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: string | undefined;

  /** The breaker keys of the configured endpoints: a worker can name no others. */
  private readonly breakerKeys: Set<string>;

  constructor(private readonly child: ChildProcess, account: Account, private readonly config: Config) {
    this.breakerKeys = new Set(config.scanners.flatMap((c) => endpointsOf(c).map((e) => breakerKey(c.name, e))));
    this.ready = new Promise((resolve, reject) => {
      child.on('message', (m: FromWorker) => {
        if (m.t === 'ready') resolve();
        else if (m.t === 'failed') reject(new Error(`worker for uid ${account.uid}: ${m.why}`));
        else if (m.t === 'log') this.pending.get(m.id)?.logger[m.severity](m.msg);
        else if (m.t === 'breaker-read') void this.breakerRead(m.id, m.req, m.key);
        else if (m.t === 'breaker-write') void this.breakerWrite(m.id, m.key, m.state);
        else if (m.t === 'done') {
          this.pending.get(m.id)?.resolve(m.results);
          this.pending.delete(m.id);
        }
      });
      child.on('exit', (code, signal) => {
        this.dead = `worker for uid ${account.uid} ended (${signal ?? code})`;
        reject(new Error(this.dead));
        for (const p of this.pending.values()) p.resolve([]);
        this.pending.clear();
      });
    });
    this.ready.catch(() => undefined); // observed by every job
    this.post({ t: 'init', account, groups: undefined, config });
  }

  private async breakerRead(id: number, req: number, key: string): Promise<void> {
    const store = this.pending.get(id)?.breakers;
    const state = store && this.breakerKeys.has(key) ? await store.read(key) : { ...CLOSED };
    await this.post({ t: 'breaker', req, state }).catch(() => undefined);
  }

  /** A worker runs as a user: what it writes is clamped to what run-scanners.ts itself would write. */
  private async breakerWrite(id: number, key: string, s: BreakerState): Promise<void> {
    const store = this.pending.get(id)?.breakers;
    if (!store || !this.breakerKeys.has(key)) return;
    const num = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);
    const now = Date.now();
    await store.write(key, { failures: num(s.failures), openUntilMs: Math.min(num(s.openUntilMs), now + this.config.scanning.breakerCooldownMs), lastLogMs: Math.min(num(s.lastLogMs), now) });
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  private post(m: ToWorker): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) return reject(new Error(this.dead ?? 'worker not connected'));
      this.child.send(m, (err) => (err ? reject(err) : resolve()));
    });
  }

  async run(s: Session, msg: SpooledMessage, rcpts: MessageRecipient[]): Promise<RecipientResult[]> {
    await s.deadline.race(this.ready);
    const id = this.nextId++;
    const done = new Promise<RecipientResult[]>((resolve) => this.pending.set(id, { logger: s.logger, breakers: s.breakers, resolve }));
    const onAbort = () => void this.post({ t: 'abort', id, why: 'the session was aborted' }).catch(() => undefined);
    s.deadline.signal.addEventListener('abort', onAbort, { once: true });
    try {
      // The worker resolves each recipient as its own uid: a resolution made as root would ask it to switch.
      await this.post({ t: 'begin', id, deadlineMs: s.deadline.remaining(), header: msg.header, rcpts: rcpts.map(({ resolved: _, ...r }) => r), breakers: s.breakers !== undefined });
      await withFd(await open(msg.spool.path, C.O_RDONLY | C.O_NOFOLLOW), async (fd) => {
        const buf = Buffer.allocUnsafe(CHUNK_BYTES);
        for (let pos = 0; ; ) {
          const n = await read(fd, buf, 0, buf.length, pos);
          if (n === 0) break;
          await this.post({ t: 'data', id, chunk: buf.subarray(0, n) });
          pos += n;
        }
      });
      await this.post({ t: 'end', id });
      // After the deadline the worker's own deadline ends the job; a commit it has started still
      // runs to its end, so its answer is awaited a little longer before the copies count as deferred.
      return await Promise.race([done, afterDeadline(s.deadline, COMMIT_GRACE_MS).then(() => [])]);
    } finally {
      s.deadline.signal.removeEventListener('abort', onAbort);
    }
  }

  /** stop lets a worker with jobs finish them (it exits once disconnected and idle); an idle or stuck one is ended now. */
  stop(): void {
    if (this.pending.size === 0) this.child.kill('SIGTERM');
    else if (this.child.connected) this.child.disconnect();
  }
}

export class UidWorkers implements UidRunner {
  private readonly byUid = new Map<number, Worker>();

  constructor(private readonly entry: WorkerEntry, private readonly config: Config) {}

  async deliver(s: Session, account: Account, msg: SpooledMessage, rcpts: MessageRecipient[]): Promise<RecipientResult[]> {
    const failAll = (outcome: Outcome) => rcpts.map((r) => ({ user: r.user, outcome, facts: { user: r.user } }));
    try {
      const results = await this.worker(account).run(s, msg, rcpts);
      return results.length === rcpts.length ? results : failAll(temp('system', `the worker for uid ${account.uid} ended mid-delivery`));
    } catch (err) {
      return failAll(err instanceof OutcomeError ? err.outcome : temp('system', (err as Error).message));
    }
  }

  /** close lets every worker finish its jobs and exit. */
  close(): void {
    for (const w of this.byUid.values()) w.stop();
    this.byUid.clear();
  }

  private worker(account: Account): Worker {
    const seen = this.byUid.get(account.uid);
    if (seen?.alive) return seen;
    const child = spawn(this.entry.execPath, this.entry.args, {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'advanced',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    const w = new Worker(child, account, this.config);
    this.byUid.set(account.uid, w);
    return w;
  }
}
