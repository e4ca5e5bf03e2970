/**
 * Writes log lines to syslog (/dev/log, facility mail), a file, stderr or
 * nowhere. Logging never delays or fails a delivery: every write error is
 * swallowed and counted, sends are non-blocking, and a process writes at most
 * MAX_LINES lines so an error loop cannot fill a disk.
 * Must not: write to stdout/stderr in deliver mode unless the admin chose the
 * stderr target (and then only after the DSN line, see cli/exit.ts).
 */
import { closeSync, openSync, write } from 'node:fs';
import { createRequire } from 'node:module';
import type { LogTarget } from '../config/schema.js';
import { SEVERITY, syslogFrame } from './format.js';

const MAX_LINES = 20;
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

interface DgramSocket {
  on(ev: 'error', fn: (e: Error) => void): void;
  send(buf: Buffer, off: number, len: number, path: string, cb: (e?: Error) => void): void;
  close(): void;
}

export function createLogger(target: LogTarget, tag = 'mda'): Logger {
  let lines = 0;
  let dropped = 0;
  let pending = 0;
  let idle: (() => void) | undefined;
  const held: string[] = [];
  const started = () => pending++;
  const ended = (ok: boolean) => {
    if (!ok) dropped++;
    if (--pending === 0) idle?.();
  };
  let sink: Sink;
  switch (target.kind) {
    case 'none':
      sink = () => undefined;
      break;
    case 'stderr':
      // Held until flush(): in deliver mode the DSN line must be the first output.
      sink = (_s, msg) => void held.push(`${tag}: ${msg}\n`);
      break;
    case 'file': {
      // Opened now, before privileges are dropped, so a root-owned log works.
      let fd = -1;
      try {
        fd = openSync(target.path, 'a', 0o640);
      } catch {
        fd = -1; // unwritable log: lines are dropped, delivery goes on
      }
      sink = (_s, msg) => {
        if (fd < 0) return void dropped++;
        started();
        write(fd, `${new Date().toISOString()} ${tag}[${process.pid}]: ${msg}\n`, (err) => ended(!err));
      };
      process.once('exit', () => fd >= 0 && closeSync(fd));
      break;
    }
    case 'syslog': {
      let sock: DgramSocket | undefined | null;
      sink = (severity, msg) => {
        if (sock === undefined) sock = openSyslog();
        if (!sock) return void dropped++;
        const buf = Buffer.from(syslogFrame(severity, tag, process.pid, msg, new Date()));
        started();
        try {
          sock.send(buf, 0, buf.length, SYSLOG_SOCKET, (err) => ended(!err));
        } catch {
          ended(false);
        }
      };
      break;
    }
  }
  const emit = (severity: number, msg: string) => {
    if (lines >= MAX_LINES) return void dropped++;
    lines++;
    sink(severity, msg);
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
      return pending === 0 ? Promise.resolve() : new Promise((r) => (idle = r));
    },
    get dropped() {
      return dropped;
    },
  };
}

/** openSyslog loads the native datagram binding only when syslog is used; null if unavailable. */
function openSyslog(): DgramSocket | null {
  try {
    const unix = createRequire(import.meta.url)('unix-dgram') as { createSocket(t: string): DgramSocket };
    const sock = unix.createSocket('unix_dgram');
    sock.on('error', () => undefined); // no syslog daemon: drop lines, never fail the delivery
    return sock;
  } catch {
    return null; // optional dependency missing or no AF_UNIX: logging is off
  }
}
