// bench/flood-postfix.mjs: the `flood-postfix` section (issue 11: "Through real Postfix the
// front ends differ again: mailbox_command is capped by local_destination_concurrency_limit, an
// LMTP transport by that transport's destination concurrency; measure and explain both").
// A real Postfix (scripts/realstack/up.sh, the Debian package, a private instance on a free
// port) takes a flood to ONE address over SMTP, and mda stores it through the stand-in scanner
// that takes 1 s per message (bench/lib/slow-spamd.mjs), three ways, each on its own instance
// with Postfix's defaults:
//   mailbox_command     `mda deliver` per message, run by local(8)
//   mailbox_transport   `lmtp:unix:private/mda` to `mda lmtp` (system users mode), via local(8)
//   virtual_transport   `lmtp:inet:127.0.0.1:PORT` to `mda lmtp` ([lmtp] user = "nobody")
// It prints msgs/s (SMTP start to the last file in new/) and the most scans the stand-in held at
// once: the concurrency Postfix actually gave the delivery agent. Knobs: BENCH_PF_LOCAL_N
// (default 40) for the two local(8) cases, BENCH_PF_VIRTUAL_N (default 200), BENCH_PF_SCAN_MS
// (default 1000). Needs root and postfix; the mail user (mdatest) must be able to run bin/mda
// from this checkout (not under a 0700 /root). Starts nothing it does not stop.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, lookupUser, makeTempRoot, which } from './lib/fixtures.mjs';
import { table } from './lib/measure.mjs';
import { sleep } from './lib/server-process.mjs';
import { smtpOnce } from './lib/smtp-once.mjs';
import { startSlowSpamd } from './lib/slow-spamd.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const NODE = process.execPath;
const MDA = join(ROOT, 'bin/mda');
const LOCAL_N = Number(process.env.BENCH_PF_LOCAL_N || 40);
const VIRTUAL_N = Number(process.env.BENCH_PF_VIRTUAL_N || 200);
const SCAN_MS = Number(process.env.BENCH_PF_SCAN_MS || 1000);
const SMTP_CLIENTS = 10;
const MAIL_USER = 'mdatest'; // realstack's local recipient
const VDOMAIN = 'virt.example';
const NOBODY = 65534;
/** Postfix's commands live in /usr/sbin, which the clean environment of `npm run bench` may not have in PATH. */
const SBIN = '/usr/sbin';
const SBIN_PATH = `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`;

export const description = `a flood to one address through real Postfix and a ${SCAN_MS} ms scanner: mailbox_command (${LOCAL_N}), mailbox_transport = lmtp (${LOCAL_N}), virtual_transport = lmtp (${VIRTUAL_N})`;

const tty = process.stderr.isTTY;
const progress = (s) => tty && process.stderr.write(`\r\x1b[K  ${s}`);
const clearProgress = () => tty && process.stderr.write('\r\x1b[K');
const count = (d) => (existsSync(d) ? readdirSync(d).length : 0);

/** Sends n messages to `to` over SMTP_CLIENTS connections at a time; resolves when Postfix accepted all. */
async function flood(port, to, n, tag) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const k = next++;
      await smtpOnce(port, 'flood@sender.test', to, `From: <flood@sender.test>\nTo: <${to}>\nSubject: ${tag} ${k}\nMessage-ID: <${tag}.${k}@sender.test>\n\nBounce ${k} of a flood.\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SMTP_CLIENTS, n) }, worker));
}

/** Waits (bounded) until `dir` holds n files; the time it took from t0, or NaN. */
async function waitStored(dir, n, t0, label) {
  const limitMs = (n * SCAN_MS) / 1 + 120_000; // even at one delivery at a time
  for (;;) {
    const got = count(dir);
    progress(`${label}: ${got}/${n} stored (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    if (got >= n) return performance.now() - t0;
    if (performance.now() - t0 > limitMs) return NaN;
    await sleep(100);
  }
}

function stackUp(dir, env) {
  const r = spawnSync('bash', [join(ROOT, 'scripts/realstack/up.sh')], {
    env: { ...process.env, PATH: SBIN_PATH, REALSTACK_DIR: dir, REALSTACK_SERVICES: 'postfix', ...env }, encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`scripts/realstack/up.sh failed: ${(r.stdout + r.stderr).trim().split('\n').slice(-5).join(' | ')}`);
  const cf = join(dir, 'postfix/etc');
  return { dir, cf, postconf: (...a) => execFileSync(join(SBIN, 'postconf'), ['-c', cf, ...a], { encoding: 'utf8' }).trim() };
}

function stackDown(dir) {
  spawnSync('bash', [join(ROOT, 'scripts/realstack/down.sh')], { env: { ...process.env, PATH: SBIN_PATH, REALSTACK_DIR: dir, REALSTACK_PURGE: '1' }, stdio: 'ignore' });
}

function mdaConfig(path, spamd, lines) {
  writeFileSync(path, [
    '[log]', 'target = "none"',
    '[delivery]', 'deadline = "120s"', 'maildir = "~/Maildir"',
    '[[scanner]]', 'type = "spamd"', `hosts = ["${spamd.host}:${spamd.port}"]`, 'timeout = "60s"',
    ...lines, '',
  ].join('\n'), { mode: 0o644 });
  return path;
}

/** mda lmtp as root, until stop(); resolves once `probe()` says it listens. */
async function startLmtp(listen, config, probe) {
  const child = spawn(NODE, [MDA, 'lmtp', '--listen', listen, '--config', config], { env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  for (let i = 0; !probe(); i++) {
    if (i > 200 || child.exitCode !== null) throw new Error(`mda lmtp did not start: ${out.trim()}`);
    await sleep(50);
  }
  return async () => {
    child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(20_000)]);
    child.kill('SIGKILL');
  };
}

/** One case: its own Postfix; `setup(stack)` starts mda's side and returns { to, newDir, stop }. */
async function runCase(root, spamd, name, n, stackEnv, setup) {
  const dir = join(root, name.replace(/\W+/g, '-'));
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const port = await freePort();
  const stack = stackUp(dir, { REALSTACK_SMTP_PORT: String(port), ...stackEnv(dir) });
  let stop = async () => undefined;
  try {
    const side = await setup(stack, dir);
    stop = side.stop;
    const scans0 = spamd.stats().scans;
    spamd.resetPeak();
    const t0 = performance.now();
    await flood(port, side.to, n, name.replace(/\W+/g, ''));
    const ms = await waitStored(side.newDir, n, t0, name);
    clearProgress();
    const s = spamd.stats();
    return { name, n, ms, stored: count(side.newDir), scans: s.scans - scans0, peak: s.peak, limit: side.limit(stack) };
  } finally {
    await stop();
    stackDown(dir);
  }
}

export async function run() {
  if (![LOCAL_N, VIRTUAL_N].every((x) => Number.isInteger(x) && x >= 1) || !(SCAN_MS >= 0)) {
    console.error('flood-postfix: BENCH_PF_LOCAL_N and BENCH_PF_VIRTUAL_N must be integers >= 1, BENCH_PF_SCAN_MS >= 0');
    return { ok: false };
  }
  if (process.getuid?.() !== 0 || !which(join(SBIN, 'postfix'))) {
    console.log('  skipped: needs root and postfix (scripts/install-test-deps.sh)');
    return { ok: true };
  }
  const root = makeTempRoot('flood-postfix');
  chmodSync(root, 0o755);
  const spamd = await startSlowSpamd({ delayMs: SCAN_MS });
  console.log(`  stand-in spamd on ${spamd.host}:${spamd.port}: every scan answered ham after ${SCAN_MS} ms, any number at once; ${SMTP_CLIENTS} SMTP clients; Postfix's defaults; node ${process.version}, ${cpus().length} CPUs, 1-min load ${loadavg()[0].toFixed(2)}`);
  const rows = [];
  try {
    rows.push(await runCase(root, spamd, 'mailbox_command = mda deliver', LOCAL_N, (dir) => ({
      REALSTACK_MDA_COMMAND: `${MDA} deliver --config ${mdaConfig(join(dir, 'mda.toml'), spamd, ['[scanning]', `state_dir = "${join(dir, 'state')}"`])}`,
      REALSTACK_COMMAND_TIME_LIMIT: '1000s',
    }), async (stack, dir) => {
      mkdirSync(join(dir, 'state'), { mode: 0o755 });
      const u = lookupUser(MAIL_USER);
      chownSync(join(dir, 'state'), u.uid, u.gid);
      const home = execFileSync('getent', ['passwd', MAIL_USER], { encoding: 'utf8' }).split(':')[5];
      execFileSync('rm', ['-rf', join(home, 'Maildir')]);
      return { to: `${MAIL_USER}@example.test`, newDir: join(home, 'Maildir', 'new'), stop: async () => undefined, limit: (s) => `local_destination_concurrency_limit = ${s.postconf('-x', '-h', 'local_destination_concurrency_limit')}` };
    }));
    rows.push(await runCase(root, spamd, 'mailbox_transport = lmtp:unix', LOCAL_N, () => ({ REALSTACK_MAILBOX_TRANSPORT: 'lmtp:unix:private/mda' }), async (stack, dir) => {
      const sock = join(stack.postconf('-h', 'queue_directory'), 'private', 'mda');
      const config = mdaConfig(join(dir, 'mda.toml'), spamd, ['[scanning]', `state_dir = "${join(dir, 'state')}"`, '[lmtp]', `spool_dir = "${join(dir, 'spool')}"`, 'socket_owner = "postfix"', 'socket_mode = "0600"', 'max_connections = 200']);
      const home = execFileSync('getent', ['passwd', MAIL_USER], { encoding: 'utf8' }).split(':')[5];
      execFileSync('rm', ['-rf', join(home, 'Maildir')]);
      const stop = await startLmtp(`unix:${sock}`, config, () => existsSync(sock) && lstatSync(sock).uid !== 0);
      return { to: `${MAIL_USER}@example.test`, newDir: join(home, 'Maildir', 'new'), stop, limit: (s) => `local_destination_concurrency_limit = ${s.postconf('-x', '-h', 'local_destination_concurrency_limit')}` };
    }));
    rows.push(await runCase(root, spamd, 'virtual_transport = lmtp:inet', VIRTUAL_N, () => ({}), async (stack, dir) => {
      const lport = await freePort();
      const map = join(dir, 'vmailbox');
      writeFileSync(map, `flood@${VDOMAIN} flood/\n`);
      execFileSync(join(SBIN, 'postmap'), ['-c', stack.cf, `hash:${map}`]);
      stack.postconf('-e', `virtual_mailbox_domains = ${VDOMAIN}`, `virtual_mailbox_maps = hash:${map}`, `virtual_transport = lmtp:inet:127.0.0.1:${lport}`);
      execFileSync(join(SBIN, 'postfix'), ['-c', stack.cf, 'reload'], { stdio: 'ignore' });
      const vmail = join(dir, 'vmail');
      mkdirSync(join(vmail, 'flood'), { recursive: true, mode: 0o700 });
      for (const p of [vmail, join(vmail, 'flood')]) chownSync(p, NOBODY, NOBODY);
      const config = mdaConfig(join(dir, 'mda.toml'), spamd, ['[scanning]', `state_dir = "${join(vmail, '.state')}"`, '[lmtp]', 'user = "nobody"', `spool_dir = "${join(vmail, '.spool')}"`, 'max_connections = 200', '[users.flood]', `maildir = "${join(vmail, 'flood')}"`]);
      const stop = await startLmtp(`127.0.0.1:${lport}`, config, () => spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${lport}`]).status === 0);
      await sleep(1500); // smtpd processes started before the reload still say "Relay access denied" for a moment
      return { to: `flood@${VDOMAIN}`, newDir: join(vmail, 'flood', 'new'), stop, limit: (s) => `lmtp_destination_concurrency_limit = ${s.postconf('-x', '-h', 'lmtp_destination_concurrency_limit')}` };
    }));
  } catch (err) {
    clearProgress();
    console.log(`  FAILED: ${err.message}`);
    await spamd.close();
    return { ok: false };
  }
  await spamd.close();
  const t = [['Postfix hands mail to mda by', 'messages', 'stored', 'seconds', 'msgs/s', 'peak scans at once', 'the limit that applies']];
  for (const r of rows) t.push([r.name, r.n, r.stored, Number.isFinite(r.ms) ? (r.ms / 1000).toFixed(1) : 'timeout', Number.isFinite(r.ms) ? (r.n / (r.ms / 1000)).toFixed(2) : '-', r.peak, r.limit]);
  console.log(`\n${table(t)}\n`);
  console.log('  seconds = the first SMTP connection to the last file in new/; peak scans at once = the most requests the stand-in');
  console.log('  held at the same time: the number of deliveries Postfix ran in parallel. local(8) delivers to one recipient at most');
  console.log('  local_destination_concurrency_limit at a time, for mailbox_command and for mailbox_transport = lmtp alike; the');
  console.log('  queue manager schedules virtual_transport = lmtp itself, up to lmtp_destination_concurrency_limit per next hop.');
  return { ok: rows.every((r) => r.stored === r.n) };
}
