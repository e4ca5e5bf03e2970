/**
 * Spawns bin/mda as Postfix would (stdin = message, stdout+stderr captured
 * together) with a hard timeout that fails the test if mda does not exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MDA = fileURLToPath(new URL('../../bin/mda', import.meta.url));

export interface MdaResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  elapsedMs: number;
}

export interface RunOptions {
  input?: Buffer | string;
  env?: NodeJS.ProcessEnv;
  /** Fail if mda runs longer than this (ms). */
  hardTimeoutMs?: number;
  /** Called with the child right after spawn (to signal it, keep stdin open...). */
  onSpawn?: (child: ChildProcess) => void;
  /** Leave stdin open instead of writing input and closing it. */
  keepStdinOpen?: boolean;
}

/** A config file that keeps tests quiet: no syslog. */
export const QUIET_CONFIG = '[log]\ntarget = "none"\n';

export function runMda(args: string[], opts: RunOptions = {}): Promise<MdaResult> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [MDA, ...args], {
      env: opts.env ?? { PATH: process.env.PATH, HOME: process.env.HOME, USER: process.env.USER ?? 'root' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    child.stdin!.on('error', () => undefined); // mda may exit before reading everything (e.g. too large)
    const hard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mda did not exit within ${opts.hardTimeoutMs ?? 20000} ms; output so far: ${output}`));
    }, opts.hardTimeoutMs ?? 20000);
    child.on('close', (code, signal) => {
      clearTimeout(hard);
      resolvePromise({ code, signal, output, elapsedMs: performance.now() - started });
    });
    opts.onSpawn?.(child);
    if (!opts.keepStdinOpen) child.stdin!.end(opts.input ?? '');
  });
}

/** A fresh temp dir per test, removed by the returned cleanup. */
export function tempDir(prefix = 'mda-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** chownTree gives a test's tree to uid:gid (as root; a no-op otherwise, where the tree is already the runner's). */
export function chownTree(path: string, uid: number, gid: number): void {
  if (process.getuid?.() !== 0) return;
  chownSync(path, uid, gid);
  if (lstatSync(path).isDirectory()) for (const n of readdirSync(path)) chownTree(join(path, n), uid, gid);
}

/** Files in a Maildir subdirectory (new/, tmp/, ...), [] when missing. */
export function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** The only message in dir/new, as bytes; throws unless there is exactly one. */
export function onlyMessage(maildirNew: string): { name: string; bytes: Buffer } {
  const files = listDir(maildirNew);
  if (files.length !== 1) throw new Error(`expected one message in ${maildirNew}, found ${files.length}: ${files.join(', ')}`);
  return { name: files[0]!, bytes: readFileSync(join(maildirNew, files[0]!)) };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** runCli runs an admin command (`node bin/mda <args>`) with stdout and stderr kept apart and a hard timeout. */
export function runCli(args: string[], opts: { cwd?: string; hardTimeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [MDA, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, USER: process.env.USER ?? 'root' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const hard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mda ${args.join(' ')} did not exit; stderr: ${stderr}`));
    }, opts.hardTimeoutMs ?? 20_000);
    child.on('close', (code) => {
      clearTimeout(hard);
      resolvePromise({ code, stdout, stderr, elapsedMs: performance.now() - started });
    });
  });
}

/**
 * trackPeakRss polls a child's VmHWM (peak resident set) until it exits;
 * the returned function reads the highest value seen, in KiB.
 */
export function trackPeakRss(child: ChildProcess, everyMs = 10): () => number {
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      clearInterval(poll); // the process is gone
    }
  }, everyMs);
  child.on('close', () => clearInterval(poll));
  return () => peakKb;
}
