/**
 * Hands one message to sendmail(1) for one recipient: Sieve redirects and
 * vacation replies. argv only (never a shell), its own process group, killed
 * whole when the budget from the deadline ends; the message goes in on stdin
 * with back-pressure, from a buffer or streamed from a file. Never throws: a
 * failure is a result the caller logs (it never bounces or defers the mail).
 */
import type { ChildProcess } from 'node:child_process';
import { constants as C } from 'node:fs';
import { createRequire } from 'node:module';
import { close, open, read } from '../io/fs-async.js';
import { checkRedirectAddress, sendmailArgv } from './redirect-rules.js';

export interface SendRequest {
  /** [delivery] sendmail: an absolute path. */
  program: string;
  /** Envelope sender; '' = the null sender. */
  sender: string;
  recipient: string;
  /** Bytes sent first (a prepended header field), then `file` or `body`. */
  prefix?: Buffer;
  file?: string;
  /** Bytes of `file` to skip (a leading Return-Path). */
  fileOffset?: number;
  body?: Buffer;
  /** The budget: when it aborts, the process group is killed and the send failed. */
  signal: AbortSignal;
  /** HOME and USER of the recipient, for sendmail's own lookups. */
  home: string;
  user: string;
}

export type SendResult = { ok: true } | { ok: false; why: string };

/** Like the filter scanner: an exec on a hung mount blocks only env's process, which the budget kills. */
const TRAMPOLINE = '/usr/bin/env';
const CHUNK = 64 * 1024;
const STDERR_KEEP = 2048;
const noop = (): void => undefined;

let childProcess: typeof import('node:child_process') | undefined;
const loadChildProcess = (): typeof import('node:child_process') =>
  (childProcess ??= createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process'));

export async function sendmail(req: SendRequest): Promise<SendResult> {
  if (req.signal.aborted) return { ok: false, why: 'no time left to run sendmail' };
  // The last line of defence: the callers check too, but whatever reaches argv is one plain address after
  // `--` (sendmail would read a list as several recipients, and `-x` as an option without the `--`).
  const rcpt = checkRedirectAddress(req.recipient);
  if (!rcpt.ok) return { ok: false, why: `refused recipient: ${rcpt.why}` };
  const argv = sendmailArgv(req.program, req.sender, rcpt.address);
  let child: ChildProcess;
  try {
    child = loadChildProcess().spawn(TRAMPOLINE, ['--', ...argv], {
      detached: true, // setsid: its own process group, killed whole
      cwd: '/',
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: req.home, USER: req.user, LOGNAME: req.user, LANG: 'C', ...mailConfig() },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
  } catch (err) {
    return { ok: false, why: `cannot run ${req.program}: ${(err as Error).message}` };
  }
  const stderr: Buffer[] = [];
  let stderrBytes = 0;
  child.stderr!.on('data', (d: Buffer) => {
    if (stderrBytes < STDERR_KEEP) stderr.push(d.subarray(0, STDERR_KEEP - stderrBytes));
    stderrBytes += d.length;
  });
  child.stderr!.on('error', noop);
  child.stdin!.on('error', noop); // EPIPE when sendmail exits early: its exit status tells why

  const ended = new Promise<SendResult>((resolve) => {
    const onAbort = (): void => {
      killGroup(child);
      resolve({ ok: false, why: `${req.program} did not finish within its time budget; process group killed` });
    };
    req.signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      req.signal.removeEventListener('abort', onAbort);
      resolve({ ok: false, why: `cannot run ${req.program}: ${err.message}` });
    });
    // Same tick as the reap: while leftovers of a forking sendmail live, the group id cannot be reused.
    child.once('exit', () => killGroup(child));
    child.once('close', (code, sig) => {
      req.signal.removeEventListener('abort', onAbort);
      if (feedError) return resolve({ ok: false, why: `cannot send the message to ${req.program}: ${feedError}` });
      if (code === 0) return resolve({ ok: true });
      const said = Buffer.concat(stderr).toString('utf8').trim().split('\n')[0] ?? '';
      const how = code === 127 ? 'not found or not executable' : sig ? `killed by ${sig}` : `exit ${code}`;
      resolve({ ok: false, why: `${req.program} failed (${how})${said ? `: ${said}` : ''}` });
    });
  });
  let feedError: string | undefined;
  void feed(child, req).catch((err: Error) => {
    if (err instanceof PipeClosed) return; // sendmail stopped reading: its exit status tells why
    feedError = err.message; // our side failed (reading the file): the message must not go out truncated
    killGroup(child);
  });
  return ended;
}

class PipeClosed extends Error {}

/** feed writes prefix + file/body to stdin, waiting for 'drain' so memory stays flat, then closes it. */
async function feed(child: ChildProcess, req: SendRequest): Promise<void> {
  const stdin = child.stdin!;
  const write = (b: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      if (req.signal.aborted || stdin.destroyed) return reject(new PipeClosed());
      if (stdin.write(b)) return resolve();
      const onDrain = (): void => (stdin.off('close', onClose), resolve());
      const onClose = (): void => (stdin.off('drain', onDrain), reject(new PipeClosed()));
      stdin.once('drain', onDrain);
      stdin.once('close', onClose);
    });
  if (req.prefix?.length) await write(req.prefix);
  if (req.body?.length) await write(req.body);
  if (req.file !== undefined) {
    const fd = await open(req.file, C.O_RDONLY | C.O_NOFOLLOW);
    try {
      for (let pos = req.fileOffset ?? 0; ; ) {
        const buf = Buffer.allocUnsafe(CHUNK);
        const n = await read(fd, buf, 0, CHUNK, pos);
        if (n === 0) break;
        await write(buf.subarray(0, n));
        pos += n;
      }
    } finally {
      await close(fd).catch(noop);
    }
  }
  // EOF only after every byte: on any failure the group is killed instead, so no truncated copy is ever submitted.
  stdin.end();
}

/** Postfix's sendmail finds a non-default instance through MAIL_CONFIG; keep it when Postfix gave it to us. */
function mailConfig(): Record<string, string> {
  const v = process.env['MAIL_CONFIG'];
  return v ? { MAIL_CONFIG: v } : {};
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: already gone
  }
}
