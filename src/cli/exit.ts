/**
 * The only place that ends the process. Writes the one DSN line that
 * to-exit.ts chose (on stderr, which Postfix reads together with stdout), then
 * exits with its code. Safety nets turn anything unplanned (an exception, a
 * rejected promise, an event loop that ran dry without an outcome) into
 * 75 + 4.3.0, because Postfix bounces mail on exit 1.
 */
import { writeSync } from 'node:fs';
import { fsOpsInFlight } from '../io/fs-async.js';
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
 * exitNow reports (if not done yet) and exits at once. If a filesystem call
 * is still stuck in the thread pool, process.exit() would wait for it forever
 * and Postfix would kill us at command_time_limit, which bounces; dying by
 * SIGKILL instead makes Postfix defer (4.3.0), after our line is written.
 */
export function exitNow(outcome: Outcome): never {
  const { code } = report(outcome);
  if (fsOpsInFlight() > 0) process.kill(process.pid, 'SIGKILL');
  process.exit(code);
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
