// bench/lmtp.mjs: the `lmtp` section. `mda lmtp` against Dovecot LMTP (a private instance of
// the Debian package, mail_fsync = optimized), both on a unix socket, both delivering as one
// unprivileged uid into their own Maildir trees, driven by the same client
// (lib/lmtp-client.mjs) in one run: 2 KB messages, N transactions per contender and
// scenario (one connection; four; ten recipients per transaction on four), in alternating
// blocks (mda, Dovecot, Dovecot, mda, ...) so machine load hits both alike, each block
// checked by counting the files in new/. Then one large message (200 MB) through each for
// mda's peak RSS. Owns the scenarios, the goals and the report.
// Knobs: BENCH_LMTP_N (transactions per contender and scenario, default 2000),
// BENCH_LMTP_BLOCKS (default 4), BENCH_LMTP_BIG_MB (default 200; 0 skips), DOVECOT (the
// dovecot binary, default /usr/sbin/dovecot), BENCH_LMTP_USER (default nobody),
// BENCH_LMTP_NODE_ARGS (node flags for mda, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
import { loadavg, cpus } from 'node:os';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, table } from './lib/measure.mjs';
import { countNew, lookupUser, makeTempRoot, which, writeMessage } from './lib/fixtures.mjs';
import { openLmtp } from './lib/lmtp-client.mjs';
import { startDovecot, startMda } from './lib/lmtp-servers.mjs';
import { procName, treeCpu, treePids, vmHwmKb } from './lib/proc.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const N = Number(process.env.BENCH_LMTP_N || 2000);
const BLOCKS = Number(process.env.BENCH_LMTP_BLOCKS || 4);
const BIG_MB = Number(process.env.BENCH_LMTP_BIG_MB ?? 200);
const AS_USER = process.env.BENCH_LMTP_USER || 'nobody';
const DOVECOT = process.env.DOVECOT || '/usr/sbin/dovecot';
const NODE_ARGS = (process.env.BENCH_LMTP_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const FROM = 'alice@example.org';
const TEN = Array.from({ length: 10 }, (_, i) => `r${i}`);

/** The goals of issue 11's "Performance" section. */
const GOALS = { oneConn: 1.5, p99Ms: 10, fourConn: 1.2, tenRcpt: 1.2, rssMb: 100 };

const SCENARIOS = [
  { key: 'one', label: 'one connection', conns: 1, locals: ['one'] },
  { key: 'four', label: 'four connections', conns: 4, locals: ['four'] },
  { key: 'ten', label: 'ten recipients per transaction, four connections', conns: 4, locals: TEN },
];

export const description = `LMTP server: mda lmtp vs Dovecot LMTP, same client, ${N} transactions of ~2 KB per contender and case${BIG_MB > 0 ? `, one ${BIG_MB} MB message` : ''}`;

const tty = process.stderr.isTTY;
const progress = (s) => tty && process.stderr.write(`\r\x1b[K  ${s}`);
const clearProgress = () => tty && process.stderr.write('\r\x1b[K');
const pct = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(p * xs.length) - 1))] : NaN);

/**
 * The ~2 KB message of the other sections as an LMTP client sends it: no From_ line, no
 * Return-Path or Delivered-To (the LMTP server adds those), CRLF line ends; a Message-ID per
 * transaction of one fixed length, so every copy has the same size.
 */
function messageMaker(root) {
  const { path } = writeMessage(root);
  const text = readFileSync(path, 'utf8').split('\n').filter((l) => !/^(From |Return-Path:|Delivered-To:)/.test(l)).join('\r\n');
  const at = text.indexOf('Message-ID: <') + 'Message-ID: <'.length;
  const [head, tail] = [Buffer.from(text.slice(0, at)), Buffer.from(`${text.slice(text.indexOf('>', at))}`)];
  return (id) => Buffer.concat([head, Buffer.from(`bench.${String(id).padStart(9, '0')}@example.org`), tail]);
}

/** A message of about `mb` MiB as 1 MiB chunks of 78-byte lines (none starts with a dot). */
async function* bigMessage(mb) {
  yield Buffer.from('From: Alice <alice@example.org>\r\nTo: big@example.net\r\nSubject: large\r\nMessage-ID: <big@example.org>\r\n\r\n');
  const line = `${'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.repeat(2).slice(0, 76)}\r\n`;
  const chunk = Buffer.from(line.repeat(Math.floor((1 << 20) / line.length)));
  for (let sent = 0; sent < mb * (1 << 20); sent += chunk.length) yield chunk;
}

/** runBlock: `count` transactions over the contender's open connections; wall time, latencies, CPU of the server tree. */
async function runBlock(c, conns, count, rcpts, msg, label) {
  let next = 0;
  const lat = [];
  const failures = [];
  const cpu0 = treeCpu(c.server.pid);
  const t0 = performance.now();
  const worker = async (conn) => {
    while (next < count) {
      const id = c.seq++;
      next++;
      const s = performance.now();
      let r;
      try {
        r = await conn.transact(FROM, rcpts, msg(id));
      } catch (e) {
        failures.push(e.message);
        return; // this connection is gone; the others go on
      }
      lat.push(performance.now() - s);
      if (!r.ok) failures.push(r.replies.filter((x) => !/^(2|354)/.test(x)).join(' / ') || r.replies.join(' / '));
      if (label && lat.length % 100 === 0) progress(`${label}: ${lat.length}/${count}`);
    }
  };
  await Promise.all(conns.map(worker));
  const wallMs = performance.now() - t0;
  const cpuS = treeCpu(c.server.pid) - cpu0;
  if (label) clearProgress();
  return { wallMs, lat, failures, cpuS, done: count - failures.length };
}

/** check: every mailbox of the scenario holds exactly `want` files in new/, and tmp/ is empty. */
function check(c, locals, want) {
  const bad = [];
  for (const u of locals) {
    const md = c.server.maildir(u);
    const got = countNew(md);
    let tmp = 0;
    try {
      tmp = readdirSync(join(md, 'tmp')).length;
    } catch {}
    if (got !== want) bad.push(`${u}: ${got} files in new/, want ${want}`);
    if (tmp) bad.push(`${u}: ${tmp} files left in tmp/`);
  }
  return bad;
}

async function scenario(s, contenders, msg) {
  const rcpts = s.locals.map((u) => `${u}@example.net`);
  const per = Math.floor(N / BLOCKS);
  const sizes = Array.from({ length: BLOCKS }, (_, b) => (b < BLOCKS - 1 ? per : N - per * (BLOCKS - 1)));
  const warm = Math.max(4 * s.conns, Math.min(100, Math.floor(N / 10)));
  const res = new Map();
  for (const c of contenders) {
    const conns = [];
    for (let i = 0; i < s.conns; i++) conns.push(await openLmtp(c.server.sock));
    c.conns = conns;
    c.stored = 0;
    // untimed: JIT, the server's worker processes, the Maildirs and their indexes created
    const w = await runBlock(c, conns, warm, rcpts, msg);
    c.stored += warm;
    if (w.failures.length) throw new Error(`${c.name}: warm-up failed: ${w.failures[0]}`);
    res.set(c, { wallMs: 0, lat: [], failures: [], cpuS: 0, done: 0, bad: check(c, s.locals, c.stored) });
  }
  for (let b = 0; b < BLOCKS; b++) {
    const order = b % 2 ? [...contenders].reverse() : contenders;
    for (const c of order) {
      const r = await runBlock(c, c.conns, sizes[b], rcpts, msg, `${s.label}: ${c.name}, block ${b + 1}/${BLOCKS}`);
      c.stored += sizes[b];
      const acc = res.get(c);
      acc.wallMs += r.wallMs;
      acc.lat.push(...r.lat);
      acc.failures.push(...r.failures);
      acc.cpuS += r.cpuS;
      acc.done += r.done;
      acc.bad.push(...check(c, s.locals, c.stored).map((x) => `block ${b + 1}: ${x}`));
    }
  }
  for (const c of contenders) await Promise.all(c.conns.map((x) => x.quit()));
  for (const r of res.values()) r.lat.sort((a, b) => a - b);
  return { s, rcpts, res };
}

/** One large message through one new connection; for mda the peak RSS (VmHWM) before and after. */
async function big(c) {
  const hwm = () => Math.max(...treePids(c.server.pid).filter((p) => p === String(c.server.pid) || /lmtp|node/.test(procName(p))).map(vmHwmKb).filter(Number.isFinite));
  const before = hwm();
  const conn = await openLmtp(c.server.sock, { timeoutMs: 120_000 });
  const t0 = performance.now();
  let r;
  try {
    r = await conn.transact(FROM, ['big@example.net'], bigMessage(BIG_MB));
  } catch (e) {
    r = { ok: false, replies: [e.message] };
  }
  const ms = performance.now() - t0;
  const after = hwm();
  const serverHwm = vmHwmKb(c.server.pid);
  await conn.quit();
  const bad = r.ok ? check(c, ['big'], 1) : [`refused: ${r.replies.filter((x) => !/^(2|354)/.test(x)).join(' / ')}`];
  let size = NaN;
  try {
    const md = join(c.server.maildir('big'), 'new');
    size = statSync(join(md, readdirSync(md)[0])).size;
  } catch {}
  return { before, after, serverHwm, ms, bad, size };
}

const mb = (kb) => (Number.isFinite(kb) ? (kb / 1024).toFixed(1) : '-');
const ratioOf = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const x = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '-');
const goal = (label, ok, detail) => console.log(`  goal ${ok === null ? 'n/a   ' : ok ? 'met   ' : 'MISSED'}  ${label}: ${detail}`);

export async function run() {
  if (!Number.isInteger(N) || N < 10 || !Number.isInteger(BLOCKS) || BLOCKS < 1 || BLOCKS > N || !(BIG_MB >= 0)) {
    console.error('lmtp: BENCH_LMTP_N must be an integer >= 10, BENCH_LMTP_BLOCKS between 1 and N, BENCH_LMTP_BIG_MB >= 0');
    return { ok: false };
  }
  if (process.getuid?.() !== 0) {
    console.log('  skipped: needs root (both servers are started as root and deliver as one unprivileged uid)');
    return { ok: true };
  }
  const as = lookupUser(AS_USER);
  if (!as) {
    console.log(`  skipped: no user ${AS_USER} (set BENCH_LMTP_USER)`);
    return { ok: true };
  }
  const dovecotOk = which(DOVECOT) && which('/usr/lib/dovecot/lmtp');
  const root = makeTempRoot('lmtp');
  const servers = [];
  const onSignal = (sig) => {
    clearProgress();
    console.error(`\nlmtp: ${sig}: stopping the servers`);
    for (const s of servers) s.killGroup('SIGKILL');
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const sigs = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of sigs) process.on(s, onSignal);
  try {
    const mdaDir = join(root, 'mda');
    const dvDir = join(root, 'dovecot');
    mkdirSync(mdaDir);
    mkdirSync(dvDir);
    const locals = [...new Set([...SCENARIOS.flatMap((s) => s.locals), 'big'])];
    const maxMessageSize = (BIG_MB + 10) * (1 << 20);
    const mda = { name: 'mda lmtp', seq: 0, server: await startMda({ dir: mdaDir, bin: join(ROOT, 'bin/mda'), node: process.execPath, nodeArgs: NODE_ARGS, as: { name: AS_USER, ...as }, locals, maxMessageSize }) };
    servers.push(mda.server);
    const contenders = [mda];
    if (dovecotOk) {
      const dv = { name: 'dovecot lmtp', seq: 0, server: await startDovecot({ dir: dvDir, bin: DOVECOT, as: { name: AS_USER, ...as } }) };
      servers.push(dv.server);
      contenders.push(dv);
    } else {
      console.log(`  Dovecot LMTP not installed (${DOVECOT}, /usr/lib/dovecot/lmtp; apt-get install dovecot-lmtpd): mda alone, no ratios`);
    }
    return await measure(root, contenders);
  } catch (e) {
    clearProgress();
    console.error(`FAILED: ${e.message}`);
    return { ok: false };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    for (const s of sigs) process.off(s, onSignal);
  }
}

async function measure(root, contenders) {
  const [mda, dv] = contenders;
  const msg = messageMaker(root);
  const bytes = msg(0).length;
  const load = loadavg()[0];
  console.log(`  ${N} transactions per contender and case in ${BLOCKS} alternating blocks (+ untimed warm-up); message ${bytes} bytes (CRLF, as sent); as ${AS_USER}; node ${process.version}; 1-min load ${load.toFixed(2)} on ${cpus().length} cores`);
  for (const c of contenders) console.log(`  ${c.name}: ${c.server.recipe}`);


  let ok = true;
  const bigRes = new Map();
  if (BIG_MB > 0) {
    for (const c of contenders) {
      progress(`${BIG_MB} MB message: ${c.name}`);
      bigRes.set(c, await big(c));
      clearProgress();
    }
    const brows = [['one large message', 'seconds', 'stored bytes', 'peak RSS at start MB', 'peak RSS after MB', 'check']];
    for (const c of contenders) {
      const b = bigRes.get(c);
      brows.push([c.name, (b.ms / 1000).toFixed(1), Number.isFinite(b.size) ? String(b.size) : '-', mb(b.before), mb(b.after), b.bad.length ? 'FAILED' : 'ok']);
      if (b.bad.length) console.log(`  ${BIG_MB} MB, ${c.name}: CHECK FAILED: ${b.bad.join('; ')}`);
      if (c === mda && b.bad.length) ok = false;
    }
    console.log(`${table(brows)}`);
    console.log('  first, on the servers just started; peak RSS = VmHWM of the largest server process (mda: its node process; Dovecot: the lmtp one), before and after the message.');
  }

  const results = [];
  for (const s of SCENARIOS) results.push(await scenario(s, contenders, msg));

  const rows = [['case', 'contender', 'msgs/s', 'deliveries/s', 'p50 ms', 'p99 ms', 'max ms', 'CPU ms/delivery', 'failed', 'check']];
  for (const { s, rcpts, res } of results) {
    for (const c of contenders) {
      const r = res.get(c);
      const rate = r.done / (r.wallMs / 1000);
      rows.push([s.label, c.name, rate.toFixed(0), (rate * rcpts.length).toFixed(0), fmt(pct(r.lat, 0.5)), fmt(pct(r.lat, 0.99)), fmt(r.lat.at(-1)),
        ((r.cpuS * 1000) / (r.done * rcpts.length)).toFixed(2), `${r.failures.length}/${N}`, r.bad.length ? 'FAILED' : 'ok']);
    }
  }
  console.log(`\n${table(rows)}\n`);
  console.log('  msgs/s = transactions / wall time of the timed blocks; latency = MAIL sent to the last per-recipient reply after the dot;');
  console.log('  CPU = user + system time of the server process and all its children (Dovecot: master, auth, log, lmtp, ...) over the timed blocks;');
  console.log('  check = after every block, each mailbox holds exactly the messages sent so far in new/ (and nothing in tmp/).');
  for (const { s, res } of results) {
    for (const c of contenders) {
      const r = res.get(c);
      if (r.failures.length) console.log(`  ${s.label}, ${c.name}: ${r.failures.length} failed, e.g. ${r.failures[0]}`);
      if (r.bad.length) console.log(`  ${s.label}, ${c.name}: CHECK FAILED: ${r.bad.slice(0, 3).join('; ')}`);
      if (c === mda && (r.failures.length || r.bad.length)) ok = false;
    }
  }

  const get = (key, c) => results.find((r) => r.s.key === key)?.res.get(c);
  const rate = (key, c) => {
    const r = get(key, c);
    return r ? r.done / (r.wallMs / 1000) : NaN;
  };
  const rOne = ratioOf(rate('one', mda), dv && rate('one', dv));
  const rFour = ratioOf(rate('four', mda), dv && rate('four', dv));
  const rTen = ratioOf(rate('ten', mda), dv && rate('ten', dv));
  const p99 = pct(get('one', mda).lat, 0.99);
  const cpuPer = (c) => {
    const all = results.map((r) => r.res.get(c));
    const deliveries = results.reduce((a, r) => a + r.res.get(c).done * r.rcpts.length, 0);
    return (all.reduce((a, r) => a + r.cpuS, 0) * 1000) / deliveries;
  };
  console.log('\nratios (mda / Dovecot, same run, same client):');
  goal(`one connection, msgs/s >= ${GOALS.oneConn}x Dovecot`, dv ? rOne >= GOALS.oneConn : null, `${x(rOne)} (${rate('one', mda).toFixed(0)} vs ${dv ? rate('one', dv).toFixed(0) : '-'} msgs/s)`);
  goal(`one connection, mda p99 <= ${GOALS.p99Ms} ms`, p99 <= GOALS.p99Ms, `${fmt(p99)} ms${dv ? ` (Dovecot ${fmt(pct(get('one', dv).lat, 0.99))} ms)` : ''}`);
  goal(`four connections, msgs/s >= ${GOALS.fourConn}x Dovecot`, dv ? rFour >= GOALS.fourConn : null, `${x(rFour)} (${rate('four', mda).toFixed(0)} vs ${dv ? rate('four', dv).toFixed(0) : '-'} msgs/s)`);
  goal(`ten recipients, four connections, deliveries/s >= ${GOALS.tenRcpt}x Dovecot`, dv ? rTen >= GOALS.tenRcpt : null,
    `${x(rTen)} (${(rate('ten', mda) * 10).toFixed(0)} vs ${dv ? (rate('ten', dv) * 10).toFixed(0) : '-'} deliveries/s)`);
  const bm = bigRes.get(mda);
  if (bm) goal(`peak RSS of mda lmtp with one ${BIG_MB} MB message < ${GOALS.rssMb} MB`, bm.after / 1024 < GOALS.rssMb, `${mb(bm.after)} MB (VmHWM of a fresh server; ${mb(bm.before)} MB before the message)`);
  const peak = (c) => Math.max(...treePids(c.server.pid).map(vmHwmKb).filter(Number.isFinite));
  console.log(`  info    peak RSS over the whole run: mda ${mb(vmHwmKb(mda.server.pid))} MB${dv ? `, Dovecot's largest process ${mb(peak(dv))} MB` : ''}`);
  console.log(`  info    CPU per delivery, all cases: mda ${cpuPer(mda).toFixed(2)} ms${dv ? `, Dovecot ${cpuPer(dv).toFixed(2)} ms (${x(ratioOf(cpuPer(mda), cpuPer(dv)))})` : ''}`);
  if (load > cpus().length) console.log(`\n  WARNING: 1-min load average ${load.toFixed(1)} on ${cpus().length} cores before the run: other work competed; the ratios hold better than the absolute figures.`);
  if (!ok) console.error('FAILED: mda lmtp did not store every message exactly once');
  return { ok };
}
