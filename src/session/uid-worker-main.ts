/**
 * The worker side of per-uid delivery: a process started as root that becomes
 * one account (groups, gid, uid: once, before any work, so nothing runs with
 * mixed privileges) and then delivers the jobs its parent sends: it spools
 * each message into the first recipient's Maildir tmp/ as that user, runs
 * deliverMessage for its recipients, and answers with their outcomes. Log
 * lines go to the parent, which owns the log target.
 * Must not: exit on its own while jobs run, or write to stdout/stderr.
 */
import type { Config } from '../config/schema.js';
import { Deadline } from '../deadline/deadline.js';
import type { Logger } from '../log/logger.js';
import { prepareMailbox } from '../maildir/mailbox.js';
import { createNameSource, type NameSource } from '../maildir/name-source.js';
import { Spool } from '../maildir/spool.js';
import { MaildirMemo } from '../maildir/maildir-memo.js';
import { classifyError } from '../outcome/classify.js';
import { temp, type Outcome } from '../outcome/outcome.js';
import { deliverMessage, type MessageRecipient } from '../pipeline/deliver-message.js';
import { resolveRecipient } from '../pipeline/recipient.js';
import { runningAsRoot } from '../io/trusted-path.js';
import { switchToAccount } from '../privileges/switch-user.js';
import { ParentBreakers } from './parent-breakers.js';
import { openSession, type Session } from './session.js';
import type { FromWorker, ToWorker } from './uid-worker-protocol.js';

interface Job {
  session: Session;
  rcpts: MessageRecipient[];
  header: Buffer;
  /** The spool once created; every write is chained after the previous one. */
  chain: Promise<Spool>;
  /** Set as soon as the spool exists, so a failed job still removes it. */
  spool?: Spool;
}

const isOutcome = (v: object): v is Outcome => 'kind' in v;

/** runUidWorker serves the IPC channel until the parent disconnects. */
export function runUidWorker(): void {
  const send = (m: FromWorker) => process.send?.(m);
  const jobs = new Map<number, Job>();
  const startedAsRoot = runningAsRoot(); // before 'init' makes this process the account
  let config: Config | undefined;
  let names: NameSource | undefined;
  const maildirs = new MaildirMemo(); // this worker's own: it lives as long as the server
  const breakers = new ParentBreakers(send); // the server's, when it keeps them (begin.breakers)

  const logger = (id: number): Logger => ({
    info: (msg) => send({ t: 'log', id, severity: 'info', msg }),
    warn: (msg) => send({ t: 'log', id, severity: 'warn', msg }),
    error: (msg) => send({ t: 'log', id, severity: 'error', msg }),
    flush: () => Promise.resolve(),
    dropped: 0,
  });

  /** The spool lives in the first recipient's own tmp/, so every copy can be a hard link. */
  async function spoolFor(s: Session, rcpts: MessageRecipient[]): Promise<Spool> {
    let last: Outcome = temp('system', 'no recipient');
    for (const r of rcpts) {
      const rcpt = await s.deadline.race(resolveRecipient({ user: r.user }, s.config, s.env, s.deadline.signal)).catch((err: unknown) => classifyError(err, 'delivery', s.config.quota));
      if (isOutcome(rcpt)) {
        last = rcpt;
        continue;
      }
      await s.deadline.race(prepareMailbox(rcpt.maildir, '', rcpt.uid));
      return s.deadline.race(Spool.create(rcpt.maildir, s.names));
    }
    throw Object.assign(new Error('no recipient to spool for'), { outcome: last });
  }

  const handle = (m: ToWorker): void => {
    switch (m.t) {
      case 'init':
        try {
          switchToAccount(m.account);
          config = m.config;
          names = createNameSource();
          send({ t: 'ready' });
        } catch (err) {
          send({ t: 'failed', why: (err as Error).message });
        }
        return;
      case 'begin': {
        if (!config || !names) return;
        const deadline = Deadline.start(m.deadlineMs, { graceMs: 5_000, onHardStop: (why) => logger(m.id).error(`job still running after its deadline: ${JSON.stringify(why)}`) });
        const session = openSession({ config, deadline, logger: logger(m.id), names, startedAsRoot, maildirs, ...(m.breakers ? { breakers: breakers.storeFor(m.id, deadline.signal) } : {}) });
        const job: Job = { session, rcpts: m.rcpts, header: Buffer.from(m.header), chain: spoolFor(session, m.rcpts) };
        job.chain = job.chain.then((spool) => (job.spool = spool));
        jobs.set(m.id, job);
        return;
      }
      case 'data': {
        const job = jobs.get(m.id);
        if (job) job.chain = job.chain.then(async (spool) => (await spool.write(Buffer.from(m.chunk)), spool));
        return;
      }
      case 'breaker':
        breakers.answer(m.req, m.state);
        return;
      case 'abort':
        jobs.get(m.id)?.session.deadline.abort(temp('signal', m.why));
        return;
      case 'end': {
        const job = jobs.get(m.id);
        if (!job) return;
        const { session: s } = job;
        void job.chain
          .then((spool) => deliverMessage(s, { spool, header: job.header }, job.rcpts))
          .catch((err: unknown) => {
            const outcome = (err as { outcome?: Outcome }).outcome ?? classifyError(err, 'delivery', s.config.quota);
            return job.rcpts.map((r) => ({ user: r.user, outcome, facts: { user: r.user } }));
          })
          .then(async (results) => {
            await job.spool?.discard();
            jobs.delete(m.id);
            s.deadline.dispose();
            send({ t: 'done', id: m.id, results });
            if (parentGone && jobs.size === 0) process.exit(0);
          });
        return;
      }
    }
  };
  process.on('message', (m) => handle(m as ToWorker));
  process.on('exit', () => {
    for (const j of jobs.values()) j.session.locks.releaseSync();
  });
  // The parent is gone: finish the jobs that run (a started commit runs to its end), then leave.
  let parentGone = false;
  process.on('disconnect', () => {
    parentGone = true;
    breakers.parentGone();
    if (jobs.size === 0) process.exit(0);
  });
}
