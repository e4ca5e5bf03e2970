// bench/mbox.mjs: the `mbox` section (issue 15: "Deliveries/s into one mbox at 1 and 8 concurrent
// senders, side by side with procmail and Postfix local(8)'s own mbox delivery where it can be
// driven the same way; report the ratio"). Two ways, each at 1 and 8 deliveries at a time:
//   direct    one process per message, spawned as the mail user (nobody) the way Postfix runs
//             mailbox_command: `mda deliver --mbox FILE` vs `procmail DEFAULT=FILE` (its own
//             dotlock + kernel lock). local(8) cannot be run this way.
//   postfix   a private Postfix (scripts/realstack/up.sh) with the messages held in its queue
//             (defer_transports = local), then released at once (postqueue -f): local(8) itself
//             (mailbox_command unset, mail_spool_directory), mailbox_command = mda deliver
//             ([delivery] mbox), mailbox_command = procmail DEFAULT=...; local_destination_
//             concurrency_limit = 1 or 8 is the concurrency (Postfix's default is 2).
// deliveries/s = messages / (first spawn or the flush .. the last message in the mbox). Knobs:
// BENCH_MBOX_N (default 200, direct), BENCH_MBOX_PF_N (default 100, postfix). Needs root
// (postfix part: postfix; procmail rows: procmail). Starts nothing it does not stop.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, lookupUser, makeTempRoot, which, writeMessage } from './lib/fixtures.mjs';
import { ratio, table } from './lib/measure.mjs';
import { sleep } from './lib/server-process.mjs';
import { smtpOnce } from './lib/smtp-once.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const MDA = join(ROOT, 'bin/mda');
const N = Number(process.env.BENCH_MBOX_N || 200);
const PF_N = Number(process.env.BENCH_MBOX_PF_N || 100);
const CONCURRENCY = [1, 8];
const NOBODY = 65534;
const MAIL_USER = 'mdatest'; // realstack's local recipient
const SBIN = '/usr/sbin';
const SBIN_PATH = `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`;
const PROCMAIL = which('procmail');

export const description = `deliveries/s into one mbox at ${CONCURRENCY.join(' and ')} at a time: mda deliver --mbox vs procmail (direct, ${N} messages) and vs Postfix local(8) (through Postfix, ${PF_N} messages)`;

/** messages in an mbox: From_ lines (the rest are quoted) */
function countMbox(file) {
  if (!existsSync(file)) return 0;
  const text = readFileSync(file, 'latin1');
  let n = text.startsWith('From ') ? 1 : 0;
  for (let i = text.indexOf('\nFrom '); i >= 0; i = text.indexOf('\nFrom ', i + 1)) n++;
  return n;
}

/** a folder the mail user owns */
function userDir(path, uid, gid) {
  mkdirSync(path, { recursive: true });
  chownSync(path, uid, gid);
  return path;
}

/** one process per message, `parallel` at a time, as uid/gid; resolves with the ms and failures */
async function spawnAll(cmd, args, { uid, gid, env, message, n, parallel }) {
  let next = 0;
  const failures = [];
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) {
      next++;
      const r = await new Promise((res) => {
        const c = spawn(cmd, args, { uid, gid, env, stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        c.stdout.on('data', (d) => (out += d));
        c.stderr.on('data', (d) => (out += d));
        c.on('close', (code) => res({ code, out }));
        c.stdin.on('error', () => undefined);
        c.stdin.end(message);
      });
      if (r.code !== 0) failures.push(`exit ${r.code}: ${r.out.trim().slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { ms: performance.now() - t0, failures };
}

async function directRows(root, message) {
  const rows = [];
  const cfg = join(root, 'mda-direct.toml');
  writeFileSync(cfg, '[log]\ntarget = "none"\n[locks]\ntimeout = "60s"\n', { mode: 0o644 });
  for (const parallel of CONCURRENCY) {
    for (const tool of ['mda', 'procmail']) {
      if (tool === 'procmail' && !PROCMAIL) continue;
      const dir = userDir(join(root, `direct-${tool}-${parallel}`), NOBODY, NOBODY);
      const mbox = join(dir, 'nobody');
      const env = { PATH: '/usr/bin:/bin', HOME: dir, USER: 'nobody', LOGNAME: 'nobody' };
      const [cmd, args] = tool === 'mda' ? [process.execPath, [MDA, 'deliver', '--config', cfg, '--mbox', mbox]] : [PROCMAIL, [`DEFAULT=${mbox}`]];
      const r = await spawnAll(cmd, args, { uid: NOBODY, gid: NOBODY, env, message, n: N, parallel });
      rows.push({ way: 'direct', tool, parallel, n: N, stored: countMbox(mbox), ms: r.ms, failures: r.failures });
    }
  }
  return rows;
}

async function postfixRows(root, message) {
  if (!existsSync(join(SBIN, 'postfix'))) return [];
  const dir = join(root, 'postfix');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const port = await freePort();
  const spool = join(dir, 'spool-mail');
  mkdirSync(spool, { recursive: true });
  chmodSync(spool, 0o1777); // local(8), mda and procmail all create USER's file in it as the user
  const cfg = join(dir, 'mda.toml');
  writeFileSync(cfg, `[log]\ntarget = "none"\n[delivery]\nmbox = "${spool}/%u"\n[locks]\ntimeout = "60s"\n`, { mode: 0o644 });
  const mdaCmd = `${MDA} deliver --config ${cfg}`;
  const env = { ...process.env, PATH: SBIN_PATH, REALSTACK_DIR: dir, REALSTACK_SERVICES: 'postfix', REALSTACK_SMTP_PORT: String(port), REALSTACK_MDA_COMMAND: mdaCmd };
  const up = spawnSync('bash', [join(ROOT, 'scripts/realstack/up.sh')], { env, encoding: 'utf8' });
  if (up.status !== 0) throw new Error(`scripts/realstack/up.sh failed: ${(up.stdout + up.stderr).trim().split('\n').slice(-5).join(' | ')}`);
  const cf = join(dir, 'postfix/etc');
  const postconf = (...a) => execFileSync(join(SBIN, 'postconf'), ['-c', cf, ...a], { encoding: 'utf8' }).trim();
  const maillog = join(dir, 'postfix/maillog');
  const reloads = () => (readFileSync(maillog, 'utf8').match(/postfix\/master\[\d+\]: reload/g) ?? []).length;
  const reload = async () => {
    const before = reloads();
    execFileSync(join(SBIN, 'postfix'), ['-c', cf, 'reload'], { stdio: 'ignore' });
    for (let i = 0; reloads() === before && i < 400; i++) await sleep(25);
    await sleep(500); // processes started before the reload finish their current request with the old settings
  };
  const u = lookupUser(MAIL_USER);
  const mbox = join(spool, MAIL_USER);
  const rows = [];
  const commands = { 'local(8)': '', mda: mdaCmd, ...(PROCMAIL ? { procmail: `${PROCMAIL} DEFAULT=${mbox}` } : {}) };
  try {
    for (const parallel of CONCURRENCY) {
      for (const [tool, command] of Object.entries(commands)) {
        execFileSync('rm', ['-f', mbox, `${mbox}.lock`]);
        // hold the messages in the queue, then release them all at once
        postconf('-e', `mailbox_command = ${command}`, `mail_spool_directory = ${spool}`, `local_destination_concurrency_limit = ${parallel}`, 'defer_transports = local');
        await reload();
        for (let k = 0; k < PF_N; k += 10) {
          await Promise.all(Array.from({ length: Math.min(10, PF_N - k) }, () => smtpOnce(port, 'alice@example.org', `${MAIL_USER}@example.test`, message)));
        }
        // every message must wait in the deferred queue, none in the mbox yet: else the reload came too late
        const queued = () => spawnSync('find', [join(dir, 'postfix/spool/deferred'), '-type', 'f'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length;
        for (let i = 0; queued() < PF_N && i < 600; i++) await sleep(50);
        const early = countMbox(mbox);
        const held = queued();
        postconf('-e', 'defer_transports =');
        await reload();
        const t0 = performance.now();
        execFileSync(join(SBIN, 'postqueue'), ['-c', cf, '-f']);
        let stored = 0;
        for (let i = 1; ; i++) {
          stored = countMbox(mbox);
          if (stored >= PF_N || performance.now() - t0 > 300_000) break;
          // an empty queue with messages missing: they went elsewhere (or bounced); stop waiting
          if (i % 25 === 0 && execFileSync(join(SBIN, 'postqueue'), ['-c', cf, '-p'], { encoding: 'utf8' }).includes('Mail queue is empty')) {
            stored = countMbox(mbox);
            break;
          }
          await sleep(20);
        }
        const ms = performance.now() - t0;
        const owner = existsSync(mbox) ? (spawnSync('stat', ['-c', '%u', mbox], { encoding: 'utf8' }).stdout.trim() === String(u.uid) ? '' : 'not owned by the user') : 'no mbox';
        const problems = [...(owner ? [owner] : []), ...(early || held < PF_N ? [`${early} delivered before the flush, ${held} queued`] : [])];
        rows.push({ way: 'postfix', tool, parallel, n: PF_N, stored, ms: stored >= PF_N ? ms : NaN, failures: problems });
      }
    }
  } finally {
    spawnSync('bash', [join(ROOT, 'scripts/realstack/down.sh')], { env: { ...env, REALSTACK_PURGE: '1' }, stdio: 'ignore' });
  }
  return rows;
}

export async function run() {
  if (![N, PF_N].every((x) => Number.isInteger(x) && x >= 1)) {
    console.error('mbox: BENCH_MBOX_N and BENCH_MBOX_PF_N must be integers >= 1');
    return { ok: false };
  }
  if (process.getuid?.() !== 0) {
    console.log('  skipped: needs root (deliveries run as the mail user; Postfix needs root)');
    return { ok: true };
  }
  const root = makeTempRoot('mbox');
  const { path: msgPath, bytes } = writeMessage(root);
  const message = readFileSync(msgPath, 'latin1');
  const smtpBody = message.slice(message.indexOf('\n') + 1).split('\n').filter((l) => !/^(Return-Path|Delivered-To):/.test(l)).join('\n');
  console.log(`  a ${bytes}-byte message; node ${process.version}, ${cpus().length} CPUs, 1-min load ${loadavg()[0].toFixed(2)}${PROCMAIL ? '' : '; procmail not installed: its rows are left out'}`);
  let rows;
  try {
    rows = [...(await directRows(root, message)), ...(await postfixRows(root, smtpBody))];
  } catch (err) {
    console.log(`  FAILED: ${err.message}`);
    return { ok: false };
  }
  const rate = (r) => (Number.isFinite(r.ms) ? r.n / (r.ms / 1000) : NaN);
  const find = (way, tool, parallel) => rows.find((r) => r.way === way && r.tool === tool && r.parallel === parallel);
  const t = [['way', 'delivered by', 'at once', 'messages', 'in mbox', 'seconds', 'deliveries/s', 'mda / this', 'problems']];
  for (const r of rows) {
    const mda = find(r.way, 'mda', r.parallel);
    t.push([r.way, r.tool, r.parallel, r.n, r.stored, Number.isFinite(r.ms) ? (r.ms / 1000).toFixed(2) : 'timeout', Number.isFinite(rate(r)) ? rate(r).toFixed(1) : '-',
      r.tool === 'mda' ? '' : ratio(rate(mda ?? {}), rate(r)), r.failures.length ? `${r.failures.length}: ${r.failures[0]}` : '']);
  }
  console.log(`\n${table(t)}\n`);
  console.log('  direct: one process per message as uid nobody, N at a time, first spawn to last exit. postfix: the queue is');
  console.log('  filled while local delivery is deferred, then flushed; seconds = flush to the last message in the mbox, with');
  console.log('  local_destination_concurrency_limit = "at once". "mda / this" > 1 means mda delivered more per second.');
  return { ok: rows.every((r) => r.stored === r.n && r.failures.length === 0) };
}
