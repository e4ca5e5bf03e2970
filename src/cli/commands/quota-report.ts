/**
 * `mda quota report`: usage per Maildir for admins and cron. Quiet by design:
 * with --over only users at or over the threshold are printed (exit 1 if any),
 * stdout is the report, each error one stderr line, exit 2 on any error; no
 * users, or nobody over --over, prints nothing at all (exit 0) so cron sends no mail.
 * Also owns the plumbing `quota recalc` shares: config, deadline, signals, output.
 */
import { setMaxListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import { ConfigError, findConfigPath, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { parseDuration } from '../../config/units.js';
import { Deadline } from '../../deadline/deadline.js';
import { temp } from '../../outcome/outcome.js';
import { WorkerPool, type WorkerEntry } from '../../quota/maildir-worker.js';
import {
  buildRow,
  exitStatus,
  EXIT_ERROR,
  filterOver,
  formatReport,
  parseOver,
  printable,
  progressUpdate,
  PROGRESS_CLEAR,
  showProgress,
  type Format,
  type Measured,
} from '../../quota/report.js';
import { limitsFor, mapLimited, selectTargets, visitMaildir, type MailboxContext, type Selection } from '../../quota/users.js';
import { exitWithCode } from '../exit.js';

export const describe = 'Report quota usage per user (cron: --over 90 prints only users at or over 90%, exit 1 if any)';

export interface QuotaIo {
  out: { write(s: string, cb?: (err?: Error | null) => void): unknown };
  err: { write(s: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export const processIo = (): QuotaIo => ({ out: process.stdout, err: process.stderr, env: process.env, cwd: process.cwd() });

/** A quota run may take this long (500,000 files take seconds); then it stops and exits 2. */
export const QUOTA_DEADLINE_MS = 30 * 60_000;
/** After the deadline or a signal, workers get this long to end before the process is ended. */
const GRACE_MS = 5_000;
/** Each Maildir's time by default (--user-timeout): far more than the largest Maildir needs. */
export const USER_TIMEOUT_DEFAULT = '5m';
/**
 * Worker processes at once: each is a Node process (tens of MB, ~50 ms to start), so a few per
 * core; enough to overlap one user's slow disk with the others.
 */
const WORKERS = Math.max(2, Math.min(8, availableParallelism() * 2));
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export interface SelectArgs {
  config?: string;
  user?: string[];
  maildirGlob?: string[];
  /** Each Maildir's time limit, e.g. "30s" (default 5m). */
  userTimeout?: string;
}

export interface QuotaRun {
  config: Config;
  deadline: Deadline;
  /** What each Maildir's job needs: the config, the worker pool, the per-Maildir budget. */
  mailbox: MailboxContext;
  /** Worker processes run at once. */
  workers: number;
  selection: Selection;
  /** Writes one `mda quota <cmd>: ...` line to stderr. */
  fail(line: string): void;
  /** Stops the deadline's timers and the signal handlers. */
  end(): void;
}

/**
 * startRun loads the config, starts the one deadline (a signal aborts it, so
 * the workers are ended and the run ends with exit 2), and selects the Maildirs.
 * undefined: the config is unusable (already reported).
 */
export async function startRun(cmd: string, args: SelectArgs, io: QuotaIo): Promise<QuotaRun | undefined> {
  const fail = (line: string): void => void io.err.write(`mda quota ${cmd}: ${printable(line)}\n`);
  let budgetMs: number;
  try {
    budgetMs = parseDuration(args.userTimeout ?? USER_TIMEOUT_DEFAULT);
    if (budgetMs <= 0 || budgetMs > QUOTA_DEADLINE_MS) throw new Error(`must be more than 0 and at most ${QUOTA_DEADLINE_MS / 60_000}m`);
  } catch (err) {
    fail(`--user-timeout: ${(err as Error).message}`);
    return undefined;
  }
  let config: Config;
  try {
    config = loadConfig(findConfigPath(args.config, io.env));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const line of err.message.split('\n')) fail(line);
    return undefined;
  }
  const deadline = Deadline.start(QUOTA_DEADLINE_MS, {
    graceMs: GRACE_MS,
    onHardStop: (reason) => {
      fail(`stopped: ${reason.kind === 'temp' ? reason.detail : reason.kind}; Maildirs still being read were abandoned`);
      exitWithCode(EXIT_ERROR);
    },
  });
  // Every Maildir in flight listens on the deadline (its budget): more than Node's default 10.
  setMaxListeners(WORKERS * 4, deadline.signal);
  // The same mda entry script, run as `mda __quota-maildir-worker` (cli/main.ts).
  const entry: WorkerEntry = { execPath: process.execPath, args: [...process.execArgv, process.argv[1] ?? ''] };
  const pool = new WorkerPool(entry, deadline, WORKERS);
  // A hard stop exits while workers may still run: none outlives the run (each releases its lock on
  // SIGTERM, but one stuck in a system call only goes with SIGKILL).
  process.on('exit', () => pool.killAll());
  const onSignal = (sig: string): void => deadline.abort(temp('signal', `received ${sig}`));
  for (const s of SIGNALS) process.on(s, onSignal);
  const end = (): void => {
    pool.close();
    for (const s of SIGNALS) process.off(s, onSignal);
    deadline.dispose();
  };
  const selection = await selectTargets(config, { users: args.user, globs: args.maildirGlob }, deadline, io.cwd);
  const mailbox: MailboxContext = { config, pool, budgetMs };
  return { config, deadline, mailbox, workers: WORKERS, selection, fail, end };
}

/** stoppedLine: why a run ended early and how much was left out, or undefined. */
export function stoppedLine(run: QuotaRun, notDone: number): string | undefined {
  if (!run.deadline.signal.aborted) return undefined;
  const reason = (run.deadline.signal.reason as Error | undefined)?.message ?? 'aborted';
  return `stopped (${reason}): ${notDone} Maildir(s) not checked`;
}

/** writeOut writes stdout and waits until it is handed to the OS (exit comes right after). */
export function writeOut(io: QuotaIo, text: string): Promise<void> {
  if (text === '') return Promise.resolve();
  return new Promise((resolve) => io.out.write(text, () => resolve()));
}

export interface QuotaReportArgs extends SelectArgs {
  over?: string | number;
  format?: string;
}

export async function quotaReport(args: QuotaReportArgs, io: QuotaIo = processIo()): Promise<number> {
  const over = parseOver(args.over);
  if (typeof over === 'object') {
    io.err.write(`mda quota report: ${over.error}\n`);
    return EXIT_ERROR;
  }
  const run = await startRun('report', args, io);
  if (!run) return EXIT_ERROR;
  try {
    const { targets, errors } = run.selection;
    const progress = showProgress(io.err.isTTY === true, targets.length);
    let done = 0;
    const results = await mapLimited(targets, run.workers, run.deadline.signal, (t) => visitMaildir(t, 'usage', run.mailbox), () => {
      done++;
      if (progress) io.err.write(progressUpdate(done, targets.length));
    });
    if (progress) io.err.write(PROGRESS_CLEAR);

    const measured: Measured[] = [];
    for (const [i, t] of targets.entries()) {
      const result = results[i];
      if (!result) continue;
      // The quota in force: mda's, else the Maildir's own maildirsize header (Maildir++).
      const limits = ('limits' in result && result.limits) || limitsFor(run.config, t);
      measured.push({ user: t.user, maildir: t.maildir, limits, result });
      if ('error' in result) errors.push(`${t.user} (${t.maildir}): ${result.error}`);
    }
    const stopped = stoppedLine(run, targets.length - measured.length);
    if (stopped) errors.push(stopped);

    const shown = filterOver(measured.map(buildRow), over);
    await writeOut(io, formatReport(shown, (args.format ?? 'table') as Format, over));
    for (const e of errors) run.fail(e);
    return exitStatus(errors.length, over, shown.length);
  } finally {
    run.end();
  }
}
