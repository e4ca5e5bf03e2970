/**
 * Writes log lines to syslog (/dev/log, facility mail), a file, stderr or
 * nowhere. Logging never delays or fails a delivery: every write error is
 * swallowed and counted, sends are non-blocking, and a process writes at most
 * MAX_LINES lines so an error loop cannot fill a disk.
 * Must not: write to stdout/stderr in deliver mode unless the admin chose the
 * stderr target (and then only after the DSN line, see cli/exit.ts).
 */
import { closeSync, constants as C, fstatSync, openSync, write } from 'node:fs';
import type { LogTarget } from '../config/schema.js';
import { SEVERITY, syslogFrame, withSeverityToken } from './format.js';
import { openDatagramSender, type DatagramSender } from './syslog-socket.js';

const MAX_LINES = 20;
/** Lines waiting for a slow log file at most (a server's; see inOrder). */
const MAX_QUEUED = 10_000;
const SYSLOG_SOCKET = '/dev/log';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Resolves once pending writes are done (callers bound the wait). */
  flush(): Promise<void>;
  /** Lines dropped because of errors or the rate limit. */
  readonly dropped: number;
}

type Sink = (severity: number, msg: string) => void;

const isRegularFile = (fd: number): boolean => {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
};

/**
 * For a long-running server (`mda lmtp`): the per-process line cap is a cap on a runaway
 * delivery, not on a server's life, and stderr lines cannot wait for a DSN line that never comes.
 */
export interface LoggerOptions {
  /** Lines written at most in this process (default MAX_LINES). */
  maxLines?: number;
  /** stderr target: write each line at once instead of holding them until flush(). */
  stderrNow?: boolean;
}

export function createLogger(target: LogTarget, tag = 'mda', syslogPath = SYSLOG_SOCKET, options: LoggerOptions = {}): Logger {
  const maxLines = options.maxLines ?? MAX_LINES;
  let lines = 0;
  let dropped = 0;
  let pending = 0;
  let idle: (() => void) | undefined;
  const held: string[] = [];
  const closers: Array<() => void> = [];
  const started = () => pending++;
  const ended = (ok: boolean) => {
    if (!ok) dropped++;
    if (--pending === 0) idle?.();
  };
  /**
   * inOrder writes lines to fd in the order they were logged: one write(2) in flight at a time,
   * with the lines that arrive meanwhile joined into the next one. Concurrent fs.write calls are
   * separate thread-pool jobs that may finish in any order, which scrambled lines of one
   * delivery. At most MAX_QUEUED lines wait (a stalled log disk must not grow memory): the rest
   * are dropped and counted.
   */
  const inOrder = (fd: number) => {
    let queued: string[] = [];
    let writing = false;
    const next = (): void => {
      if (writing || queued.length === 0) return;
      const batch = queued;
      queued = [];
      writing = true;
      write(fd, batch.join(''), (err) => {
        writing = false;
        for (let i = 0; i < batch.length; i++) ended(!err);
        next();
      });
    };
    return (line: string): void => {
      if (queued.length >= MAX_QUEUED) return void dropped++;
      started();
      queued.push(line);
      next();
    };
  };
  let sink: Sink;
  switch (target.kind) {
    case 'none':
      sink = () => undefined;
      break;
    case 'stderr':
      // Held until flush(): in deliver mode the DSN line must be the first output.
      if (options.stderrNow) {
        const toStderr = inOrder(2);
        sink = (_s, msg) => toStderr(`${tag}: ${msg}\n`);
      } else sink = (_s, msg) => void held.push(`${tag}: ${msg}\n`);
      break;
    case 'file': {
      // Opened now, before privileges are dropped, so a root-owned log works; never through a
      // symlink (opened as root, a planted link could aim it anywhere), never blocking on a FIFO.
      // O_NONBLOCK: a FIFO with no reader would block this synchronous open
      // forever, where no timer or SIGTERM handler can run (ENXIO instead).
      // Only a regular file: a FIFO someone reads (or a device) would hand them every line root writes.
      let fd = -1;
      try {
        fd = openSync(target.path, C.O_WRONLY | C.O_APPEND | C.O_CREAT | C.O_NONBLOCK | C.O_NOFOLLOW, 0o640);
      } catch {
        fd = -1; // unwritable log: lines are dropped, delivery goes on
      }
      if (fd >= 0 && !isRegularFile(fd)) {
        try {
          closeSync(fd);
        } catch {
          // nothing was written to it; the descriptor is gone either way
        }
        fd = -1; // refused like an unwritable log
      }
      const toFile = fd >= 0 ? inOrder(fd) : undefined;
      sink = (_s, msg) => {
        if (!toFile) return void dropped++;
        toFile(`${new Date().toISOString()} ${tag}[${process.pid}]: ${msg}\n`);
      };
      break;
    }
    case 'syslog': {
      let sock: DatagramSender | null | undefined;
      sink = (severity, msg) => {
        if (sock === undefined) sock = openDatagramSender(syslogPath);
        if (!sock || !sock.send(syslogFrame(severity, tag, process.pid, msg, new Date()))) dropped++;
      };
      closers.push(() => sock?.close());
      break;
    }
  }
  const emit = (severity: number, msg: string) => {
    if (lines >= maxLines) return void dropped++;
    lines++;
    // One place for every target (syslog, file, stderr): a caller writes its text without the token.
    sink(severity, withSeverityToken(severity, msg));
  };
  return {
    info: (m) => emit(SEVERITY.info, m),
    warn: (m) => emit(SEVERITY.warning, m),
    error: (m) => emit(SEVERITY.err, m),
    flush: () => {
      if (held.length) {
        started();
        write(2, held.splice(0).join(''), (err) => ended(!err));
      }
      for (const close of closers.splice(0)) close();
      return pending === 0 ? Promise.resolve() : new Promise((r) => (idle = r));
    },
    get dropped() {
      return dropped;
    },
  };
}
