/**
 * The filter scanner (like maildrop's xfilter, procmail's `:0 fw`): runs the
 * configured command with the message file as stdin and, in rewrite mode, a
 * new file as stdout; decide.ts says what the result means. The command runs
 * in its own process group, and the whole group is SIGKILLed when the budget
 * ends or the command exits, so no filter or child of it outlives its scan.
 * Must not: reject, set timers (the budget is req.signal), or pipe the message through Node.
 */
import type { ChildProcess } from 'node:child_process';
import { access, constants, stat } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ScannerConfig } from '../../config/schema.js';
import { monotonicMs } from '../../deadline/deadline.js';
import { close, fstat, open, read, unlink } from '../../io/fs-async.js';
import type { ScanRequest, ScannerClient, SkipReason, Verdict } from '../types.js';
import { decideFilter, HEAD_BYTES, STDERR_KEEP } from './decide.js';

const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW, X_OK } = constants;
/** Bare command names are looked up here, as Postfix's own PATH for mda. */
const SEARCH_PATH = ['/usr/bin', '/bin'];
/**
 * spawn() blocks the main thread until the child has exec'd; an exec of a
 * program on a hung NFS mount would freeze mda, timers and watchdog included,
 * until Postfix kills it at command_time_limit, which bounces. So a local
 * /usr/bin/env execs the command: env's exec can hang only env's own process,
 * which the budget kills. env also resolves bare names in the PATH below,
 * and reports a missing command as exit 127 with its reason on stderr.
 */
const TRAMPOLINE = '/usr/bin/env';
const noop = (): void => undefined;

/** child_process is loaded on first use: most deliveries run no filter, and Postfix starts mda per message. */
let childProcess: typeof import('node:child_process') | undefined;
const loadChildProcess = (): typeof import('node:child_process') =>
  (childProcess ??= createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process'));

type ChildEnd =
  | { kind: 'exit'; code: number | null; signal: string | null; stderr: Buffer }
  | { kind: 'timeout' }
  | { kind: 'spawn-error'; message: string };

export class FilterClient implements ScannerClient {
  readonly name: string;
  readonly type = 'filter' as const;
  private readonly endpoint: string;

  constructor(private readonly cfg: ScannerConfig) {
    this.name = cfg.name;
    this.endpoint = cfg.command.join(' ');
  }

  async scan(req: ScanRequest): Promise<Verdict> {
    const started = monotonicMs();
    const verdict = (status: Verdict['status'], detail: string, extra: Partial<Verdict> = {}): Verdict => ({
      scanner: this.name, type: 'filter', endpoint: this.endpoint, status, detail, elapsedMs: Math.round(monotonicMs() - started), ...extra,
    });
    const skipped = (skip: SkipReason, detail: string): Verdict => verdict('skipped', detail, { skip });
    const timeout = (): Verdict => skipped('timeout', `no result within ${Math.round(monotonicMs() - started)}ms; process group killed`);
    if (req.size > this.cfg.maxSize) return skipped('too-large', `message of ${req.size} bytes is over max_size (${this.cfg.maxSize})`);
    if (req.signal.aborted || this.cfg.command.length === 0) return req.signal.aborted ? timeout() : skipped('error', 'no command');

    const rewrite = this.cfg.filterMode === 'rewrite';
    const fds: number[] = [];
    let outPath: string | undefined;
    let keep = false;
    try {
      const msgFd = await openWithin(req.path, O_RDONLY | O_NOFOLLOW, 0, req.signal, false);
      if (msgFd === undefined) return timeout();
      fds.push(msgFd);
      let outFd: number | undefined;
      if (rewrite) {
        const out = await createOutput(req.workDir, req.names, req.signal);
        if (!out) return timeout();
        fds.push(out.fd);
        [outFd, outPath] = [out.fd, out.path];
      }
      const end = await runChild(this.cfg.command, filterEnv(req), msgFd, outFd, req.signal);
      if (end.kind === 'timeout') return timeout();
      if (end.kind === 'spawn-error') return skipped('error', `cannot run ${this.cfg.command[0]}: ${end.message}`);

      let outputSize = 0;
      let outputHead = Buffer.alloc(0);
      if (outFd !== undefined) {
        outputSize = (await fstat(outFd)).size;
        const head = Buffer.alloc(Math.min(HEAD_BYTES, outputSize));
        outputHead = head.subarray(0, await read(outFd, head, 0, head.length, 0));
      }
      const d = decideFilter({ mode: this.cfg.filterMode, code: end.code, signal: end.signal, stderr: end.stderr, outputSize, outputHead, maxSize: this.cfg.maxSize });
      switch (d.status) {
        case 'skipped':
          return skipped('error', d.detail);
        case 'infected':
          return verdict('infected', d.detail, { signature: d.signature });
        case 'spam':
          return verdict('spam', d.detail);
        default:
          keep = d.rewritten;
          return verdict('clean', d.detail, d.rewritten ? { rewrittenPath: outPath } : {});
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return skipped('error', e.code ? `${e.code}: ${e.message}` : String(e.message ?? err));
    } finally {
      for (const fd of fds) await close(fd).catch(noop);
      // The caller removes a rewrite it was given; every other output is ours to remove.
      if (outPath !== undefined && !keep) await unlink(outPath).catch(noop);
    }
  }

  /** ping: the command exists and is executable (bare names are looked up in /usr/bin:/bin). */
  async ping(signal: AbortSignal): Promise<string> {
    const prog = this.cfg.command[0];
    if (prog === undefined || prog === '') throw new Error('no command configured');
    const candidates = prog.startsWith('/') ? [prog] : SEARCH_PATH.map((d) => join(d, prog));
    let last: Error | undefined;
    for (const path of candidates) {
      try {
        await executable(path, signal);
        return `executable ${path}`;
      } catch (err) {
        if (signal.aborted) throw err;
        last = err as Error;
      }
    }
    throw prog.startsWith('/') ? last! : new Error(`${prog}: not found in ${SEARCH_PATH.join(':')}`);
  }
}

/** The filter's whole environment: nothing of mda's own leaks into it. */
function filterEnv(req: ScanRequest): NodeJS.ProcessEnv {
  const clean = (s: string): string => s.replace(/\0/g, '');
  return {
    PATH: SEARCH_PATH.join(':'),
    HOME: clean(req.home),
    USER: clean(req.user),
    LANG: 'C',
    SENDER: clean(req.sender),
    RECIPIENT: clean(req.recipient),
  };
}

/**
 * runChild runs argv in a new process group (detached = setsid) and settles
 * when it exits and its stderr is closed, or when the budget ends. Either
 * way the whole group is SIGKILLed: a filter that ignores SIGTERM, or left
 * children behind (which could keep writing the output), is gone.
 */
function runChild(argv: readonly string[], env: NodeJS.ProcessEnv, stdin: number, stdout: number | undefined, signal: AbortSignal): Promise<ChildEnd> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = loadChildProcess().spawn(TRAMPOLINE, ['--', ...argv], { detached: true, cwd: '/', env, stdio: [stdin, stdout ?? 'ignore', 'pipe'] });
    } catch (err) {
      resolve({ kind: 'spawn-error', message: (err as Error).message });
      return;
    }
    const kept: Buffer[] = [];
    let keptBytes = 0;
    // Keep reading past the limit: a filter blocked on a full stderr pipe would never finish.
    child.stderr!.on('data', (d: Buffer) => {
      if (keptBytes >= STDERR_KEEP) return;
      const part = d.subarray(0, STDERR_KEEP - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    });
    child.stderr!.on('error', noop);
    let exited: { code: number | null; signal: string | null } | undefined;
    let settled = false;
    const finish = (end: ChildEnd): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      // Not yet reaped, so its pid (the group id) cannot have been reused. After
      // 'exit' the group was killed there, and a second kill might hit a new group.
      if (!exited) killGroup(child);
      child.stderr!.destroy();
      resolve(end);
    };
    const exitEnd = (): ChildEnd => ({ kind: 'exit', ...exited!, stderr: Buffer.concat(kept) });
    // An exit already seen still counts when the budget ends while stderr is held open.
    const onAbort = (): void => finish(exited ? exitEnd() : { kind: 'timeout' });
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => finish({ kind: 'spawn-error', message: err.message }));
    child.once('exit', (code, sig) => {
      exited = { code, signal: sig };
      // Leftovers could hold stderr open or keep writing the output. This runs in
      // the same tick as the reap, and while any of them lives the group id cannot
      // be reused; with none left the kill finds nothing.
      killGroup(child);
    });
    child.once('close', () => {
      if (exited) finish(exitEnd());
    });
    if (signal.aborted) onAbort();
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the whole group is already gone
  }
}

/** createOutput makes the rewrite's file: new (O_EXCL), 0600, in the recipient's workDir. */
async function createOutput(dir: string, names: () => string, signal: AbortSignal): Promise<{ fd: number; path: string } | undefined> {
  for (let attempt = 0; ; attempt++) {
    const path = join(dir, `${names()}.filter`);
    try {
      const fd = await openWithin(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600, signal, true);
      return fd === undefined ? undefined : { fd, path };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
    }
  }
}

/**
 * openWithin opens a file but stops waiting when the budget ends (a hung NFS
 * server): undefined then. A descriptor that arrives late is closed, and a
 * file created late is removed.
 */
function openWithin(path: string, flags: number, mode: number, signal: AbortSignal, created: boolean): Promise<number | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    let late = false;
    const onAbort = (): void => {
      late = true;
      resolve(undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    open(path, flags, mode).then(
      (fd) => {
        signal.removeEventListener('abort', onAbort);
        if (!late) return resolve(fd);
        void close(fd).catch(noop);
        if (created) void unlink(path).catch(noop);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!late) reject(err);
      },
    );
  });
}

/**
 * executable resolves when path is an executable regular file, else rejects
 * with the reason. Thread-pool calls, which is acceptable only because ping is
 * for `mda scanners check`, never the delivery path.
 */
function executable(path: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error(`checking ${path} took too long`));
    const onAbort = (): void => reject(new Error(`checking ${path} took too long`));
    signal.addEventListener('abort', onAbort, { once: true });
    const end = (err?: Error): void => {
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    access(path, X_OK, (err) => {
      if (err) return end(new Error(`${path}: ${err.code === 'EACCES' ? 'not executable' : err.code === 'ENOENT' ? 'no such file' : err.message}`));
      stat(path, (e, st) => end(e ? e : st.isFile() ? undefined : new Error(`${path}: not a regular file`)));
    });
  });
}
