// bench/policy.mjs: the `policy` section. `mda policy` against Dovecot's `quota-status -p
// postfix` (a private instance of the Debian package), both on a unix socket, both looking
// up the same recipients in their own copy of the same Maildir tree, driven by the same
// client (lib/policy-client.mjs) in one run: requests as smtpd sends them at RCPT, a mix of
// known recipients with room, recipients over quota and unknown ones, every answer checked.
// mda twice, with the default `[policy] cache_ttl` and with `cache_ttl = "0s"` (every request
// a lookup and a maildirsize read, as Dovecot does). Cases: one connection and 20 connections
// (requests/s, p50/p99, CPU per request; alternating blocks so machine load hits all alike),
// 500 requests/s paced over 20 connections (p99), then mda's RSS over many requests.
// Owns the scenarios, the goals and the report.
// Knobs: BENCH_POLICY_N (requests per contender and case, default 20000), BENCH_POLICY_BLOCKS
// (default 4), BENCH_POLICY_RATE (default 500) and BENCH_POLICY_PACED_S (default 10),
// BENCH_POLICY_MEM_N (requests of the memory run per mda server, default 200000; 0 skips),
// DOVECOT (default /usr/sbin/dovecot), BENCH_POLICY_USER (default nobody).
import { cpus, loadavg } from 'node:os';
import { mkdirSync, readFileSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, table } from './lib/measure.mjs';
import { lookupUser, makeTempRoot, which } from './lib/fixtures.mjs';
import { openPolicy, smtpdRequest } from './lib/policy-client.mjs';
import { startDovecotQuotaStatus, startMdaPolicy } from './lib/policy-servers.mjs';
import { treeCpu } from './lib/proc.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const N = Number(process.env.BENCH_POLICY_N || 20000);
const BLOCKS = Number(process.env.BENCH_POLICY_BLOCKS || 4);
const RATE = Number(process.env.BENCH_POLICY_RATE || 500);
const PACED_S = Number(process.env.BENCH_POLICY_PACED_S || 10);
const MEM_N = Number(process.env.BENCH_POLICY_MEM_N ?? 200000);
const AS_USER = process.env.BENCH_POLICY_USER || 'nobody';
const DOVECOT = process.env.DOVECOT || '/usr/sbin/dovecot';
const DOMAIN = 'example.net';
const CONNS = 20;

/** The goals of issue 12's "Performance" section. */
const GOALS = { ratio: 2, p99Ms: 2, rate: 500, memGrowth: 0.1 };

/** Recipients: 200 with room, 20 over quota, and unknown local parts from a pool larger than mda's cache (10,000 entries). */
const NORMAL = 200;
const FULL = 20;
const UNKNOWN_POOL = 20000;
const USERS = [
  ...Array.from({ length: NORMAL }, (_, i) => ({ name: `u${i}`, full: false })),
  ...Array.from({ length: FULL }, (_, i) => ({ name: `full${i}`, full: true })),
];
/** Request `seq`: 6 in 10 to a recipient with room, 2 over quota, 2 unknown; answers as both servers are configured. */
function workload(seq) {
  const k = seq % 10;
  if (k < 6) return { recipient: `u${(seq * 7919) % NORMAL}@${DOMAIN}`, want: (a) => a === 'DUNNO' };
  if (k < 8) return { recipient: `full${seq % FULL}@${DOMAIN}`, want: (a) => a.startsWith('552 5.2.2') };
  return { recipient: `nouser${(seq * 104729) % UNKNOWN_POOL}@${DOMAIN}`, want: (a) => a.startsWith('550 5.1.1') };
}

export const description = `policy service: mda policy vs Dovecot quota-status -p postfix, same client, ${N} requests per contender and case, ${RATE}/s paced, RSS over ${MEM_N} requests`;

const tty = process.stderr.isTTY;
const progress = (s) => tty && process.stderr.write(`\r\x1b[K  ${s}`);
const clearProgress = () => tty && process.stderr.write('\r\x1b[K');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(p * xs.length) - 1))] : NaN);
const ratioOf = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const x = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '-');
const mb = (kb) => (Number.isFinite(kb) ? (kb / 1024).toFixed(1) : '-');
const goal = (label, ok, detail) => console.log(`  goal ${ok === null ? 'n/a   ' : ok ? 'met   ' : 'MISSED'}  ${label}: ${detail}`);

/** vmRssKb: a process's resident set now, in KiB (VmRSS in /proc/PID/status), or NaN. */
function vmRssKb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** ask: one request over `conn`; its latency, and a failure when the answer is not the one wanted. */
async function ask(c, conn, acc) {
  const seq = c.seq++;
  const w = workload(seq);
  const s = performance.now();
  let a;
  try {
    a = await conn.ask(smtpdRequest({ recipient: w.recipient, seq }));
  } catch (e) {
    acc.failures.push(e.message);
    return false; // this connection is gone
  }
  acc.lat.push(performance.now() - s);
  if (!w.want(a)) acc.wrong.push(`${w.recipient}: ${a}`);
  return true;
}

/** runBlock: `count` requests over the contender's open connections, each connection one request at a time. */
async function runBlock(c, conns, count, label) {
  let next = 0;
  const acc = { lat: [], failures: [], wrong: [] };
  const cpu0 = treeCpu(c.server.pid);
  const t0 = performance.now();
  const worker = async (conn) => {
    while (next < count) {
      next++;
      if (!(await ask(c, conn, acc))) return;
      if (label && acc.lat.length % 500 === 0) progress(`${label}: ${acc.lat.length}/${count}`);
    }
  };
  await Promise.all(conns.map(worker));
  if (label) clearProgress();
  return { ...acc, wallMs: performance.now() - t0, cpuS: treeCpu(c.server.pid) - cpu0, done: acc.lat.length };
}

async function openConns(c, n) {
  const conns = [];
  for (let i = 0; i < n; i++) conns.push(await openPolicy(c.server.sock, { timeoutMs: 10_000 }));
  return conns;
}

/** One connection or CONNS: N requests per contender in BLOCKS alternating blocks after an untimed warm-up. */
async function throughput(label, nConns, contenders) {
  const per = Math.floor(N / BLOCKS);
  const sizes = Array.from({ length: BLOCKS }, (_, b) => (b < BLOCKS - 1 ? per : N - per * (BLOCKS - 1)));
  const res = new Map();
  for (const c of contenders) {
    c.conns = await openConns(c, nConns);
    const w = await runBlock(c, c.conns, Math.max(2 * nConns, Math.min(1000, Math.floor(N / 10))));
    if (w.failures.length) throw new Error(`${c.name}: warm-up failed: ${w.failures[0]}`);
    res.set(c, { wallMs: 0, lat: [], failures: [], wrong: [...w.wrong], cpuS: 0, done: 0 });
  }
  for (let b = 0; b < BLOCKS; b++) {
    const order = b % 2 ? [...contenders].reverse() : contenders;
    for (const c of order) {
      const r = await runBlock(c, c.conns, sizes[b], `${label}: ${c.name}, block ${b + 1}/${BLOCKS}`);
      const acc = res.get(c);
      acc.wallMs += r.wallMs;
      acc.lat.push(...r.lat);
      acc.failures.push(...r.failures);
      acc.wrong.push(...r.wrong);
      acc.cpuS += r.cpuS;
      acc.done += r.done;
    }
  }
  for (const c of contenders) for (const conn of c.conns.splice(0)) conn.close();
  for (const r of res.values()) r.lat.sort((a, b) => a - b);
  return res;
}

/**
 * paced: RATE requests/s for PACED_S seconds over CONNS connections, as smtpd processes ask
 * independently: each request goes, at its time, to an idle connection (or waits for the
 * first one to free up: counted as `queued`). Latency = written to answered.
 */
async function paced(c) {
  const conns = await openConns(c, CONNS);
  const total = Math.round(RATE * PACED_S);
  const gap = 1000 / RATE;
  const idle = [...conns];
  const waiting = [];
  const acc = { lat: [], failures: [], wrong: [], queued: 0, lateMs: 0 };
  let finished = 0;
  let allDone;
  const all = new Promise((r) => (allDone = r));
  const send = (conn) => {
    ask(c, conn, acc).finally(() => {
      if (++finished === total) allDone();
      if (waiting.length) {
        waiting.shift();
        send(conn);
      } else idle.push(conn);
    });
  };
  const cpu0 = treeCpu(c.server.pid);
  const t0 = performance.now() + 5;
  for (let i = 0; i < total; i++) {
    const due = t0 + i * gap;
    const wait = due - performance.now();
    if (wait >= 1) await sleep(wait);
    acc.lateMs = Math.max(acc.lateMs, performance.now() - due);
    const conn = idle.pop();
    if (conn) send(conn);
    else {
      acc.queued++;
      waiting.push(i);
    }
    if (i % 500 === 0) progress(`${RATE}/s paced: ${c.name}: ${i}/${total}`);
  }
  const over = await Promise.race([all.then(() => false), sleep(30_000).then(() => true)]);
  const wallMs = performance.now() - t0;
  clearProgress();
  for (const conn of conns) conn.close();
  if (over) acc.failures.push(`${total - finished} requests unanswered 30 s after the last was due`);
  acc.lat.sort((a, b) => a - b);
  return { ...acc, wallMs, cpuS: treeCpu(c.server.pid) - cpu0, done: acc.lat.length, total };
}

/** memory: MEM_N requests over CONNS connections; VmRSS of the server sampled 20 times. */
async function memory(c) {
  const conns = await openConns(c, CONNS);
  const step = Math.max(1, Math.floor(MEM_N / 20));
  const samples = [{ n: 0, kb: vmRssKb(c.server.pid) }];
  let sent = 0;
  let n = 0; // answers so far (acc.lat is emptied as it goes)
  const acc = { lat: [], failures: [], wrong: [] };
  const worker = async (conn) => {
    while (sent < MEM_N) {
      sent++;
      if (!(await ask(c, conn, acc))) return;
      if (++n % step === 0) {
        samples.push({ n, kb: vmRssKb(c.server.pid) });
        progress(`memory: ${c.name}: ${n}/${MEM_N}, RSS ${mb(samples.at(-1).kb)} MB`);
      }
      if (acc.lat.length > 1000) acc.lat.length = 0; // latencies are not the point here; keep the client flat too
    }
  };
  await Promise.all(conns.map(worker));
  clearProgress();
  for (const conn of conns) conn.close();
  const at = (f) => samples.reduce((best, s) => (Math.abs(s.n - f * MEM_N) < Math.abs(best.n - f * MEM_N) ? s : best), samples[0]);
  // least-squares slope of RSS over requests from the mark `f` on, in KiB per 100,000 requests
  const slope = (f) => {
    const tail = samples.filter((s) => s.n >= f * MEM_N);
    const mx = tail.reduce((a, s) => a + s.n, 0) / tail.length;
    const my = tail.reduce((a, s) => a + s.kb, 0) / tail.length;
    const sxy = tail.reduce((a, s) => a + (s.n - mx) * (s.kb - my), 0);
    const sxx = tail.reduce((a, s) => a + (s.n - mx) ** 2, 0);
    return sxx > 0 ? (sxy / sxx) * 100_000 : NaN;
  };
  return { start: samples[0].kb, at10: at(0.1).kb, at50: at(0.5).kb, at100: samples.at(-1).kb, slope: slope(0.1), slope50: slope(0.5), failures: acc.failures, wrong: acc.wrong };
}

export async function run() {
  if (!Number.isInteger(N) || N < 100 || !Number.isInteger(BLOCKS) || BLOCKS < 1 || BLOCKS > N || !(RATE > 0) || !(PACED_S > 0) || !Number.isInteger(MEM_N) || MEM_N < 0) {
    console.error('policy: BENCH_POLICY_N must be an integer >= 100, BENCH_POLICY_BLOCKS between 1 and N, BENCH_POLICY_RATE and BENCH_POLICY_PACED_S > 0, BENCH_POLICY_MEM_N an integer >= 0');
    return { ok: false };
  }
  if (process.getuid?.() !== 0) {
    console.log('  skipped: needs root (both servers are started as root and look up mailboxes as one unprivileged uid)');
    return { ok: true };
  }
  const as = lookupUser(AS_USER);
  if (!as) {
    console.log(`  skipped: no user ${AS_USER} (set BENCH_POLICY_USER)`);
    return { ok: true };
  }
  const dovecotOk = which(DOVECOT) && which('/usr/lib/dovecot/quota-status');
  const root = makeTempRoot('policy');
  const servers = [];
  const onSignal = (sig) => {
    clearProgress();
    console.error(`\npolicy: ${sig}: stopping the servers`);
    for (const s of servers) s.killGroup('SIGKILL');
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const sigs = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of sigs) process.on(s, onSignal);
  // Both servers trust an over-quota maildirsize for 15 minutes only (then mda leaves it to the
  // commit, Dovecot recounts): keep the files fresh, as deliveries would, for a long memory run.
  const fresh = setInterval(() => {
    for (const s of servers) for (const u of USERS) {
      try {
        const now = new Date();
        utimesSync(join(s.boxes.maildir(u.name), 'maildirsize'), now, now);
      } catch {}
    }
  }, 60_000);
  fresh.unref();
  try {
    const start = async (name, fn, opts) => {
      const dir = join(root, name.replace(/\W+/g, '-'));
      mkdirSync(dir);
      const server = await fn({ dir, as: { name: AS_USER, ...as }, users: USERS, domain: DOMAIN, ...opts });
      servers.push(server);
      return { name, seq: 0, server };
    };
    const mdaOpts = { bin: join(ROOT, 'bin/mda'), node: process.execPath };
    const contenders = [
      await start('mda (cache_ttl default)', startMdaPolicy, { ...mdaOpts, cacheTtl: '', label: 'mda policy' }),
      await start('mda (cache_ttl 0s)', startMdaPolicy, { ...mdaOpts, cacheTtl: '0s', label: 'mda policy, no cache' }),
    ];
    if (dovecotOk) contenders.push(await start('dovecot quota-status', startDovecotQuotaStatus, { bin: DOVECOT }));
    else console.log(`  Dovecot quota-status not installed (${DOVECOT}, /usr/lib/dovecot/quota-status; apt-get install dovecot-core): mda alone, no ratios`);
    return await measure(contenders);
  } catch (e) {
    clearProgress();
    console.error(`FAILED: ${e.message}`);
    return { ok: false };
  } finally {
    clearInterval(fresh);
    await Promise.all(servers.map((s) => s.stop()));
    for (const s of sigs) process.off(s, onSignal);
  }
}

async function measure(contenders) {
  const [mda, mda0, dv] = contenders;
  const load = loadavg()[0];
  console.log(`  ${N} requests per contender and case in ${BLOCKS} alternating blocks (+ untimed warm-up); recipients: 60% ${NORMAL} users with room, 20% ${FULL} over quota, 20% unknown (pool of ${UNKNOWN_POOL}); as ${AS_USER}; node ${process.version}; 1-min load ${load.toFixed(2)} on ${cpus().length} cores`);
  for (const c of contenders) console.log(`  ${c.name}: ${c.server.recipe}`);

  let ok = true;
  const cases = [
    { key: 'one', label: 'one connection', res: await throughput('one connection', 1, contenders) },
    { key: 'many', label: `${CONNS} connections`, res: await throughput(`${CONNS} connections`, CONNS, contenders) },
  ];
  const pacedRes = new Map();
  for (const c of contenders) pacedRes.set(c, await paced(c));

  const rows = [['case', 'contender', 'requests/s', 'p50 ms', 'p99 ms', 'max ms', 'CPU µs/request', 'failed', 'wrong answers']];
  for (const k of cases) {
    for (const c of contenders) {
      const r = k.res.get(c);
      rows.push([k.label, c.name, (r.done / (r.wallMs / 1000)).toFixed(0), fmt(pct(r.lat, 0.5)), fmt(pct(r.lat, 0.99)), fmt(r.lat.at(-1)),
        ((r.cpuS * 1e6) / r.done).toFixed(0), `${r.failures.length}/${N}`, String(r.wrong.length)]);
    }
  }
  for (const c of contenders) {
    const r = pacedRes.get(c);
    rows.push([`${RATE}/s paced, ${CONNS} conns`, c.name, (r.done / (r.wallMs / 1000)).toFixed(0), fmt(pct(r.lat, 0.5)), fmt(pct(r.lat, 0.99)), fmt(r.lat.at(-1)),
      ((r.cpuS * 1e6) / r.done).toFixed(0), `${r.failures.length}/${r.total}`, String(r.wrong.length)]);
  }
  console.log(`\n${table(rows)}\n`);
  console.log('  requests/s = answers / wall time of the timed blocks; latency = request written to its empty line read;');
  console.log('  CPU = user + system time of the server process and all its children (Dovecot: master, auth, config, log, quota-status, ...);');
  console.log('  wrong answers = not DUNNO for a recipient with room, not 552 5.2.2 for one over quota, not 550 5.1.1 for an unknown one.');
  for (const c of contenders) {
    const r = pacedRes.get(c);
    console.log(`  ${RATE}/s paced, ${c.name}: ${r.queued} requests waited for a free connection; the client's timer was at most ${r.lateMs.toFixed(1)} ms late`);
  }
  const all = [...cases.map((k) => [k.label, k.res]), [`${RATE}/s paced`, pacedRes]];
  for (const [label, res] of all) {
    for (const c of contenders) {
      const r = res.get(c);
      if (r.failures.length) console.log(`  ${label}, ${c.name}: ${r.failures.length} failed, e.g. ${r.failures[0]}`);
      if (r.wrong.length) console.log(`  ${label}, ${c.name}: ${r.wrong.length} wrong answers, e.g. ${r.wrong[0]}`);
      if (c !== dv && (r.failures.length || r.wrong.length)) ok = false;
    }
  }

  const rate = (k, c) => {
    const r = c && cases.find((x) => x.key === k).res.get(c);
    return r ? r.done / (r.wallMs / 1000) : NaN;
  };
  console.log('\nratios (mda / Dovecot quota-status, same run, same client):');
  for (const m of [mda, mda0]) {
    for (const k of cases) {
      const ratio = dv ? ratioOf(rate(k.key, m), rate(k.key, dv)) : NaN;
      goal(`${k.label}, ${m.name}, requests/s >= ${GOALS.ratio}x Dovecot`, dv ? ratio >= GOALS.ratio : null, `${x(ratio)} (${rate(k.key, m).toFixed(0)} vs ${dv ? rate(k.key, dv).toFixed(0) : '-'} requests/s)`);
    }
    const p = pacedRes.get(m);
    const p99 = pct(p.lat, 0.99);
    goal(`${RATE}/s paced, ${m.name}, p99 <= ${GOALS.p99Ms} ms`, RATE >= GOALS.rate ? p99 <= GOALS.p99Ms : null,
      `${fmt(p99)} ms${dv ? ` (Dovecot ${fmt(pct(pacedRes.get(dv).lat, 0.99))} ms)` : ''}${RATE < GOALS.rate ? ` (the goal is at ${GOALS.rate}/s)` : ''}`);
  }
  const cpuPer = (c) => {
    const rs = all.map(([, res]) => res.get(c));
    return (rs.reduce((a, r) => a + r.cpuS, 0) * 1e6) / rs.reduce((a, r) => a + r.done, 0);
  };
  console.log(`  info    CPU per request, all cases: ${contenders.map((c) => `${c.name} ${cpuPer(c).toFixed(0)} µs`).join(', ')}`);

  if (MEM_N > 0) {
    const mrows = [['memory', 'requests', 'RSS at start MB', 'RSS at 10% MB', 'RSS at 50% MB', 'RSS at 100% MB', 'slope from 10% on, KB/100k req', 'slope from 50% on, KB/100k req', 'failed', 'wrong answers']];
    const mems = [];
    for (const m of [mda, mda0]) {
      const r = await memory(m);
      mems.push([m, r]);
      mrows.push([m.name, String(MEM_N), mb(r.start), mb(r.at10), mb(r.at50), mb(r.at100), r.slope.toFixed(0), r.slope50.toFixed(0), String(r.failures.length), String(r.wrong.length)]);
      if (r.failures.length || r.wrong.length) ok = false;
    }
    console.log(`\n${table(mrows)}\n`);
    console.log(`  VmRSS of the mda process, sampled every ${Math.max(1, Math.floor(MEM_N / 20))} answers over ${CONNS} connections, after the cases above; mda's caches hold at most 10,000 entries each, and the unknown recipients come from a pool of ${UNKNOWN_POOL}, so with a cache RSS grows until they are full.`);
    for (const [m, r] of mems) {
      const growth = ratioOf(r.at100 - r.at10, r.at10);
      goal(`memory flat over ${MEM_N} requests, ${m.name}: RSS at 100% within ${GOALS.memGrowth * 100}% of RSS at 10%`, growth <= GOALS.memGrowth,
        `${mb(r.at10)} -> ${mb(r.at100)} MB (${(growth * 100).toFixed(1)}%)${MEM_N < 1_000_000 ? ' (the goal is over 1,000,000: BENCH_POLICY_MEM_N=1000000)' : ''}`);
    }
  }
  if (load > cpus().length) console.log(`\n  WARNING: 1-min load average ${load.toFixed(1)} on ${cpus().length} cores before the run: other work competed; the ratios hold better than the absolute figures.`);
  if (!ok) console.error('FAILED: mda policy failed requests or gave wrong answers');
  return { ok };
}
