/**
 * The server process's life after start-up: SIGTERM/SIGINT stop accepting, let transactions
 * in flight finish within the shutdown grace, then give the rest the shutdown line and end
 * (exit status 0); a second signal cuts the grace short. SIGHUP reloads the config through
 * the caller's `reload`, which validates before applying: a failure keeps the old config
 * and is logged with its file:line. Must not: parse configs, open sockets, or exit the
 * process (it resolves with the exit status; cli/main.ts exits).
 */
import { Deadline } from '../deadline/deadline.js';
import type { Logger } from '../log/logger.js';
import { temp } from '../outcome/outcome.js';
import type { LineServer } from './server.js';

/** process, or a stand-in in tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, fn: () => void): unknown;
  off(signal: NodeJS.Signals, fn: () => void): unknown;
}

export interface LifecycleOptions {
  server: LineServer;
  logger: Logger;
  /** The shutdown grace in ms, read when the signal comes (a reload may have changed it). */
  graceMs(): number;
  /** Loads, validates and applies the config; throws (a ConfigError: file:line) to keep the old one. */
  reload(): Promise<void>;
  signals?: SignalSource;
}

export interface Lifecycle {
  /** Resolves with the exit status once the server has stopped. */
  readonly done: Promise<number>;
  /** stop shuts down as a signal would; `code` is the exit status (a fatal error: non-zero). */
  stop(why: string, code?: number): void;
}

/** After the grace, connections that do not even take the shutdown line get this long, then are cut. */
const FORCE_MS = 5_000;

/** runLifecycle installs the signal handlers; they are removed once the server has stopped. */
export function runLifecycle(opts: LifecycleOptions): Lifecycle {
  const { server, logger } = opts;
  const signals = opts.signals ?? process;
  let exitCode = 0;
  let grace: Deadline | undefined;
  let stopped: Promise<void> | undefined;
  let reloading: Promise<void> | undefined;
  let reloadAgain = false;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const stop = (why: string, code = 0): void => {
    if (code !== 0) exitCode = code;
    if (stopped) {
      // A second signal while draining: the admin does not want to wait for the grace.
      logger.warn(`${why} during shutdown: ending the grace now`);
      grace?.abort(temp('signal', why));
      return;
    }
    stopped = shutdown(why).then(
      () => finish(exitCode),
      (err: unknown) => {
        logger.error(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        finish(exitCode || 1);
      },
    );
  };

  const shutdown = async (why: string): Promise<void> => {
    const ms = opts.graceMs();
    logger.info(`${why}: stopping; ${server.active} connection(s) open, in-flight transactions get up to ${Math.round(ms / 1000)}s`);
    await server.stopAccepting();
    grace = Deadline.start(ms, { graceMs: FORCE_MS, onHardStop: () => server.destroyAll() });
    server.beginShutdown();
    try {
      await grace.race(server.drained());
    } catch {
      logger.warn(`shutdown grace over: closing ${server.active} connection(s) with transactions still open`);
      server.forceShutdown();
      await server.drained(); // the grace's watchdog destroys what is left after FORCE_MS
    } finally {
      grace.dispose();
      for (const [sig, fn] of handlers) signals.off(sig, fn);
    }
    logger.info('stopped');
  };

  const reload = (): void => {
    if (stopped) return;
    if (reloading) return void (reloadAgain = true); // one reload at a time; the last signal wins
    reloading = opts
      .reload()
      .then(
        () => logger.info('SIGHUP: configuration reloaded'),
        (err: unknown) => logger.error(`SIGHUP: keeping the old configuration: ${(err instanceof Error ? err.message : String(err)).replace(/\n/g, '; ')}`),
      )
      .finally(() => {
        reloading = undefined;
        if (reloadAgain) {
          reloadAgain = false;
          reload();
        }
      });
  };

  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGTERM', () => stop('SIGTERM')],
    ['SIGINT', () => stop('SIGINT')],
    ['SIGHUP', reload],
  ];
  for (const [sig, fn] of handlers) signals.on(sig, fn);
  return { done, stop };
}
