/**
 * The only place that ends the process. Writes the one DSN line that
 * to-exit.ts chose (on stderr, which Postfix reads together with stdout), then
 * exits with its code. Safety nets turn anything unplanned (an exception, a
 * rejected promise, an event loop that ran dry without an outcome) into
 * 75 + 4.3.0, because Postfix bounces mail on exit 1.
 */
import { writeSync } from 'node:fs';
import { fsIdle, fsOpsInFlight } from '../io/fs-async.js';
import { temp, type Outcome } from '../outcome/outcome.js';
import { toExit, type ExitPlan } from '../outcome/to-exit.js';
import { EX_TEMPFAIL } from '../outcome/sysexits.js';

let reported: ExitPlan | undefined;

function writeLine(line: string): void {
  if (!line) return;
  try {
    writeSync(2, line);
  } catch {
    // Postfix closed the pipe (EPIPE) or it is full (EAGAIN): the exit code still decides
  }
}

/**
 * report prints the outcome's line once and fixes the exit code; the first
 * outcome reported wins (a delivered message stays delivered even if the
 * watchdog fires while logging).
 */
export function report(outcome: Outcome): ExitPlan {
  if (!reported) {
    reported = toExit(outcome);
    writeLine(reported.line);
    process.exitCode = reported.code;
  }
  return reported;
}

/**
 * exitNow reports (if not done yet) and exits. process.exit() joins libuv's
 * thread pool, so a filesystem call stuck there (a hung NFS server; user paths
 * cannot stall one: io/user-file.ts opens them O_NONBLOCK) holds the exit:
 * - not stored (code ≠ 0): die by SIGKILL after our line; Postfix defers on a
 *   signal (4.3.0) and retries, which is the truth;
 * - stored (code 0): never a signal, which would make Postfix retry and store
 *   a copy per retry. There is no truthful exit but 0, and Node 20 has no
 *   _exit() that skips the join, so we exit 0 the moment the call returns.
 *   If it never does, Postfix's command_time_limit ends us: a bounce notice
 *   for a stored message, the lesser harm than a new copy on every retry.
 */
export function exitNow(outcome: Outcome): never {
  const { code } = report(outcome);
  if (fsOpsInFlight() === 0) process.exit(code);
  if (code === 0) {
    void fsIdle().then(() => process.exit(0));
    return undefined as never; // the pending call keeps the event loop alive until it returns
  }
  process.kill(process.pid, 'SIGKILL');
  return process.exit(code); // not reached: SIGKILL cannot be caught
}

/** exitWithCode is for admin commands (not deliver mode): plain exit status. */
export function exitWithCode(code: number): never {
  reported = { code, line: '', dsn: '' };
  process.exit(code);
}

/** installSafetyNets makes every unplanned end a temporary failure. Call first. */
export function installSafetyNets(): void {
  process.exitCode = EX_TEMPFAIL; // if anything kills the flow before an outcome: defer, never bounce
  process.on('uncaughtException', (err) => exitNow(temp('unexpected', `uncaught: ${describe(err)}`)));
  process.on('unhandledRejection', (err) => exitNow(temp('unexpected', `unhandled rejection: ${describe(err)}`)));
  process.on('beforeExit', () => {
    if (!reported) exitNow(temp('unexpected', 'delivery stalled without an outcome'));
  });
  process.on('exit', () => {
    if (!reported) report(temp('unexpected', 'exited without an outcome'));
  });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
