// bench/flood-lmtp.mjs: the `flood-lmtp` section (issue 11, "the flood of the
// backscatter incident"). A stand-in scanner that takes 1 s per message
// (bench/lib/slow-spamd.mjs: a spamd that sleeps, then answers ham) and
// BENCH_FLOOD_SENDERS (default 50) concurrent senders into one Maildir:
//   mda lmtp            one server, 50 LMTP connections, transactions back to back
//   mda deliver         one process per message, 50 at a time (Postfix mailbox_command)
//   procmail + spamc    the incident's recipe, `:0fw: spamassassin.lock | spamc`, 50 at a time
// on BENCH_FLOOD_N (default 2000) messages for mda and BENCH_FLOOD_LOCKED_N
// (default 100) for the locked recipe. Counts msgs/s, p50/p99 latency,
// deferrals (non-250 final replies, exit 75) with their DSNs, and checks
// every accepted message is stored exactly once, scanned, with tmp/ empty;
// prints the ratios and the goal (mda lmtp >= 20x the locked recipe's msgs/s,
// no deferral caused by mda). Owns its LMTP client (a few lines, below) and
// its process pool; starts nothing it does not stop. BENCH_FLOOD_SCAN_MS
// changes the scan time, BENCH_KEEP=1 keeps the Maildirs.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCorpus } from './lib/flood-corpus.mjs';
import { makeMaildir, makeTempRoot, postfixEnv, which } from './lib/fixtures.mjs';
import { table } from './lib/measure.mjs';
import { startSlowSpamd } from './lib/slow-spamd.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const NODE = process.execPath;
const MDA = join(ROOT, 'bin/mda');
const N = Number(process.env.BENCH_FLOOD_N || 2000);
const LOCKED_N = Number(process.env.BENCH_FLOOD_LOCKED_N || 100);
const SENDERS = Number(process.env.BENCH_FLOOD_SENDERS || 50);
const SCAN_MS = Number(process.env.BENCH_FLOOD_SCAN_MS || 1000);
const TIME_LIMIT_S = 1000; // Postfix's command_time_limit: a delivery still running then is killed (and bounced)
const RCPT = 'bob@example.test'; // the corpus's recipient
const GOAL = 20;
const LOCKSLEEP_MS = 8000; // procmail's default LOCKSLEEP (config.h DEFlocksleep)
const isRoot = process.getuid?.() === 0;
const MAIL_UID = 65534; // nobody: the server's uid in virtual users mode when we are root

export const description = `backscatter flood through a 1 s scanner, ${SENDERS} senders: mda lmtp (${N}) vs mda deliver (${N}) vs procmail + spamc under a lockfile (${LOCKED_N})`;

const tty = process.stderr.isTTY;
const progress = (s) => tty && process.stderr.write(`\r\x1b[K  ${s}`);
const clearProgress = () => tty && process.stderr.write('\r\x1b[K');
const pct = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(p * xs.length) - 1))] : NaN);
const secs = (ms) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '-');
const dsnOf = (text) => /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(text)?.[1] ?? '?';
const list = (d) => {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
};

/** CPU seconds of one process (utime + stime, and its reaped children's) from /proc, or NaN. */
function cpuOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return NaN;
  }
}

/** meter: the stand-in's scans and peak concurrency from now until the returned function is called. */
function meter(spamd) {
  const s0 = spamd.stats().scans;
  spamd.resetPeak();
  return () => ({ scans: spamd.stats().scans - s0, peak: spamd.stats().peak });
}

// ------------------------------------------------------------- messages

/**
 * The corpus message as Postfix's lmtp(8) client sends it: without the lines
 * local(8) prepends for a mailbox_command (From_, Return-Path, X-Original-To,
 * Delivered-To; a Delivered-To naming the recipient would be a loop in LMTP).
 */
function asQueued(bytes) {
  const lines = bytes.toString('latin1').split('\n');
  let i = 0;
  let sender = '';
  for (; i < lines.length && /^(From |Return-Path:|X-Original-To:|Delivered-To:)/.test(lines[i]); i++) {
    const m = /^Return-Path:\s*<([^>]*)>/.exec(lines[i]);
    if (m) sender = m[1];
  }
  return { sender, text: lines.slice(i).join('\n') };
}

/** DATA's payload: CRLF line ends, dot-stuffed (RFC 5321 §4.5.2), and the final dot. */
function dataPayload(text) {
  const crlf = text.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
  return Buffer.from(`${crlf.endsWith('\r\n') ? crlf : `${crlf}\r\n`}.\r\n`, 'latin1');
}

// ------------------------------------------------------------- LMTP client

/** lmtpConnection: one connection; reply() resolves to the next whole reply (multi-line joined by \n). */
function lmtpConnection(path) {
  return new Promise((res, rej) => {
    const sock = connect({ path });
    let buf = '';
    let lines = [];
    const waiting = [];
    const ready = [];
    let failed = null;
    const pump = () => {
      while (waiting.length && (ready.length || failed)) {
        const w = waiting.shift();
        if (ready.length) w.res(ready.shift());
        else w.rej(failed);
      }
    };
    sock.setEncoding('latin1');
    sock.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        lines.push(line);
        if (!/^\d{3}-/.test(line)) {
          ready.push(lines.join('\n'));
          lines = [];
        }
      }
      pump();
    });
    const fail = (e) => {
      failed ??= e;
      pump();
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('connection closed by the server')));
    sock.once('connect', () =>
      res({
        send: (b) => sock.write(b),
        reply: () =>
          new Promise((r, j) => {
            waiting.push({ res: r, rej: j });
            pump();
          }),
        close: () => sock.destroy(),
      }),
    );
    sock.once('error', rej);
  });
}

/**
 * One transaction as Postfix's lmtp(8) client pipelines it: MAIL, RCPT and
 * DATA in one write, the body only after 354, then the one reply for the one
 * recipient. Resolves to { ms, reply } (reply: the deciding reply).
 */
async function lmtpTransaction(c, sender, payload) {
  const t0 = performance.now();
  c.send(`MAIL FROM:<${sender}> SIZE=${payload.length}\r\nRCPT TO:<${RCPT}>\r\nDATA\r\n`);
  const [mail, rcpt, data] = [await c.reply(), await c.reply(), await c.reply()];
  if (!data.startsWith('354')) {
    c.send('RSET\r\n');
    await c.reply();
    return { ms: performance.now() - t0, reply: [mail, rcpt, data].find((r) => !/^(250|354)/.test(r)) ?? data };
  }
  c.send(payload);
  const final = await c.reply();
  return { ms: performance.now() - t0, reply: final };
}

// ------------------------------------------------------------- contenders

/** The config both mda contenders share: no logging, the stand-in as the one scanner; stateDir must be writable by the delivering uid. */
function writeConfig(dir, spamd, stateDir, extra) {
  const config = join(dir, 'mda.toml');
  writeFileSync(config, [
    '[log]', 'target = "none"',
    '[scanning]', `state_dir = "${stateDir}"`,
    '[[scanner]]', 'type = "spamd"', `hosts = ["${spamd.host}:${spamd.port}"]`,
    ...extra, '',
  ].join('\n'), { mode: 0o644 });
  return config;
}

/** mda lmtp in virtual users mode ([lmtp] user = "nobody" as root, else ourselves) with bob's Maildir. */
async function runLmtp(root, spamd, corpus) {
  const dir = join(root, 'mda-lmtp');
  const maildir = makeMaildir(join(dir, 'mail', 'bob'));
  const sock = join(dir, 'lmtp.sock');
  const config = writeConfig(dir, spamd, join(dir, 'mail', '.state'), [
    '[lmtp]', ...(isRoot ? ['user = "nobody"'] : []), `max_connections = ${SENDERS + 10}`, `spool_dir = "${join(dir, 'mail', '.spool')}"`,
    '[users.bob]', `maildir = "${maildir}"`,
  ]);
  if (isRoot) for (const p of [join(dir, 'mail'), maildir, ...['new', 'cur', 'tmp'].map((s) => join(maildir, s))]) chownSync(p, MAIL_UID, MAIL_UID);
  const child = spawn(NODE, [MDA, 'lmtp', '--listen', `unix:${sock}`, '--config', config], { env: postfixEnv(dir), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((r) => child.once('exit', (code, sig) => r(code ?? sig)));
  try {
    for (let i = 0; !existsSync(sock) || !lstatSync(sock).isSocket(); i++) {
      if (i > 400 || child.exitCode !== null) return { fatal: `mda lmtp did not start: ${output.trim() || `exit ${child.exitCode}`}` };
      await new Promise((r) => setTimeout(r, 50));
    }
    const items = corpus.map((m) => {
      const q = asQueued(m.bytes);
      return { id: m.id, sender: q.sender, payload: dataPayload(q.text) };
    });
    const cpu0 = cpuOf(child.pid);
    const metered = meter(spamd);
    const lat = [];
    const deferrals = [];
    const accepted = new Set();
    let next = 0;
    let done = 0;
    const t0 = performance.now();
    const sender = async () => {
      const c = await lmtpConnection(sock);
      try {
        if (!(await c.reply()).startsWith('220')) throw new Error('no 220 greeting');
        c.send('LHLO bench.test\r\n');
        await c.reply();
        while (next < items.length) {
          const it = items[next++];
          const r = await lmtpTransaction(c, it.sender, it.payload);
          lat.push(r.ms);
          if (r.reply.startsWith('250')) accepted.add(it.id);
          else deferrals.push({ id: it.id, reply: r.reply.split('\n')[0] });
          done++;
          progress(`mda lmtp: ${done}/${items.length} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
        }
        c.send('QUIT\r\n');
        await c.reply().catch(() => {});
      } finally {
        c.close();
      }
    };
    const results = await Promise.allSettled(Array.from({ length: Math.min(SENDERS, items.length) }, sender));
    const wallMs = performance.now() - t0;
    clearProgress();
    const broken = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
    const cpu = cpuOf(child.pid) - cpu0;
    return { name: 'mda lmtp', ...metered(), n: items.length, wallMs, lat: lat.sort((a, b) => a - b), deferrals, broken, cpu, check: verify(maildir, corpus, accepted, /^X-MDA-Scan: spamd=clean\b/im) };
  } finally {
    child.kill('SIGTERM');
    const how = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 40_000))]);
    if (how === 'timeout') child.kill('SIGKILL');
  }
}

/** A process per message, `SENDERS` at a time, as Postfix's local(8) runs a mailbox_command. */
async function runPerProcess(name, cmdFor, items, label, spamd, rampMs = 0) {
  const lat = [];
  const deferrals = [];
  const accepted = new Set();
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const one = (it) =>
    new Promise((res) => {
      const { cmd, args, env } = cmdFor(it);
      const s = performance.now();
      const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      const keep = (d) => {
        if (out.length < 2000) out += d.toString('latin1');
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.stdin.on('error', () => {}); // EPIPE when a child exits before reading everything
      child.stdin.end(it.bytes);
      const timer = setTimeout(() => child.kill('SIGKILL'), TIME_LIMIT_S * 1000);
      child.on('error', (e) => (out += `spawn failed: ${e.message}`));
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        res({ ms: performance.now() - s, code: code ?? sig, out: out.trim().split('\n')[0] ?? '' });
      });
    });
  const worker = async (w, all) => {
    await new Promise((r) => setTimeout(r, (rampMs * w) / all));
    while (next < items.length) {
      const it = items[next++];
      const r = await one(it);
      lat.push(r.ms);
      if (r.code === 0) accepted.add(it.id);
      else deferrals.push({ id: it.id, reply: `exit ${r.code}${r.out ? `: ${r.out}` : ''}` });
      done++;
      progress(`${label}: ${done}/${items.length} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  };
  const cpu0 = cpuOf('self') - cpuOwn();
  const metered = meter(spamd);
  const senders = Math.min(SENDERS, items.length);
  await Promise.all(Array.from({ length: senders }, (_, w) => worker(w, senders)));
  const wallMs = performance.now() - t0;
  clearProgress();
  return { name, ...metered(), n: items.length, wallMs, lat: lat.sort((a, b) => a - b), deferrals, broken: [], cpu: cpuOf('self') - cpuOwn() - cpu0, accepted };
}

/** Our own CPU seconds (without reaped children), to take out of cpuOf('self'). */
function cpuOwn() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function runDeliver(root, spamd, corpus) {
  const dir = join(root, 'mda-deliver');
  const maildir = makeMaildir(join(dir, 'Maildir'));
  const config = writeConfig(dir, spamd, join(dir, 'state'), []);
  const cmdFor = (md) => () => ({ cmd: NODE, args: [MDA, 'deliver', '--config', config, '--maildir', md], env: postfixEnv(dir) });
  const cfgCheck = spawnSync(NODE, [MDA, 'config', 'check', '--config', config], { encoding: 'utf8' });
  if (cfgCheck.status !== 0) return { fatal: `mda config check: ${(cfgCheck.stdout + cfgCheck.stderr).trim()}` };
  const warm = await runPerProcess('warm-up', cmdFor(makeMaildir(join(dir, 'warmup'))), corpus.slice(0, 1), 'mda deliver warm-up', spamd);
  if (warm.deferrals.length) return { fatal: `warm-up delivery: ${warm.deferrals[0].reply}` };
  const r = await runPerProcess('mda deliver', cmdFor(maildir), corpus, 'mda deliver', spamd);
  return { ...r, check: verify(maildir, corpus, r.accepted, /^X-MDA-Scan: spamd=clean\b/im) };
}

/** The incident's recipe: procmail, the filter recipe under a local lockfile, spamc to the stand-in. */
async function runLocked(root, spamd, corpus) {
  const bin = which('procmail');
  const spamc = which('spamc');
  if (!bin || !spamc) return { skip: `${!bin ? 'procmail' : 'spamc'} not installed (scripts/install-test-deps.sh installs both)` };
  const dir = join(root, 'procmail-lock');
  const rcFor = (md, name) => {
    const rc = join(dir, name);
    // The lockfile is relative to MAILDIR (procmail chdirs there): DIR/spamassassin.lock
    writeFileSync(rc, [`MAILDIR=${md}/`, `DEFAULT=${md}/`, ':0fw: spamassassin.lock', `| spamc -d ${spamd.host} -p ${spamd.port}`, ''].join('\n'), { mode: 0o600 });
    return rc;
  };
  mkdirSync(dir, { recursive: true });
  const maildir = makeMaildir(join(dir, 'Maildir'));
  const rc = rcFor(maildir, 'procmailrc');
  const warmRc = rcFor(makeMaildir(join(dir, 'warmup')), 'procmailrc.warmup');
  const warm = await runPerProcess('warm-up', () => ({ cmd: bin, args: ['-p', '-m', warmRc], env: postfixEnv(dir) }), corpus.slice(0, 1), 'procmail warm-up', spamd);
  if (warm.deferrals.length) return { fatal: `warm-up delivery: ${warm.deferrals[0].reply}` };
  // procmail retries a taken lock every LOCKSLEEP (8 s). Senders that all start at once retry in
  // step, and then one message gets through every 8 s. Mail that arrives over time spreads those
  // retries out, and that gives the incident's "about 1 msg/s". So the senders start spread over one
  // LOCKSLEEP (a sender's start is the start of its first delivery; the time before it counts).
  const r = await runPerProcess('procmail + spamc (lock)', () => ({ cmd: bin, args: ['-p', '-m', rc], env: postfixEnv(dir) }), corpus, 'procmail + spamc (lock)', spamd, LOCKSLEEP_MS);
  // spamc hands the message back unchanged when it cannot reach spamd: only spamd's header proves a scan
  return { ...r, check: verify(maildir, corpus, r.accepted, /^X-Spam-Status: No,/im) };
}

// ------------------------------------------------------------- checking

/** The header block of a file (first 16 KB up to the empty line), unfolded. */
function headOf(path) {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16384);
    const s = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('latin1');
    const end = s.search(/\r?\n\r?\n/);
    return (end < 0 ? s : s.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  } finally {
    closeSync(fd);
  }
}

/** verify: each accepted message exactly once in new/, no deferred one stored, each scanned, tmp/ empty. */
function verify(maildir, corpus, accepted, scannedRe) {
  const want = new Set(corpus.map((m) => m.id));
  const seen = new Map();
  const r = { stored: 0, missing: 0, duplicates: 0, unknown: 0, storedDeferred: 0, unscanned: 0, leftInTmp: list(join(maildir, 'tmp')).length, inCur: list(join(maildir, 'cur')).length };
  for (const f of list(join(maildir, 'new'))) {
    r.stored++;
    const head = headOf(join(maildir, 'new', f));
    const id = /^Message-ID:\s*<([^>]+)>/im.exec(head)?.[1];
    if (!id || !want.has(id)) {
      r.unknown++;
      continue;
    }
    seen.set(id, (seen.get(id) ?? 0) + 1);
    if (!scannedRe.test(head)) r.unscanned++;
  }
  for (const id of want) {
    const n = seen.get(id) ?? 0;
    if (accepted.has(id) && n === 0) r.missing++;
    if (!accepted.has(id) && n > 0) r.storedDeferred++;
    if (n > 1) r.duplicates += n - 1;
  }
  r.ok = r.missing === 0 && r.duplicates === 0 && r.unknown === 0 && r.storedDeferred === 0 && r.unscanned === 0 && r.leftInTmp === 0 && r.inCur === 0;
  return r;
}

// ------------------------------------------------------------- run

export async function run() {
  if (![N, LOCKED_N, SENDERS].every((x) => Number.isInteger(x) && x >= 1) || !(SCAN_MS >= 0)) {
    console.error('flood-lmtp: BENCH_FLOOD_N, BENCH_FLOOD_LOCKED_N and BENCH_FLOOD_SENDERS must be integers >= 1, BENCH_FLOOD_SCAN_MS >= 0');
    return { ok: false };
  }
  const root = makeTempRoot('flood-lmtp');
  const spamd = await startSlowSpamd({ delayMs: SCAN_MS });
  try {
    return await runAll(root, spamd);
  } finally {
    await spamd.close();
  }
}

async function runAll(root, spamd) {
  const corpus = makeCorpus({ count: N, seed: 11 });
  const lockedCorpus = makeCorpus({ count: LOCKED_N, seed: 12 });
  console.log(
    `  stand-in spamd on ${spamd.host}:${spamd.port}: every request answered ham after ${SCAN_MS} ms, any number at once; ` +
      `${SENDERS} concurrent senders; 3-5 KB backscatter/ham messages to ${RCPT}; node ${process.version}, ${cpus().length} CPUs, 1-min load ${loadavg()[0].toFixed(2)}`,
  );
  console.log(`  mda lmtp: ${SENDERS} LMTP connections to one \`mda lmtp\` (unix socket${isRoot ? ', [lmtp] user = "nobody"' : ''}), MAIL+RCPT+DATA pipelined, one recipient each`);
  console.log(`  mda deliver: one \`mda deliver --maildir\` per message, ${SENDERS} at a time; procmail: \`:0fw: spamassassin.lock\` + \`| spamc\`, ${SENDERS} at a time`);

  const lmtp = await runLmtp(root, spamd, corpus);
  const deliver = await runDeliver(root, spamd, corpus);
  const locked = await runLocked(root, spamd, lockedCorpus);
  const rows = [lmtp, deliver, locked];

  for (const [name, r] of [['mda lmtp', lmtp], ['mda deliver', deliver], ['procmail + spamc (lock)', locked]]) {
    if (r.skip) console.log(`  skipped ${name}: ${r.skip}`);
    if (r.fatal) console.log(`  ${name}: FAILED: ${r.fatal}`);
  }
  const done = rows.filter((r) => !r.skip && !r.fatal);
  const rate = (r) => (r.n - r.deferrals.length) / (r.wallMs / 1000);
  const t = [['contender', 'messages', 'wall s', 'msgs/s', 'p50 s', 'p99 s', 'max s', 'deferred', 'scans', 'peak scans', 'CPU s', 'stored', 'check']];
  for (const r of done) {
    t.push([r.name, r.n, secs(r.wallMs), rate(r).toFixed(2), secs(pct(r.lat, 0.5)), secs(pct(r.lat, 0.99)), secs(r.lat.at(-1)), r.deferrals.length, r.scans, r.peak, r.cpu.toFixed(1), r.check.stored, r.check.ok ? 'ok' : 'FAILED']);
  }
  console.log(`\n${table(t)}\n`);
  console.log('  msgs/s = messages stored / wall time; latency: LMTP from MAIL to the reply after the dot, a process from spawn to exit;');
  console.log('  deferred = a final reply other than 250, or an exit status other than 0; peak scans = most requests the stand-in held at once;');
  console.log('  CPU s = the mda lmtp server process, or the delivery processes (procmail\'s include spamc); check = every accepted Message-ID');
  console.log('  exactly once in new/, no deferred one stored, every stored one scanned (X-MDA-Scan: spamd=clean / X-Spam-Status), tmp/ and cur/ empty.');
  for (const r of done) {
    const k = r.check;
    const dsns = new Map();
    for (const d of r.deferrals) dsns.set(dsnOf(d.reply), (dsns.get(dsnOf(d.reply)) ?? 0) + 1);
    const detail = [
      k.missing && `${k.missing} accepted but MISSING`,
      k.duplicates && `${k.duplicates} DUPLICATES`,
      k.storedDeferred && `${k.storedDeferred} deferred but STORED`,
      k.unknown && `${k.unknown} files with unknown Message-ID`,
      k.unscanned && `${k.unscanned} stored UNSCANNED`,
      k.leftInTmp && `${k.leftInTmp} files left in tmp/`,
      k.inCur && `${k.inCur} files in cur/`,
      r.deferrals.length && `deferrals by DSN: ${[...dsns].map(([d, n]) => `${d} x${n}`).join(', ')}; e.g. "${r.deferrals[0].reply}"`,
      r.broken.length && `${r.broken.length} sender connections broke, e.g. ${r.broken[0]}`,
    ].filter(Boolean);
    if (detail.length) console.log(`  ${r.name}: ${detail.join('; ')}`);
  }

  const ok = (r) => r && !r.skip && !r.fatal;
  console.log('');
  if (ok(lmtp) && ok(locked)) console.log(`  mda lmtp / locked recipe: ${(rate(lmtp) / rate(locked)).toFixed(1)}x msgs/s (${rate(lmtp).toFixed(2)} vs ${rate(locked).toFixed(2)})`);
  if (ok(lmtp) && ok(deliver)) console.log(`  mda lmtp / mda deliver:   ${(rate(lmtp) / rate(deliver)).toFixed(1)}x msgs/s (${rate(lmtp).toFixed(2)} vs ${rate(deliver).toFixed(2)})`);
  if (ok(deliver) && ok(locked)) console.log(`  mda deliver / locked recipe: ${(rate(deliver) / rate(locked)).toFixed(1)}x msgs/s`);
  if (ok(lmtp)) {
    const ratioMet = ok(locked) ? rate(lmtp) / rate(locked) >= GOAL : null;
    const noDefer = lmtp.deferrals.length === 0 && lmtp.broken.length === 0;
    console.log(
      `  goal: mda lmtp >= ${GOAL}x the locked recipe's msgs/s: ${ratioMet === null ? 'not measured (recipe skipped)' : ratioMet ? 'met' : 'MISSED'}; ` +
        `no deferral caused by mda: ${noDefer ? 'met' : `MISSED (${lmtp.deferrals.length} deferred, ${lmtp.broken.length} connections broken)`}` +
        `${lmtp.check.ok ? '' : '; storage check FAILED'}`,
    );
    const ceiling = (SENDERS * 1000) / Math.max(SCAN_MS, 1);
    console.log(`  ceiling with ${SENDERS} senders and a ${SCAN_MS} ms scan: ${ceiling.toFixed(0)} msgs/s; mda lmtp reached ${((100 * rate(lmtp)) / ceiling).toFixed(0)} % of it.`);
  }
  if (loadavg()[0] > cpus().length) console.log(`\n  WARNING: 1-min load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores: other work was running; rerun on a quiet machine.`);
  const mdaOk = [lmtp, deliver].every((r) => ok(r) && r.check.ok && r.broken.length === 0);
  if (!mdaOk) console.error('FAILED: an mda contender did not store every accepted message exactly once, scanned');
  return { ok: mdaOk };
}
