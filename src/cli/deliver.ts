/**
 * `mda deliver`: the hot path Postfix runs once per message. Parses flags with
 * node:util parseArgs (yargs costs ~80 ms of startup), loads the config,
 * starts the one deadline, runs the pipeline, reports and exits.
 * Must not: print anything but the DSN line (exit.ts), or exit on its own.
 */
import { parseArgs } from 'node:util';
import { loadConfig, findConfigPath } from '../config/load.js';
import { parseDuration } from '../config/units.js';
import { Deadline, monotonicMs } from '../deadline/deadline.js';
import { formatDelivery } from '../log/format.js';
import { createLogger } from '../log/logger.js';
import { temp, type Outcome } from '../outcome/outcome.js';
import { runDelivery, type DeliveryArgs, type DeliveryFacts } from '../pipeline/run-delivery.js';
import { fsIdle } from '../io/fs-async.js';
import { createNameSource } from '../maildir/name-source.js';
import { openSession } from '../session/session.js';
import { exitNow, installSafetyNets, report } from './exit.js';

export const DELIVER_OPTIONS = {
  user: { type: 'string' },
  maildir: { type: 'string' },
  folder: { type: 'string' },
  config: { type: 'string' },
  sender: { type: 'string' },
  recipient: { type: 'string' },
  deadline: { type: 'string' },
} as const;

/** After the deadline (or a signal), cleanup gets this long before the watchdog exits. */
const CLEANUP_GRACE_MS = 5_000;
/** A commit under way when the watchdog fires gets this much longer to finish (far below Postfix's command_time_limit). */
const COMMIT_GRACE_MS = 30_000;
/** The delivery is decided; logging may take at most this long. */
const LOG_FLUSH_MS = 1_000;
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

interface DeliverFlags extends DeliveryArgs {
  config?: string;
  deadline?: string;
}

export function parseDeliverFlags(argv: string[]): DeliverFlags {
  const { values } = parseArgs({ args: argv, options: DELIVER_OPTIONS, strict: true, allowPositionals: false });
  return values;
}

const STATUS: Record<Outcome['kind'], string> = {
  delivered: 'delivered',
  discarded: 'discarded',
  temp: 'deferred',
  reject: 'rejected',
};

export async function deliverMain(argv: string[]): Promise<never> {
  installSafetyNets();
  const started = monotonicMs();
  const onEarlySignal = (sig: string) => exitNow(temp('signal', `received ${sig}`));
  for (const s of SIGNALS) process.on(s, onEarlySignal);

  let flags: DeliverFlags;
  let deadlineMs: number | undefined;
  try {
    flags = parseDeliverFlags(argv);
    if (flags.deadline !== undefined) deadlineMs = parseDuration(flags.deadline);
  } catch (err) {
    return exitNow(temp('usage', (err as Error).message));
  }
  let config;
  try {
    config = loadConfig(findConfigPath(flags.config, process.env));
  } catch (err) {
    return exitNow(temp('config', (err as Error).message));
  }
  const logger = createLogger(config.log.target);
  const user = flags.user ?? process.env.USER ?? '';
  // The watchdog never turns a stored message into a deferral (Postfix would deliver it again), and
  // waits once for a commit that has started: its links may land after we exit.
  let waitedForCommit = false;
  const hardStop = (reason: Outcome) => exitNow(session.gate.storedFor(facts.user ?? user) ?? reason);
  const deadline = Deadline.start(deadlineMs ?? config.delivery.deadlineMs, {
    graceMs: CLEANUP_GRACE_MS,
    onHardStop: (reason) => {
      if (!session.gate.busy || waitedForCommit) return hardStop(reason);
      waitedForCommit = true;
      deadline.rearmWatchdog(COMMIT_GRACE_MS);
      void session.gate.idle().then(() => hardStop(reason));
    },
  });
  const facts: DeliveryFacts = {};
  const session = openSession({ config, deadline, logger, names: createNameSource(), env: process.env });
  // However the process ends (a signal, the watchdog), it leaves no lock of ours behind.
  process.on('exit', () => session.locks.releaseSync());
  for (const s of SIGNALS) {
    process.off(s, onEarlySignal);
    process.on(s, () => deadline.abort(temp('signal', `received ${s}`)));
  }

  const outcome = await runDelivery(session, flags, process.stdin, facts);
  const plan = report(outcome);
  logger.info(
    formatDelivery({
      user: facts.user ?? flags.user ?? '',
      sender: facts.sender,
      recipient: facts.recipient,
      messageId: facts.messageId,
      size: facts.size,
      folder: outcome.kind === 'delivered' ? outcome.folder : facts.folder,
      status: STATUS[outcome.kind],
      dsn: plan.dsn,
      elapsedMs: monotonicMs() - started,
      detail: outcome.kind === 'temp' || outcome.kind === 'reject' ? outcome.detail : outcome.kind === 'discarded' ? outcome.why : facts.scan || undefined,
    }),
  );
  const flush = deadline.budget(LOG_FLUSH_MS, 'logging');
  await deadline.race(logger.flush(), flush.signal).catch(() => undefined); // slow logs never hold a delivery
  flush.done();
  // A stage abandoned at the deadline or a signal may leave a filesystem call in the thread pool;
  // let it finish (microseconds, normally) so exitNow need not die by SIGKILL. After an abort the
  // watchdog bounds this wait; otherwise a budget does.
  if (deadline.signal.aborted) await fsIdle();
  else {
    const drain = deadline.budget(LOG_FLUSH_MS, 'filesystem calls');
    await deadline.race(fsIdle(), drain.signal).catch(() => undefined);
    drain.done();
  }
  return exitNow(outcome);
}

