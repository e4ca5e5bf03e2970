/**
 * Logs the policy service's own trouble (a lookup that failed, a Maildir it could not
 * read, a broken request) at most once per interval per kind, with the number of
 * occurrences left out: under a flood each request would otherwise write a line.
 * Time is src/deadline's monotonic clock (injectable). All state is per instance.
 */
import { monotonicMs } from '../deadline/deadline.js';
import type { Logger } from '../log/logger.js';

export class TroubleLog {
  private readonly last = new Map<string, { at: number; quiet: number }>();

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = monotonicMs,
  ) {}

  /** warn logs `msg` unless this kind was logged less than the interval ago (then it is counted). */
  warn(kind: string, msg: string): void {
    const t = this.now();
    const seen = this.last.get(kind);
    if (seen !== undefined && t - seen.at < this.intervalMs) {
      seen.quiet++;
      return;
    }
    const more = seen !== undefined && seen.quiet > 0 ? ` (${seen.quiet} more like it not logged)` : '';
    this.last.set(kind, { at: t, quiet: 0 });
    this.logger.warn(`policy: ${msg}${more}`);
  }
}
