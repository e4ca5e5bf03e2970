/**
 * The worker process of `mda quota report|recalc` (started by
* quota/maildir-worker.ts as `mda __quota-maildir-worker`, already as the Maildir owner's uid/gid): reads one
 * MaildirJob as JSON on stdin, does it, prints one JSON line `{"result": ...}`
 * on stdout and exits 0. SIGTERM (the parent's budget ran out, or the admin
 * stopped the run) releases the lock and exits 2 at once.
 * Must not: read the config, print anything else, or outlive its parent's budget.
 */
import { Deadline } from '../../deadline/deadline.js';
import { LockHolder } from '../../locks/holder.js';
import { runMaildirJob, type MaildirJob } from '../../quota/maildir-job.js';
import { EXIT_ERROR, EXIT_OK } from '../../quota/report.js';
import { exitWithCode } from '../exit.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function quotaWorkerMain(): Promise<never> {
  const locks = new LockHolder();
  process.on('exit', () => locks.releaseSync());
  // Ending at once is the point: the parent stops waiting for us anyway, and a lock left behind would block deliveries.
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, () => exitWithCode(EXIT_ERROR));
  const job = JSON.parse(await readStdin()) as MaildirJob;
  const deadline = Deadline.start(job.budgetMs, { graceMs: 1_000, onHardStop: () => exitWithCode(EXIT_ERROR) });
  const result = await runMaildirJob(job, { deadline, locks });
  deadline.dispose();
  await new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify({ result })}\n`, () => resolve()));
  return exitWithCode(EXIT_OK);
}
