/**
 * Issue 10 finding 4: what one user puts in their Maildir must not blind the
 * admin's quota report for everyone. A FIFO as maildirsize is that user's error
 * line, the other users still print, and the command ends; SIGTERM during a
 * slow report ends it without waiting for the Maildir being counted (cron must
 * not pile up). Run `npm run build` first.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MDA, runCli, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let cfg: string;
beforeEach(() => {
  t = tempDir('mda-qadmin-');
  cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, '[log]\ntarget = "none"\n[quota]\nstorage = "1M"\n');
});
afterEach(() => t.cleanup());

const md = (user: string): string => join(t.dir, 'home', user, 'Maildir');
const glob = (): string => join(t.dir, 'home', '*', 'Maildir');

function maildir(user: string, messages: number): void {
  for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(md(user), d), { recursive: true });
  for (let i = 0; i < messages; i++) writeFileSync(join(md(user), 'cur', `${1000 + i}.M1P1.host,S=100:2,S`), '');
}

/**
 * catchesSignals: the command has installed its signal handlers. Node itself catches SIGTERM
 * from the start (to reset the terminal, then dies by it), so look for SIGHUP (bit 0 of SigCgt),
 * which the quota commands catch together with SIGTERM.
 */
function catchesSignals(pid: number): boolean {
  try {
    const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m !== null && (BigInt(`0x${m[1]}`) & 1n) !== 0n;
  } catch {
    return false;
  }
}

interface JsonRow {
  user: string;
  messages: number | null;
  status: string;
}

describe('a FIFO as maildirsize (issue 10 #4)', () => {
  it('the FIFO user is an error line, the two others still print, and the report finishes', async () => {
    maildir('alice', 2);
    maildir('bob', 0);
    maildir('carol', 3);
    execFileSync('mkfifo', [join(md('bob'), 'maildirsize')]);
    const r = await runCli(['quota', 'report', '--config', cfg, '--maildir-glob', glob(), '--format', 'json'], { hardTimeoutMs: 30_000 });
    expect(r.code).toBe(2);
    const rows = JSON.parse(r.stdout) as JsonRow[];
    expect(rows.map((x) => [x.user, x.messages])).toEqual([
      ['alice', 2],
      ['bob', null],
      ['carol', 3],
    ]);
    expect(rows[1]!.status).toMatch(/^error: .*maildirsize.*(FIFO|not a regular file)/);
    expect(r.stderr).toMatch(/^mda quota report: bob \(.*\): .*(FIFO|not a regular file)/m);
  });

  it('recalc: the FIFO is an error for its user (left as it is), the others are rebuilt', async () => {
    maildir('alice', 2);
    maildir('bob', 1);
    execFileSync('mkfifo', [join(md('bob'), 'maildirsize')]);
    const r = await runCli(['quota', 'recalc', '--config', cfg, '--maildir-glob', glob()], { hardTimeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('alice 200 2\n');
    expect(r.stderr).toMatch(/^mda quota recalc: bob \(.*\): .*(FIFO|not a regular file)/m);
  });
});

describe('each Maildir has its own time (issue 10 #4)', () => {
  it('--user-timeout: a Maildir with no result in time is an error line for its user, and the command ends', async () => {
    maildir('alice', 2);
    maildir('bob', 1);
    // 1 ms: no worker can even start in that time, so every Maildir runs out of it.
    const r = await runCli(['quota', 'report', '--config', cfg, '--maildir-glob', glob(), '--user-timeout', '1ms', '--format', 'json'], { hardTimeoutMs: 30_000 });
    expect(r.code).toBe(2);
    const rows = JSON.parse(r.stdout) as JsonRow[];
    expect(rows.map((x) => [x.user, x.messages])).toEqual([
      ['alice', null],
      ['bob', null],
    ]);
    expect(rows[0]!.status).toMatch(/^error: no result within 1ms \(--user-timeout\)/);
    expect(r.stderr).toMatch(/^mda quota report: bob \(.*\): no result within 1ms/m);
  });

  it('a bad --user-timeout: exit 2 and one stderr line', async () => {
    const r = await runCli(['quota', 'report', '--config', cfg, '--maildir-glob', glob(), '--user-timeout', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mda quota report: --user-timeout: "soon" is not a duration/);
  });
});

/** stopWorkers SIGSTOPs every quota worker of `parent` as soon as it exists: a worker stuck in a system call. */
function stopWorkers(parent: number): { count: () => number; end: () => void } {
  let stopped = 0;
  const seen = new Set<number>();
  const poll = setInterval(() => {
    for (const d of readdirSync('/proc')) {
      const pid = Number(d);
      if (!Number.isInteger(pid) || seen.has(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== parent || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('__quota-maildir-worker')) continue;
        process.kill(pid, 'SIGSTOP');
        seen.add(pid);
        stopped++;
      } catch {
        // gone meanwhile
      }
    }
  }, 2);
  return { count: () => stopped, end: () => clearInterval(poll) };
}

function spawnReport(args: string[]) {
  const child = spawn(process.execPath, [MDA, 'quota', 'report', '--config', cfg, '--maildir-glob', glob(), '--format', 'json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const hard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(hard);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, done };
}

describe('a worker stuck in a system call (SIGSTOPped) (issue 10 #4)', () => {
  it('is ended at --user-timeout: an error line for its user, and the command ends by itself', async () => {
    maildir('alice', 1);
    const { child, done } = spawnReport(['--user-timeout', '2s']);
    const stopper = stopWorkers(child.pid!);
    const r = await done;
    stopper.end();
    expect(stopper.count()).toBeGreaterThan(0);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(2);
    const rows = JSON.parse(r.stdout) as JsonRow[];
    expect(rows.map((x) => [x.user, x.messages])).toEqual([['alice', null]]);
    expect(rows[0]!.status).toMatch(/^error: no result within 2s \(--user-timeout\)/);
  }, 90_000);

  it('SIGTERM ends the run even though the worker cannot run: exit 2 and a "stopped" line', async () => {
    maildir('alice', 1);
    const { child, done } = spawnReport([]);
    const stopper = stopWorkers(child.pid!);
    const term = setInterval(() => {
      if (stopper.count() > 0) {
        clearInterval(term);
        child.kill('SIGTERM');
      }
    }, 5);
    const r = await done;
    clearInterval(term);
    stopper.end();
    expect(stopper.count()).toBeGreaterThan(0);
    expect(r.signal).toBeNull(); // ended by itself, not by the test's SIGKILL
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stopped \(received SIGTERM\)/);
  }, 90_000);
});

describe('SIGTERM during a slow report (issue 10 #4)', () => {
  it('ends the command without finishing the Maildir being counted: exit 2 and a "stopped" line', async () => {
    maildir('alice', 1);
    // 150,000 names without ,S= (each one lstat()ed): about a second of counting.
    mkdirSync(join(md('slow'), 'tmp'), { recursive: true });
    mkdirSync(join(md('slow'), 'new'));
    const cur = join(md('slow'), 'cur');
    mkdirSync(cur);
    for (let i = 0; i < 150_000; i++) writeFileSync(join(cur, `m${i}`), '');
    const child = spawn(process.execPath, [MDA, 'quota', 'report', '--config', cfg, '--maildir-glob', glob(), '--format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // SIGTERM once the count of the big Maildir is under way: the command installs its signal
    // handlers right before it selects and counts; 200 ms later the count has begun.
    let caughtAt = 0;
    const term = setInterval(() => {
      if (caughtAt === 0) {
        if (catchesSignals(child.pid!)) caughtAt = Date.now();
      } else if (Date.now() - caughtAt >= 200) {
        child.kill('SIGTERM');
        clearInterval(term);
      }
    }, 5);
    const hard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearInterval(term);
    clearTimeout(hard);
    expect(signal).toBeNull(); // ended by itself after SIGTERM, not by the test's SIGKILL
    expect(code).toBe(2);
    expect(stderr).toMatch(/stopped \(received SIGTERM\)/);
    // The big Maildir was not counted to its end after the signal.
    const rows = stdout === '' ? [] : (JSON.parse(stdout) as JsonRow[]);
    expect(rows.find((x) => x.user === 'slow')?.messages ?? null).toBeNull();
  }, 120_000);
});
