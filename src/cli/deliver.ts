/**
 * `mda deliver`: the hot path Postfix runs once per message. Parses flags with
 * node:util parseArgs (yargs costs ~80 ms of startup), starts the one deadline,
 * loads the config under it, runs the pipeline, logs one line, reports and exits.
 * Must not: print anything but the DSN line (exit.ts), or exit on its own.
 */
import { parseArgs } from 'node:util';
import { ConfigError, explicitConfigPath, loadConfigAsync } from '../config/load.js';
import { defaultConfig, type Config } from '../config/schema.js';
import { deadlineProblem, formatIssue } from '../config/validate.js';
import { parseDuration } from '../config/units.js';
import { Deadline, monotonicMs } from '../deadline/deadline.js';
import { formatDelivery } from '../log/format.js';
import { createLogger } from '../log/logger.js';
import { routeProcessWarnings } from '../log/warnings.js';
import { classifyError } from '../outcome/classify.js';
import { temp, type Outcome } from '../outcome/outcome.js';
import { runDelivery, type DeliveryArgs, type DeliveryFacts } from '../pipeline/run-delivery.js';
import { fsIdle } from '../io/fs-async.js';
import { runningAsRoot } from '../io/trusted-path.js';
import { createNameSource } from '../maildir/name-source.js';
import { openSession, type Session } from '../session/session.js';
import { exitNow, installSafetyNets, report } from './exit.js';

export const DELIVER_OPTIONS = {
  user: { type: 'string' },
  maildir: { type: 'string' },
  folder: { type: 'string' },
  mbox: { type: 'string' },
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

/** deadlineFlag reads --deadline with the config key's syntax and range (validate.ts); throws why not. */
function deadlineFlag(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (err) {
    throw new Error(`--deadline: ${(err as Error).message}`);
  }
  const problem = deadlineProblem(ms);
  if (problem) throw new Error(`--deadline ${problem}, got ${JSON.stringify(text)}`);
  return ms;
}

const STATUS: Record<Outcome['kind'], string> = {
  delivered: 'delivered',
  discarded: 'discarded',
  temp: 'deferred',
  reject: 'rejected',
};

export async function deliverMain(argv: string[]): Promise<never> {
  installSafetyNets();
  const warnings = routeProcessWarnings(); // before anything can warn: stderr carries the DSN line only
  const started = monotonicMs();
  const onEarlySignal = (sig: string) => exitNow(temp('signal', `received ${sig}`));
  for (const s of SIGNALS) process.on(s, onEarlySignal);

  let flags: DeliverFlags;
  let deadlineMs: number | undefined;
  try {
    flags = parseDeliverFlags(argv);
    if (flags.deadline !== undefined) deadlineMs = deadlineFlag(flags.deadline);
  } catch (err) {
    return exitNow(temp('usage', (err as Error).message));
  }
  const user = flags.user ?? process.env.USER ?? '';
  // The watchdog never turns a stored message into a deferral (Postfix would deliver it again), and
  // waits once for a commit that has started: its links may land after we exit.
  let session: Session | undefined;
  let waitedForCommit = false;
  const hardStop = (reason: Outcome) => exitNow(session?.gate.storedFor(facts.user ?? user) ?? reason);
  // The deadline starts before the config is read (reading it is I/O like any other): from
  // --deadline, else the embedded default until the config's own [delivery] deadline is known.
  const deadline = Deadline.start(deadlineMs ?? defaultConfig().delivery.deadlineMs, {
    graceMs: CLEANUP_GRACE_MS,
    onHardStop: (reason) => {
      if (!session?.gate.busy || waitedForCommit) return hardStop(reason);
      waitedForCommit = true;
      deadline.rearmWatchdog(COMMIT_GRACE_MS);
      void session.gate.idle().then(() => hardStop(reason));
    },
  });
  const facts: DeliveryFacts = {};
  for (const s of SIGNALS) {
    process.off(s, onEarlySignal);
    process.on(s, () => deadline.abort(temp('signal', `received ${s}`)));
  }

  let config: Config;
  let failed: Outcome | undefined;
  try {
    config = await deadline.race(loadConfigAsync(explicitConfigPath(flags.config, process.env)));
    if (deadlineMs === undefined) deadline.setTotal(config.delivery.deadlineMs);
  } catch (err) {
    // Logged below with the defaults' target (syslog), so the admin sees file:line, not only Postfix's DSN text.
    config = defaultConfig();
    failed = err instanceof ConfigError ? temp('config', err.issues.map(formatIssue).join('; ')) : classifyError(err);
  }
  // The syslog socket is the admin's to move (a chroot, a test); Postfix passes only export_environment.
  const logger = createLogger(config.log.target, 'mda', process.env['MDA_SYSLOG_SOCKET'] || undefined);
  warnings.attach(logger);

  // Before runDelivery switches to the recipient: what this process started as.
  const live = openSession({ config, deadline, logger, names: createNameSource(), env: process.env, startedAsRoot: runningAsRoot() });
  session = live;
  // However the process ends (a signal, the watchdog), it leaves no lock of ours behind.
  process.on('exit', () => live.locks.releaseSync());
  const outcome = failed ?? (await runDelivery(live, flags, process.stdin, facts));
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

