// bench/flood.mjs: the `flood` section. A backscatter flood: the same corpus
// (FLOOD_MESSAGES, default 500 messages of 3-5 KB: bounces of mail forged in
// the recipient's name, ham, a few GTUBE spam) delivered into one Maildir by
// FLOOD_PARALLEL (default 20) concurrent delivery processes, as Postfix's
// local(8) agents would run them, with a real spamd in the path:
//   mda                        [[scanner]] type = "spamd", [spam] folder = "Junk"
//   procmail + spamc (lock)    the classic `:0fw: spamassassin.lock | spamc` recipe
//   procmail + spamc (no lock) the same recipe without the lockfile (FLOOD_UNLOCKED=0 skips it)
// Owns the private spamd (scripts/realstack/up.sh, stopped with down.sh on
// every exit path), the recipes, the pool of concurrent children, and the
// check that every message landed exactly once and spam landed in Junk.
// FLOOD_QUICK=1 is a smoke run (60 messages x 8). Other knobs: FLOOD_SPAMD_CHILDREN
// (spamd --max-children, default 5), FLOOD_TIME_LIMIT (seconds after which a
// delivery is killed, like Postfix's command_time_limit; default 1000), FLOOD_SEED.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCorpus } from './lib/flood-corpus.mjs';
import { fmt, table } from './lib/measure.mjs';
import { freePort, makeMaildir, makeTempRoot, postfixEnv, which } from './lib/fixtures.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const NODE = process.execPath;
const QUICK = process.env.FLOOD_QUICK === '1';
const MESSAGES = Number(process.env.FLOOD_MESSAGES || (QUICK ? 60 : 500));
const PARALLEL = Number(process.env.FLOOD_PARALLEL || (QUICK ? 8 : 20));
const SPAMD_CHILDREN = Number(process.env.FLOOD_SPAMD_CHILDREN || 5);
const TIME_LIMIT_S = Number(process.env.FLOOD_TIME_LIMIT || 1000);
const SEED = Number(process.env.FLOOD_SEED || 1);
const UNLOCKED = process.env.FLOOD_UNLOCKED !== '0';
const KEEP = process.env.BENCH_KEEP === '1';
const SPAM_EVERY = 25;

export const description = `backscatter flood: ${MESSAGES} messages, ${PARALLEL} deliveries in parallel through a real spamd (max ${SPAMD_CHILDREN} children): mda vs procmail + spamc`;

const tty = process.stderr.isTTY;
const progress = (s) => tty && process.stderr.write(`\r\x1b[K  ${s}`);
const clearProgress = () => tty && process.stderr.write('\r\x1b[K');

const HZ = 100; // USER_HZ: the unit of /proc times on Linux
/** Fields after the command name of /proc/PID/stat (index 0 = state, 1 = ppid, 11 = utime, 12 = stime, 13 = cutime, 14 = cstime). */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Our waited-for children's CPU seconds so far (a procmail's include its spamc's). */
function childCpu() {
  const f = procStat('self');
  return f ? (Number(f[13]) + Number(f[14])) / HZ : NaN;
}

/** spamd's CPU seconds so far: the parent, its live children, and the children it has reaped. */
function spamdCpu(pid) {
  const f = pid && procStat(pid);
  if (!f) return NaN;
  let t = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    const g = procStat(p);
    if (g && g[1] === String(pid)) t += Number(g[11]) + Number(g[12]);
  }
  return t / HZ;
}

/** The machine's CPU jiffies: { busy, total } summed over all cores (first line of /proc/stat). */
function machineCpu() {
  try {
    const v = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - v[3] - (v[4] ?? 0), total }; // minus idle and iowait
  } catch {
    return { busy: NaN, total: NaN };
  }
}

// ------------------------------------------------------------------ spamd

/** The private spamd: started by up.sh, stopped by down.sh exactly once, on every exit path. */
function makeStack() {
  const dir = mkdtempSync('/tmp/mda-bench-flood-stack-');
  chmodSync(dir, 0o755); // spamd runs as nobody and must enter it
  let up = false;
  const env = (extra) => ({ ...process.env, REALSTACK_DIR: dir, ...extra });
  return {
    dir,
    start(port) {
      up = true; // down.sh is harmless if up.sh failed half-way
      const r = spawnSync(join(ROOT, 'scripts/realstack/up.sh'), [], {
        env: env({ REALSTACK_SERVICES: 'spamd', REALSTACK_SPAMD_PORT: String(port), REALSTACK_SPAMD_MAX_CHILDREN: String(SPAMD_CHILDREN) }),
        encoding: 'utf8',
        timeout: 120_000,
      });
      const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
      if (r.status !== 0) throw new Error(`scripts/realstack/up.sh failed (exit ${r.status ?? r.signal}):\n${out}`);
      const line = out.split('\n').find((l) => l.includes('started spamd') || l.includes('already running'));
      const e = JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8'));
      return { host: e.REALSTACK_SPAMD_HOST, port: Number(e.REALSTACK_SPAMD_PORT), line: line?.replace(/^realstack: /, '') ?? out };
    },
    stop() {
      if (!up) return;
      up = false;
      const r = spawnSync(join(ROOT, 'scripts/realstack/down.sh'), [], { env: env({ REALSTACK_PURGE: KEEP ? '0' : '1' }), encoding: 'utf8', timeout: 60_000 });
      const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').filter((l) => l.includes('stopped') || l.includes('ERROR'));
      console.log(`  spamd down: ${out.map((l) => l.replace(/^realstack: /, '')).join('; ') || `down.sh exit ${r.status}`}${KEEP ? ` (kept ${dir})` : ''}`);
    },
    /** spamd's scans so far: one "spamd: result:" line per scan in its log (PROCESS from spamc, HEADERS from mda). */
    pid() {
      try {
        return readFileSync(join(dir, 'spamd', 'spamd.pid'), 'utf8').trim();
      } catch {
        return null;
      }
    },
    scans() {
      try {
        return (readFileSync(join(dir, 'spamd', 'spamd.log'), 'utf8').match(/ spamd: result: /g) ?? []).length;
      } catch {
        return NaN;
      }
    },
  };
}

// ------------------------------------------------------------- contenders

/** A mailbox in its steady state: INBOX and the Junk folder exist (procmail waits ~1 min on a lock inside a missing folder). */
function mailbox(dir) {
  const maildir = makeMaildir(join(dir, 'Maildir'));
  makeMaildir(join(maildir, '.Junk'));
  writeFileSync(join(maildir, '.Junk', 'maildirfolder'), '');
  return maildir;
}

function mdaContender(root, spamd) {
  const dir = join(root, 'mda');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'mda.toml');
  writeFileSync(config, [
    '[log]', 'target = "none"',
    '[scanning]', `state_dir = "${join(dir, 'state')}"`,
    '[spam]', 'folder = "Junk"',
    '[[scanner]]', 'type = "spamd"', `hosts = ["${spamd.host}:${spamd.port}"]`,
    '',
  ].join('\n'), { mode: 0o644 });
  const at = (maildir) => ({ cmd: NODE, args: [join(ROOT, 'bin/mda'), 'deliver', '--config', config, '--maildir', maildir], env: postfixEnv(dir) });
  return {
    name: 'mda',
    required: true,
    recipe: `node bin/mda deliver --config ${config} --maildir DIR`,
    config,
    dir,
    maildir: mailbox(dir),
    at,
    scanned: (head) => /^X-MDA-Scan: spamd=(clean|spam)\b/im.test(head),
  };
}

/** procmail -m RCFILE: MAILDIR and DEFAULT end in `/` (Maildir), `.Junk/` is the Maildir++ folder under MAILDIR. */
function procmailContender(root, spamd, { locked }) {
  const bin = which('procmail');
  const spamc = which('spamc');
  if (!bin || !spamc) return { skip: `${!bin ? 'procmail' : 'spamc'} not installed` };
  const slug = locked ? 'procmail-lock' : 'procmail-nolock';
  const dir = join(root, slug);
  mkdirSync(dir, { recursive: true });
  const rcFor = (maildir, name) => {
    const rc = join(dir, name);
    writeFileSync(rc, [
      // The classic recipe. No global LOCKFILE; the local lockfile of the
      // filter recipe is relative to MAILDIR (procmail chdirs there): DIR/spamassassin.lock.
      `MAILDIR=${maildir}/`,
      `DEFAULT=${maildir}/`,
      locked ? ':0fw: spamassassin.lock' : ':0fw',
      `| spamc -d ${spamd.host} -p ${spamd.port}`,
      '',
      ':0:',
      '* ^X-Spam-Flag: YES',
      '.Junk/',
      '',
    ].join('\n'), { mode: 0o600 });
    return rc;
  };
  const maildir = mailbox(dir);
  const rc = rcFor(maildir, 'procmailrc');
  let n = 0;
  const at = (md) => ({ cmd: bin, args: ['-p', '-m', md === maildir ? rc : rcFor(md, `procmailrc.${++n}`)], env: postfixEnv(dir) });
  return {
    name: locked ? 'procmail + spamc (lock)' : 'procmail + spamc (no lock)',
    required: false,
    recipe: `procmail -p -m ${rc}`,
    rc,
    dir,
    maildir,
    at,
    // spamc passes the message through unchanged when it cannot reach spamd: only spamd's header proves a scan
    scanned: (head) => /^X-Spam-Status: (Yes|No),/im.test(head),
  };
}

// ------------------------------------------------------------------- pool

const inflight = new Set();
let stopping = false;

/** One delivery: spawn, feed the message through a pipe (as local(8) does), time spawn -> exit. */
function deliverOne(c, bytes) {
  return new Promise((res) => {
    const t0 = performance.now();
    let exitMs = NaN;
    let code = null;
    let signal = null;
    let out = '';
    let killed = false;
    let child;
    try {
      child = spawn(c.cmd, c.args, { env: c.env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      res({ ms: performance.now() - t0, error: `spawn failed: ${e.message}` });
      return;
    }
    inflight.add(child);
    const keep = (d) => {
      if (out.length < 2000) out += d.toString('latin1');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.stdin.on('error', () => {}); // EPIPE when a child exits before reading everything
    child.stdin.end(bytes);
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, TIME_LIMIT_S * 1000);
    child.on('error', (e) => {
      out += `spawn failed: ${e.message}`;
    });
    child.on('exit', (c0, s0) => {
      exitMs = performance.now() - t0;
      code = c0;
      signal = s0;
    });
    child.on('close', () => {
      clearTimeout(timer);
      inflight.delete(child);
      const ms = Number.isFinite(exitMs) ? exitMs : performance.now() - t0;
      const first = out.trim().split('\n')[0] ?? '';
      let error = null;
      if (killed) error = `killed after ${TIME_LIMIT_S} s (Postfix would bounce at command_time_limit)`;
      else if (code !== 0) error = `exit ${code ?? signal}${first ? `: ${first}` : ''}`;
      res({ ms, error, noise: code === 0 && first ? first : null });
    });
  });
}

/** runPool: every item once, `parallel` children at a time; returns wall time, latencies, failures. */
async function runPool(items, parallel, spawnFor, label) {
  const lat = [];
  const failures = [];
  const noise = [];
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < items.length && !stopping) {
      const i = next++;
      const r = await deliverOne(spawnFor(items[i]), items[i].bytes);
      lat.push(r.ms);
      if (r.error) failures.push({ i, error: r.error });
      if (r.noise) noise.push(r.noise);
      done++;
      if (label) progress(`${label}: ${done}/${items.length} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  if (label) clearProgress();
  return { wallMs: performance.now() - t0, lat, failures, noise };
}

// ------------------------------------------------------------- checking

/** The header block of a file (first 16 KB up to the empty line), unfolded. */
function headOf(path) {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16384);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const s = buf.subarray(0, n).toString('latin1');
    const end = s.search(/\r?\n\r?\n/);
    return (end < 0 ? s : s.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  } finally {
    closeSync(fd);
  }
}

const list = (d) => {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
};

/** verify: every corpus message exactly once in INBOX/new + .Junk/new, spam in Junk, each one scanned. */
function verify(c, corpus) {
  const want = new Map(corpus.map((m) => [m.id, m.kind]));
  const seen = new Map();
  const r = { inbox: 0, junk: 0, missing: 0, duplicates: 0, unknown: 0, spamInJunk: 0, spamInInbox: 0, hamInJunk: 0, unscanned: 0, leftInTmp: 0, other: [] };
  for (const [folder, sub] of [['inbox', ''], ['junk', '.Junk']]) {
    const dir = join(c.maildir, sub, 'new');
    for (const f of list(dir)) {
      r[folder]++;
      const head = headOf(join(dir, f));
      const id = /^Message-ID:\s*<([^>]+)>/im.exec(head)?.[1];
      if (!id || !want.has(id)) {
        r.unknown++;
        continue;
      }
      seen.set(id, (seen.get(id) ?? 0) + 1);
      const spam = want.get(id) === 'spam';
      if (spam && folder === 'junk') r.spamInJunk++;
      if (spam && folder === 'inbox') r.spamInInbox++;
      if (!spam && folder === 'junk') r.hamInJunk++;
      if (!c.scanned(head)) r.unscanned++;
    }
    r.leftInTmp += list(join(c.maildir, sub, 'tmp')).length;
    r.other.push(...list(join(c.maildir, sub, 'cur')).map((f) => join(sub, 'cur', f)));
  }
  for (const id of want.keys()) {
    const n = seen.get(id) ?? 0;
    if (n === 0) r.missing++;
    if (n > 1) r.duplicates += n - 1;
  }
  // anything else procmail may have written (msg.XXXX files in MAILDIR when a delivery went wrong)
  const known = new Set(['new', 'cur', 'tmp', '.Junk', 'maildirsize', 'spamassassin.lock', 'mda-commit.lock']);
  r.other.push(...list(c.maildir).filter((f) => !known.has(f)));
  r.spam = corpus.filter((m) => m.kind === 'spam').length;
  r.ok = r.missing === 0 && r.duplicates === 0 && r.unknown === 0 && r.spamInJunk === r.spam && r.unscanned === 0 && r.leftInTmp === 0 && r.other.length === 0;
  return r;
}

// ------------------------------------------------------------------- run

const pct = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(p * xs.length) - 1))] : NaN);
const secs = (ms) => (Number.isFinite(ms) ? (ms / 1000).toFixed(ms < 10_000 ? 2 : 1) : '-');

async function flood(stack, c, corpus, warmCorpus) {
  // Untimed warm-up, the same for every contender: a burst of 2 x PARALLEL
  // `spamc -c` so spamd's prefork pool has grown, then one delivery into a
  // scratch Maildir (loads the binaries and proves the recipe stores mail).
  const spamc = which('spamc');
  await runPool(warmCorpus, PARALLEL, () => ({ cmd: spamc, args: ['-c', '-d', stack.spamd.host, '-p', String(stack.spamd.port)], env: postfixEnv(c.dir) }));
  const scratch = mailbox(join(c.dir, 'warmup'));
  const w = await deliverOne(c.at(scratch), corpus[0].bytes);
  const landed = list(join(scratch, 'new')).length + list(join(scratch, '.Junk', 'new')).length;
  if (w.error || landed !== 1) return { c, fatal: `warm-up delivery: ${w.error ?? `exit 0 but ${landed} files in ${scratch}`}` };

  const load = loadavg()[0];
  const spamdPid = stack.pid();
  const [scans0, cpu0, sd0, m0] = [stack.scans(), childCpu(), spamdCpu(spamdPid), machineCpu()];
  const run = await runPool(corpus, PARALLEL, () => c.at(c.maildir), c.name);
  const m1 = machineCpu();
  const cpu = childCpu() - cpu0;
  const spamdCpuS = spamdCpu(spamdPid) - sd0;
  const busy = (100 * (m1.busy - m0.busy)) / (m1.total - m0.total);
  const scans = stack.scans() - scans0;
  const lat = [...run.lat].sort((a, b) => a - b);
  return { c, ...run, lat, cpu, spamdCpuS, busy, load, scans, check: verify(c, corpus) };
}

export async function run() {
  if (!Number.isInteger(MESSAGES) || MESSAGES < 10 || !Number.isInteger(PARALLEL) || PARALLEL < 1 || !(SPAMD_CHILDREN >= 1) || !(TIME_LIMIT_S > 0)) {
    console.error('flood: FLOOD_MESSAGES must be an integer >= 10, FLOOD_PARALLEL >= 1, FLOOD_SPAMD_CHILDREN >= 1, FLOOD_TIME_LIMIT > 0');
    return { ok: false };
  }
  for (const b of ['spamd', 'spamc']) {
    if (!which(b) && !which(`/usr/sbin/${b}`)) {
      console.log(`  skipped: ${b} not installed (apt-get install spamassassin spamd spamc)`);
      return { ok: true };
    }
  }

  const stack = makeStack();
  const onSignal = (sig) => {
    if (stopping) return;
    stopping = true;
    clearProgress();
    console.error(`\nflood: ${sig}: stopping ${inflight.size} deliveries and spamd`);
    for (const ch of inflight) ch.kill('SIGTERM');
    stack.stop();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const onExit = () => stack.stop(); // last resort (an exception on the way out)
  const sigs = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of sigs) process.on(s, onSignal);
  process.on('exit', onExit);
  try {
    return await runFlood(stack);
  } finally {
    stack.stop();
    for (const s of sigs) process.off(s, onSignal);
    process.off('exit', onExit);
  }
}

async function runFlood(stack) {
  const root = makeTempRoot('flood');
  const port = await freePort();
  stack.spamd = stack.start(port);
  console.log(`  ${stack.spamd.line}; --max-children ${SPAMD_CHILDREN}, offline rules (no DNS, no Bayes)`);

  const corpus = makeCorpus({ count: MESSAGES, seed: SEED, spamEvery: SPAM_EVERY });
  const warmCorpus = makeCorpus({ count: 2 * PARALLEL, seed: SEED + 1000, spamEvery: SPAM_EVERY });
  const kinds = corpus.reduce((a, m) => ({ ...a, [m.kind]: (a[m.kind] ?? 0) + 1 }), {});
  const sizes = corpus.map((m) => m.bytes.length);
  const corpusDir = join(root, 'corpus');
  mkdirSync(corpusDir);
  corpus.forEach((m, i) => writeFileSync(join(corpusDir, `${String(i).padStart(5, '0')}.eml`), m.bytes));
  console.log(
    `  corpus: ${MESSAGES} messages (${kinds.backscatter ?? 0} backscatter, ${kinds.ham ?? 0} ham, ${kinds.spam ?? 0} GTUBE spam), ` +
      `${Math.min(...sizes)}-${Math.max(...sizes)} bytes, ${(sizes.reduce((a, b) => a + b, 0) / 1024).toFixed(0)} KB in all; ` +
      `${PARALLEL} in parallel; time limit ${TIME_LIMIT_S} s per delivery; node ${process.version}${QUICK ? '; QUICK mode' : ''}`,
  );

  const contenders = [
    mdaContender(root, stack.spamd),
    procmailContender(root, stack.spamd, { locked: true }),
    ...(UNLOCKED ? [procmailContender(root, stack.spamd, { locked: false })] : []),
  ];
  for (const c of contenders.filter((x) => x.skip)) console.log(`  skipped procmail: ${c.skip}`);
  const live = contenders.filter((x) => !x.skip);

  const cfgCheck = spawnSync(NODE, [join(ROOT, 'bin/mda'), 'config', 'check', '--config', live[0].config], { encoding: 'utf8' });
  if (cfgCheck.status !== 0) {
    console.error(`FAILED: mda config check: ${(cfgCheck.stdout + cfgCheck.stderr).trim()}`);
    return { ok: false };
  }
  for (const c of live) console.log(`  ${c.name}: ${c.recipe}`);

  const results = [];
  for (const c of live) {
    if (stopping) break;
    const r = await flood(stack, c, corpus, warmCorpus);
    results.push(r);
    if (r.fatal) {
      console.log(`  ${c.name}: ${r.fatal}`);
      if (c.required) {
        console.error(`FAILED: ${c.name}: ${r.fatal}`);
        return { ok: false };
      }
      continue;
    }
    console.log(`  ${c.name}: ${secs(r.wallMs)} s, ${r.failures.length} failed, check ${r.check.ok ? 'ok' : 'FAILED'} (1-min load average before it: ${r.load.toFixed(2)})`);
  }
  const done = results.filter((r) => !r.fatal);
  const mda = done.find((r) => r.c.name === 'mda');
  const rate = (r) => (corpus.length - r.failures.length) / (r.wallMs / 1000);
  const rows = [['contender', 'wall s', 'msg/s', 'x mda', 'p50 s', 'p90 s', 'p99 s', 'max s', 'failed', 'INBOX', 'Junk', 'spamd scans', 'CPU s MDA', 'CPU s spamd', 'machine busy', 'check']];
  for (const r of done) {
    const k = r.check;
    rows.push([
      r.c.name, secs(r.wallMs), rate(r).toFixed(1), (rate(r) / rate(mda)).toFixed(2),
      secs(pct(r.lat, 0.5)), secs(pct(r.lat, 0.9)), secs(pct(r.lat, 0.99)), secs(r.lat.at(-1)),
      `${r.failures.length}/${corpus.length}`, k.inbox, k.junk, r.scans, fmt(r.cpu), fmt(r.spamdCpuS), `${r.busy.toFixed(0)} %`, k.ok ? 'ok' : 'FAILED',
    ]);
  }
  console.log(`\n${table(rows)}\n`);
  console.log('  msg/s = delivered messages / wall time; x mda = that throughput / mda\'s; latency = spawn to exit of each delivery process;');
  console.log(`  CPU s MDA = CPU seconds of the delivery processes (procmail's include spamc); CPU s spamd = spamd's; machine busy = all ${cpus().length} cores, anything running.`);
  console.log('  check = every Message-ID exactly once in INBOX/new + .Junk/new, all GTUBE in Junk, every message scanned by spamd, tmp/ empty.');
  for (const r of done) {
    const k = r.check;
    const detail = [
      `${k.spamInJunk}/${k.spam} GTUBE in Junk`,
      k.spamInInbox && `${k.spamInInbox} GTUBE in INBOX`,
      k.hamInJunk && `${k.hamInJunk} non-GTUBE in Junk (spamd's verdict)`,
      k.missing && `${k.missing} MISSING`,
      k.duplicates && `${k.duplicates} DUPLICATES`,
      k.unknown && `${k.unknown} files with unknown Message-ID`,
      k.unscanned && `${k.unscanned} delivered UNSCANNED`,
      k.leftInTmp && `${k.leftInTmp} files left in tmp/`,
      k.other.length && `stray: ${k.other.slice(0, 5).join(', ')}`,
      r.failures.length && `last failure: ${r.failures.at(-1).error}`,
      r.noise.length && `${r.noise.length} exited 0 but printed, e.g. "${r.noise[0]}"`,
    ].filter(Boolean);
    console.log(`  ${r.c.name}: ${detail.join('; ')}`);
  }
  const locked = done.find((r) => r.c.name.includes('(lock)'));
  const unlocked = done.find((r) => r.c.name.includes('(no lock)'));
  const ms = (r) => (r.cpu * 1000) / corpus.length;
  console.log('');
  if (mda && locked) {
    console.log(`  procmail + spamc under the lock took ${(locked.wallMs / mda.wallMs).toFixed(1)}x mda's wall time (${secs(locked.wallMs)} s vs ${secs(mda.wallMs)} s); p99 latency ${secs(pct(locked.lat, 0.99))} s vs ${secs(pct(mda.lat, 0.99))} s.`);
  }
  if (locked && unlocked) {
    const verdict = unlocked.wallMs < locked.wallMs / 2 ? ': the lockfile (waiters retry every SLEEPTIME = 8 s), not spamc, is the bottleneck' : '';
    console.log(`  Without the lockfile procmail + spamc took ${secs(unlocked.wallMs)} s${verdict}.`);
  }
  if (mda && unlocked) {
    console.log(
      `  Per delivery, outside spamd: mda ${ms(mda).toFixed(0)} CPU-ms (a node process), procmail + spamc ${ms(unlocked).toFixed(0)} CPU-ms; ` +
        `spamd ${((mda.spamdCpuS * 1000) / corpus.length).toFixed(0)} vs ${((unlocked.spamdCpuS * 1000) / corpus.length).toFixed(0)} CPU-ms per scan.`,
    );
  }
  const busyBefore = done.filter((r) => r.load > cpus().length);
  if (busyBefore.length) {
    console.log(
      `\n  WARNING: other work was running (1-min load average ${busyBefore.map((r) => r.load.toFixed(1)).join(', ')} on ${cpus().length} cores before ` +
        `${busyBefore.map((r) => r.c.name).join(', ')}): the CPU-bound rows (mda, no lock) are slowed most; rerun on a quiet machine.`,
    );
  }
  const mdaOk = mda && mda.failures.length === 0 && mda.check.ok;
  if (!mdaOk) console.error('FAILED: mda did not deliver every message exactly once, scanned and routed');
  return { ok: Boolean(mdaOk) && !stopping };
}
