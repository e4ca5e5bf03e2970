/**
 * The worker process of `mda quota report|recalc`, started by
 * quota/maildir-worker.ts as `mda __quota-maildir-worker`, already with the
 * Maildir owner's uid and gid: reads one MaildirJob per line (JSON) on stdin,
 * does them one at a time, answers each with one line `{"result": ...}` on
 * stdout, and exits 0 at the end of stdin. SIGTERM (a job's budget ran out,
 * or the admin stopped the run) releases the lock and exits 2 at once.
 * Must not: read the config, print anything else, or run two jobs at once.
 */
import { createInterface } from 'node:readline';
import { Deadline } from '../../deadline/deadline.js';
import { LockHolder } from '../../locks/holder.js';
import { runMaildirJob, type MaildirJob } from '../../quota/maildir-job.js';
import { EXIT_ERROR, EXIT_OK } from '../../quota/report.js';
import { exitWithCode } from '../exit.js';

export async function quotaWorkerMain(): Promise<never> {
  const locks = new LockHolder();
  process.on('exit', () => locks.releaseSync());
  // Ending at once is the point: the parent has stopped waiting, and a lock left behind would hold up deliveries.
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, () => exitWithCode(EXIT_ERROR));
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (line === '') continue;
    const job = JSON.parse(line) as MaildirJob;
    const deadline = Deadline.start(job.budgetMs, { graceMs: 1_000, onHardStop: () => exitWithCode(EXIT_ERROR) });
    const result = await runMaildirJob(job, { deadline, locks });
    deadline.dispose();
    await new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify({ result })}\n`, () => resolve()));
  }
  return exitWithCode(EXIT_OK);
}
