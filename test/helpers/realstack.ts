/**
 * Helpers for tests against the real stack of scripts/realstack/up.sh: a
 * private Postfix on 127.0.0.1 (optionally spamd and clamd) whose
 * mailbox_command is the built mda. Start/stop, install the built app where the
 * test user can run it, wait for a queue id's delivery status in the maillog,
 * find the bounce the sink captured, list the queue.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyRuntimeTree } from '../../scripts/runtime-tree.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const UP = path.join(REPO_ROOT, 'scripts/realstack/up.sh');
const DOWN = path.join(REPO_ROOT, 'scripts/realstack/down.sh');

export type Service = 'postfix' | 'spamd' | 'clamd';

export interface RealstackOptions {
  /** All state; must not be under a folder the test user cannot search (e.g. /root). */
  dir: string;
  smtpPort: number;
  services?: Service[];
  /** Postfix mailbox_command (absolute path + arguments, no shell syntax needed). */
  mdaCommand?: string;
  mdaUser?: string;
  commandTimeLimit?: string;
  spamdPort?: number;
  clamdPort?: number;
  /** Extra REALSTACK_* variables for up.sh. */
  env?: Record<string, string>;
}

export interface Realstack {
  dir: string;
  smtpPort: number;
  /** Postfix config folder, for `postqueue -c` / `postconf -c`. */
  postfixConfig: string;
  maillog: string;
  /** One file per message the sink received (bounces to the sink domain). */
  bounces: string;
  mdaUser: string;
  domain: string;
  sinkDomain: string;
  /** What up.sh wrote to env.json (REALSTACK_* endpoints). */
  env: Record<string, string>;
  /** up.sh's output. */
  log: string;
}

const tool = (name: string) =>
  ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].map((d) => path.join(d, name)).find((p) => fs.existsSync(p));

/**
 * realstackSkipReason - why tests needing these services cannot run here, or
 * null if they can. Only "not root" (Postfix needs root) and "not installed"
 * count; everything else must fail loudly instead of skipping.
 */
export function realstackSkipReason(services: Service[] = ['postfix']): string | null {
  const isRoot = process.getuid?.() === 0;
  const binaries: Record<Service, string> = { postfix: 'postfix', spamd: 'spamd', clamd: 'clamd' };
  const missing = services.filter((s) => !tool(binaries[s]));
  if (services.includes('postfix') && !isRoot) {
    return 'Postfix must be started as root; run the e2e tests as root (CI does)';
  }
  if (missing.length > 0) {
    return `not installed: ${missing.join(', ')} (run scripts/install-test-deps.sh)`;
  }
  return null;
}

/** freePort - a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function stackEnv(o: Pick<RealstackOptions, 'dir'> & Partial<RealstackOptions>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, REALSTACK_DIR: o.dir };
  if (o.smtpPort !== undefined) env.REALSTACK_SMTP_PORT = String(o.smtpPort);
  if (o.services) env.REALSTACK_SERVICES = o.services.join(' ');
  if (o.mdaCommand) env.REALSTACK_MDA_COMMAND = o.mdaCommand;
  if (o.mdaUser) env.REALSTACK_MDA_USER = o.mdaUser;
  if (o.commandTimeLimit) env.REALSTACK_COMMAND_TIME_LIMIT = o.commandTimeLimit;
  if (o.spamdPort !== undefined) env.REALSTACK_SPAMD_PORT = String(o.spamdPort);
  if (o.clamdPort !== undefined) env.REALSTACK_CLAMD_PORT = String(o.clamdPort);
  return { ...env, ...o.env };
}

/** startRealstack - run scripts/realstack/up.sh; throws with its output if it fails. */
export function startRealstack(o: RealstackOptions): Realstack {
  const r = spawnSync('bash', [UP], { env: stackEnv(o), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`scripts/realstack/up.sh failed (exit ${r.status}):\n${log}`);
  const env = JSON.parse(fs.readFileSync(path.join(o.dir, 'env.json'), 'utf8')) as Record<string, string>;
  return {
    dir: o.dir,
    smtpPort: Number(env.REALSTACK_SMTP_PORT),
    postfixConfig: env.REALSTACK_POSTFIX_CONFIG ?? path.join(o.dir, 'postfix/etc'),
    maillog: env.REALSTACK_MAILLOG ?? path.join(o.dir, 'postfix/maillog'),
    bounces: env.REALSTACK_BOUNCES ?? path.join(o.dir, 'bounces'),
    mdaUser: env.REALSTACK_MDA_USER ?? 'mdatest',
    domain: env.REALSTACK_DOMAIN ?? 'example.test',
    sinkDomain: env.REALSTACK_SINK_DOMAIN ?? 'sender.test',
    env,
    log,
  };
}

/** stopRealstack - run scripts/realstack/down.sh for this dir (a no-op if nothing runs). */
export function stopRealstack(dir: string, opts: { purge?: boolean } = {}): string {
  const env = { ...process.env, REALSTACK_DIR: dir, REALSTACK_PURGE: opts.purge ? '1' : '0' };
  const r = spawnSync('bash', [DOWN], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`scripts/realstack/down.sh failed (exit ${r.status}):\n${log}`);
  return log;
}

/** Scanner endpoints of a stack, as `[[scanner]] hosts` entries. */
export interface ScannerEndpoints {
  spamdTcp: string;
  spamdSocket: string;
  clamdTcp: string;
  clamdSocket: string;
  /** clamd StreamMaxLength as given to up.sh, e.g. "1M". */
  clamdStreamMax: string;
}

/** scannerEndpoints - spamd/clamd endpoints from the env.json that up.sh wrote. */
export function scannerEndpoints(stack: Realstack): ScannerEndpoints {
  const e = stack.env;
  return {
    spamdTcp: `${e.REALSTACK_SPAMD_HOST ?? '127.0.0.1'}:${e.REALSTACK_SPAMD_PORT}`,
    spamdSocket: e.REALSTACK_SPAMD_SOCKET ?? path.join(stack.dir, 'spamd/spamd.sock'),
    clamdTcp: `${e.REALSTACK_CLAMD_HOST ?? '127.0.0.1'}:${e.REALSTACK_CLAMD_PORT}`,
    clamdSocket: e.REALSTACK_CLAMD_SOCKET ?? path.join(stack.dir, 'clamd/clamd.sock'),
    clamdStreamMax: e.REALSTACK_CLAMD_STREAM_MAX ?? '25M',
  };
}

/**
 * runDir - a REALSTACK_DIR for this test run: `${prefix}-${pid}`, so that two
 * runs of the suite on one machine never share a stack. Stacks and folders
 * that earlier runs (now dead, e.g. killed) left under the same prefix are
 * stopped and removed first.
 */
export function runDir(prefix: string): string {
  const parent = path.dirname(prefix);
  const base = path.basename(prefix);
  let names: string[] = [];
  try {
    names = fs.readdirSync(parent);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const n of names) {
    const pid = n.startsWith(`${base}-`) ? n.slice(base.length + 1) : '';
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid || pidAlive(Number(pid))) continue;
    stopRealstack(path.join(parent, n), { purge: true });
  }
  return `${prefix}-${process.pid}`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DeliveryStatus {
  queueId: string;
  /** sent | deferred | bounced | expired */
  status: string;
  /** e.g. 2.0.0, 4.3.5, 5.2.3 */
  dsn: string;
  /** The text in parentheses after status=, e.g. "delivered to command: ..." */
  text: string;
  relay: string;
  /** The whole maillog line. */
  line: string;
}

const STATUS_RE =
  /: ([0-9A-Za-z]+): to=<([^>]*)>,(?: orig_to=<[^>]*>,)? relay=([^,]*),.* dsn=([0-9.]+), status=(\w+) \((.*)\)\s*$/;

/** deliveryStatuses - every delivery status line the maillog has for queueId, in order. */
export function deliveryStatuses(stack: Realstack, queueId: string): DeliveryStatus[] {
  let text = '';
  try {
    text = fs.readFileSync(stack.maillog, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const out: DeliveryStatus[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(`: ${queueId}: to=<`)) continue;
    const m = STATUS_RE.exec(line);
    if (m && m[1] === queueId) {
      out.push({ queueId, relay: m[3]!, dsn: m[4]!, status: m[5]!, text: m[6]!, line });
    }
  }
  return out;
}

/** maillogLines - the maillog lines mentioning queueId (for failure messages). */
export function maillogLines(stack: Realstack, queueId: string): string {
  try {
    return fs
      .readFileSync(stack.maillog, 'utf8')
      .split('\n')
      .filter((l) => l.includes(queueId))
      .join('\n');
  } catch {
    return `(no maillog at ${stack.maillog})`;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * waitForStatus - wait (bounded) until the maillog has a status= line for
 * queueId and return the first one; throws with the queue id's log lines on timeout.
 */
export async function waitForStatus(
  stack: Realstack,
  queueId: string,
  opts: { timeoutMs?: number } = {},
): Promise<DeliveryStatus> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    const found = deliveryStatuses(stack, queueId)[0];
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(
        `no status= line for queue id ${queueId} in ${stack.maillog} after ${opts.timeoutMs ?? 20_000} ms; ` +
          `its lines:\n${maillogLines(stack, queueId)}\nqueue:\n${listQueue(stack)}`,
      );
    }
    await sleep(100);
  }
}

/** bouncesFor - contents of the sink's files that report on queueId (X-Postfix-Queue-ID). */
export function bouncesFor(stack: Realstack, queueId: string): string[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(stack.bounces).filter((n) => n.endsWith('.eml'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return names
    .sort()
    .map((n) => fs.readFileSync(path.join(stack.bounces, n), 'latin1'))
    .filter((t) => new RegExp(`^X-Postfix-Queue-ID: ${queueId}\\s*$`, 'm').test(t));
}

/** waitForBounce - wait (bounded) for the bounce of queueId to reach the sink; returns its text. */
export async function waitForBounce(
  stack: Realstack,
  queueId: string,
  opts: { timeoutMs?: number } = {},
): Promise<string> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    const b = bouncesFor(stack, queueId)[0];
    if (b !== undefined) return b;
    if (Date.now() > deadline) {
      throw new Error(`no bounce for ${queueId} in ${stack.bounces}; its maillog lines:\n${maillogLines(stack, queueId)}`);
    }
    await sleep(100);
  }
}

/** listQueue - `postqueue -p` for this stack's Postfix (the defer reasons are shown in parentheses). */
export function listQueue(stack: Realstack): string {
  const postqueue = tool('postqueue') ?? 'postqueue';
  try {
    return execFileSync(postqueue, ['-c', stack.postfixConfig, '-p'], { encoding: 'utf8' });
  } catch (err) {
    return `(postqueue failed: ${(err as Error).message})`;
  }
}

export interface UnixUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** lookupUser - passwd entry of a local user (getent). */
export function lookupUser(name: string): UnixUser {
  const line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
  const f = line.split(':');
  return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
}

/**
 * installApp - copy the built mda (bin/, dist/, package.json and the runtime
 * part of node_modules: scripts/runtime-tree.mjs, which the Debian package
 * uses too) to dest, readable and executable by everyone. Postfix
 * runs mailbox_command as the recipient, who usually cannot reach the repo
 * (e.g. under /root, mode 0700: every delivery would defer with "Permission
 * denied"). Dev-only packages (per package-lock.json) are left out, which also
 * proves the built app needs none of them. Returns dest/bin/mda.
 */
export function installApp(dest: string, repo: string = REPO_ROOT): string {
  copyRuntimeTree(repo, dest);
  // world-readable, directories and executables world-searchable
  execFileSync('chmod', ['-R', 'a+rX', dest]);
  const mda = path.join(dest, 'bin/mda');
  fs.chmodSync(mda, 0o755);
  return mda;
}
