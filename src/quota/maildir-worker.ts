/**
 * The parent side of `mda quota` per-Maildir work: each Maildir's job runs in
 * its own short-lived process (`mda __quota-maildir-worker`), started with the
 * owner's uid and gid when root runs the command (Node has no openat(): a
 * process with the owner's rights is what keeps a user's symlinks from
 * steering root), and ended when its budget or the run runs out. A stuck
 * worker (a FIFO, a hung mount) is killed; it never holds up this process.
 * Must not: touch the Maildir itself, or decide who the owner is (owner.ts).
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

export interface WorkerRun {
  entry: WorkerEntry;
  deadline: Deadline;
  /** Live workers: the run's exit hook kills whatever is left (a hard stop must not orphan them). */
  children: Set<ChildProcess>;
}

/** After SIGTERM a worker gets this long to release its lock and exit; then SIGKILL. */
const KILL_AFTER_MS = 2_000;
/** A result line is small; anything longer is not a worker's answer. */
const MAX_OUTPUT = 64 * 1024;

/**
 * runInWorker runs job as `owner` (undefined: as this process), for at most
 * budgetMs. Every failure, the budget and a stopped run included, is an error result.
 */
export function runInWorker(job: MaildirJob, owner: Owner | undefined, budgetMs: number, run: WorkerRun): Promise<MailboxResult> {
  return new Promise((resolve) => {
    const budget = run.deadline.budget(budgetMs, 'the Maildir');
    let child: ChildProcess;
    try {
      child = spawn(run.entry.execPath, [...run.entry.args, QUOTA_WORKER_ARG], {
        cwd: '/',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        stdio: ['pipe', 'pipe', 'pipe'],
        // libuv drops root's supplementary groups (setgroups(0)) before setgid/setuid.
        ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      });
    } catch (err) {
      budget.done();
      resolve({ error: `cannot start a worker: ${(err as Error).message}` });
      return;
    }
    run.children.add(child);
    let stdout = '';
    let stderr = '';
    let stopped: string | undefined;
    child.stdout!.on('data', (d: Buffer) => void (stdout.length < MAX_OUTPUT && (stdout += d.toString('utf8'))));
    child.stderr!.on('data', (d: Buffer) => void (stderr.length < MAX_OUTPUT && (stderr += d.toString('utf8'))));
    child.stdin!.on('error', () => undefined); // a worker that died early: its exit says why
    child.stdin!.end(JSON.stringify({ ...job, budgetMs }));

    const stop = (): void => {
      // The run's own stop (SIGTERM, its deadline) or this Maildir's budget: both say why.
      stopped = run.deadline.signal.aborted ? `stopped (${reasonOf(run.deadline.signal)})` : `no result within ${Math.round(budgetMs / 1000)}s (--user-timeout); the worker was ended`;
      child.kill('SIGTERM');
      void run.deadline.grace(KILL_AFTER_MS).then(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
    };
    if (budget.signal.aborted) stop();
    else budget.signal.addEventListener('abort', stop, { once: true });

    child.on('error', (err) => {
      stderr += `${err.message}\n`;
    });
    child.on('close', (code, signal) => {
      budget.signal.removeEventListener('abort', stop);
      budget.done();
      run.children.delete(child);
      if (stopped) return resolve({ error: stopped });
      const result = parseResult(stdout);
      if (result) return resolve(result);
      const why = stderr.trim().split('\n')[0] || `exit ${signal ?? code}`;
      resolve({ error: `the worker${owner ? ` (uid ${owner.uid})` : ''} failed: ${why}` });
    });
  });
}

const reasonOf = (s: AbortSignal): string => (s.reason as Error | undefined)?.message ?? 'aborted';

/** parseResult reads the worker's `{"result": ...}` line; undefined when it is not one. */
export function parseResult(stdout: string): MailboxResult | undefined {
  const line = stdout.trim().split('\n').pop() ?? '';
  let v: unknown;
  try {
    v = (JSON.parse(line) as { result?: unknown }).result;
  } catch {
    return undefined; // not JSON: the worker failed before answering
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if (r.missing === true) return { missing: true };
  if (typeof r.error === 'string') return { error: r.error };
  const u = r.usage as { bytes?: unknown; count?: unknown } | undefined;
  if (!u || typeof u.bytes !== 'number' || typeof u.count !== 'number') return undefined;
  const l = r.limits as { storage?: unknown; messages?: unknown } | undefined;
  const limits = l && typeof l.storage === 'number' && typeof l.messages === 'number' ? { storage: l.storage, messages: l.messages } : undefined;
  return limits ? { usage: { bytes: u.bytes, count: u.count }, limits } : { usage: { bytes: u.bytes, count: u.count } };
}

/** killAll ends every worker still running (the run is exiting). */
export function killAll(children: Set<ChildProcess>): void {
  for (const c of children) c.kill('SIGKILL');
}
