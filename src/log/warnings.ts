/**
 * Process warnings in deliver mode. Node prints them on stderr (e.g.
 * MaxListenersExceededWarning), and Postfix reads the DSN at byte 0 of
 * stdout+stderr, so one warning turns a deferral into whatever the warning's
 * text says. This takes over the 'warning' event: held until the logger
 * exists, then logged. Must not: write to stdout/stderr.
 */
import type { Logger } from './logger.js';

export interface WarningRoute {
  /** Sends the held warnings, and every later one, to the logger. */
  attach(logger: Logger): void;
}

/** Held at most: a warning loop must not grow memory before a logger exists. */
const MAX_HELD = 5;

/** routeProcessWarnings replaces Node's stderr printer; call before anything can warn. */
export function routeProcessWarnings(): WarningRoute {
  const held: string[] = [];
  let logger: Logger | undefined;
  process.removeAllListeners('warning');
  process.on('warning', (w: Error) => {
    const line = `node: ${w.name}: ${w.message}`; // the logger adds `warning: `
    if (logger) logger.warn(line);
    else if (held.length < MAX_HELD) held.push(line);
  });
  return {
    attach(l) {
      logger = l;
      for (const line of held.splice(0)) l.warn(line);
    },
  };
}
