/**
 * The parent side of `mda quota` per-Maildir work: jobs run in worker
 * processes (`mda __quota-maildir-worker`), started with the Maildir owner's
 * uid and gid when root runs the command (Node has no openat(): a process
 * with the owner's rights is what keeps a user's symlinks from steering
 * root). A worker serves one uid/gid, one job at a time, and is reused for
 * that owner's next Maildir (a process start costs ~50 ms). A job that
 * outlives its budget, or a run that is stopped, ends its worker (SIGTERM,
 * then SIGKILL): a stuck worker (a FIFO, a hung mount) never holds us up.
 * Must not: touch a Maildir itself, or decide who the owner is (owner.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Deadline } from '../deadline/deadline.js';
import type { MailboxResult, MaildirJob } from './maildir-job.js';

/** The argv[0] (after the entry script) that makes `mda` run as this worker; not a command anyone types. */
export const QUOTA_WORKER_ARG = '__quota-maildir-worker';

/** How to start a worker: this Node and the mda entry script. */
export interface WorkerEntry {
  execPath: string;
  args: string[];
}

export interface Owner {
  uid: number;
  gid: number;
}

/** After SIGTERM a worker gets this long to release its lock and exit; then SIGKILL. */
const KILL_AFTER_MS = 2_000;
/** A result line is small; a worker printing more than this is not answering. */
const MAX_LINE = 64 * 1024;

const reasonOf = (s: AbortSignal): string => (s.reason as Error | undefined)?.message ?? 'aborted';

/** One worker process: serves one owner, one job at a time, answers one JSON line per job. */
class Worker {
  private buf = '';
  private answer: ((r: MailboxResult) => void) | undefined;
  private stopped: string | undefined;
  private exited = false;
  private stderr = '';

  constructor(readonly key: string, private readonly child: ChildProcess, private readonly owner: Owner | undefined, onExit: () => void) {
    child.stdout!.on('data', (d: Buffer) => this.onData(d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => void (this.stderr.length < MAX_LINE && (this.stderr += d.toString('utf8'))));
    child.stdin!.on('error', () => undefined); // a worker that died: its exit says why
    child.on('error', (err) => void (this.stderr += `${err.message}\n`));
    child.on('close', (code, signal) => {
      this.exited = true;
      onExit();
      const why = this.stopped ?? `the worker${this.owner ? ` (uid ${this.owner.uid})` : ''} ended (${signal ?? `exit ${code}`}): ${this.stderr.trim().split('\n')[0] ?? ''}`;
      this.settle({ error: why.replace(/: $/, '') });
    });
  }

  get busy(): boolean {
    return this.answer !== undefined;
  }

  get alive(): boolean {
    return !this.exited && this.stopped === undefined;
  }

  run(job: MaildirJob): Promise<MailboxResult> {
    return new Promise((resolve) => {
      this.answer = resolve;
      this.child.stdin!.write(`${JSON.stringify(job)}\n`);
    });
  }

  /** stop ends the worker: its job (if any) answers `why` once the process is gone. */
  stop(why: string, deadline: Deadline): void {
    if (this.exited) return;
    this.stopped ??= why;
    this.child.kill('SIGTERM');
    void deadline.grace(KILL_AFTER_MS).then(() => this.kill());
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** close lets an idle worker end by itself (stdin EOF). */
  close(): void {
    this.child.stdin!.end();
  }

  private onData(text: string): void {
    this.buf += text;
    for (let nl = this.buf.indexOf('\n'); nl !== -1; nl = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      this.settle(parseResult(line) ?? { error: 'the worker answered something that is not a result' });
    }
    if (this.buf.length > MAX_LINE) this.buf = ''; // not a worker's answer; its job ends by budget
  }

  private settle(r: MailboxResult): void {
    const answer = this.answer;
    this.answer = undefined;
    answer?.(r);
  }
}

/**
 * WorkerPool keeps at most `size` worker processes; callers run at most
 * `size` jobs at once (mapLimited), so a job always finds a worker to use or room to start one.
 */
export class WorkerPool {
  private readonly workers = new Set<Worker>();

  constructor(private readonly entry: WorkerEntry, private readonly deadline: Deadline, private readonly size: number) {}

  /** run does job as `owner` (undefined: as this process) within budgetMs; every failure is an error result. */
  async run(job: MaildirJob, owner: Owner | undefined, budgetMs: number): Promise<MailboxResult> {
    if (this.deadline.signal.aborted) return { error: `stopped (${reasonOf(this.deadline.signal)})` };
    const worker = this.workerFor(owner);
    if (!worker) return { error: 'cannot start a worker process' };
    const budget = this.deadline.budget(budgetMs, 'the Maildir');
    const stop = (): void =>
      worker.stop(
        this.deadline.signal.aborted ? `stopped (${reasonOf(this.deadline.signal)})` : `no result within ${budgetMs < 1000 ? `${budgetMs}ms` : `${Math.round(budgetMs / 1000)}s`} (--user-timeout); its worker was ended`,
        this.deadline,
      );
    budget.signal.addEventListener('abort', stop, { once: true });
    try {
      return await worker.run({ ...job, budgetMs });
    } finally {
      budget.signal.removeEventListener('abort', stop);
      budget.done();
    }
  }

  /** close ends the idle workers (the run is over); killAll is for a process that is exiting now. */
  close(): void {
    for (const w of this.workers) w.close();
  }

  killAll(): void {
    for (const w of this.workers) w.kill();
  }

  private workerFor(owner: Owner | undefined): Worker | undefined {
    const key = owner ? `${owner.uid}:${owner.gid}` : 'self';
    for (const w of this.workers) if (w.key === key && w.alive && !w.busy) return w;
    if (this.workers.size >= this.size) {
      // Full: make room by ending an idle worker of another owner (callers keep at most `size` jobs in flight).
      const idle = [...this.workers].find((w) => !w.busy);
      if (idle) {
        idle.close();
        this.workers.delete(idle);
      }
    }
    let child: ChildProcess;
    try {
      child = spawn(this.entry.execPath, [...this.entry.args, QUOTA_WORKER_ARG], {
        cwd: '/',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        stdio: ['pipe', 'pipe', 'pipe'],
        // libuv drops root's supplementary groups (setgroups(0)) before setgid/setuid.
        ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      });
    } catch {
      return undefined;
    }
    const w: Worker = new Worker(key, child, owner, () => this.workers.delete(w));
    this.workers.add(w);
    return w;
  }
}

/** parseResult reads a worker's `{"result": ...}` line; undefined when it is not one. */
export function parseResult(line: string): MailboxResult | undefined {
  let v: unknown;
  try {
    v = (JSON.parse(line) as { result?: unknown }).result;
  } catch {
    return undefined; // not JSON
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if (r.missing === true) return { missing: true };
  if (typeof r.error === 'string') return { error: r.error };
  const u = r.usage as { bytes?: unknown; count?: unknown } | undefined;
  if (!u || typeof u.bytes !== 'number' || typeof u.count !== 'number') return undefined;
  const l = r.limits as { storage?: unknown; messages?: unknown } | undefined;
  const usage = { bytes: u.bytes, count: u.count };
  return l && typeof l.storage === 'number' && typeof l.messages === 'number' ? { usage, limits: { storage: l.storage, messages: l.messages } } : { usage };
}
