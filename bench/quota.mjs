// bench/quota.mjs: the `quota` section. `mda quota report --maildir-glob` over
// 2,000 Maildirs x 250 messages (500,000 empty files whose names carry ,S=)
// with fresh maildirsize files, a full rebuild of all of them, and
// `mda quota recalc` of one 100,000-file Maildir beside `doveadm quota recalc`.
// Owns the tree (cached between runs, keyed by its parameters) and the doveadm recipe.
import { spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, ratio, runInterleaved, stats, table } from './lib/measure.mjs';
import { lookupUser, makeTempRoot, postfixEnv, which } from './lib/fixtures.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const NODE = process.execPath;
const USERS = Number(process.env.BENCH_QUOTA_USERS || 2000);
const PER_USER = Number(process.env.BENCH_QUOTA_MESSAGES || 250);
const BIG = Number(process.env.BENCH_QUOTA_BIG || 100_000);
const RUNS = Number(process.env.BENCH_QUOTA_RUNS || 5);
const LIMIT = 1024 ** 3; // [quota] storage = "1G": every user stays far below it, so maildirsize stays fresh
const VERSION = 1; // bump when the tree's layout changes
const DOVEADM = process.env.DOVEADM || '/usr/bin/doveadm';

export const description = `mda quota report over ${USERS} Maildirs x ${PER_USER} messages; quota recalc of a ${BIG}-file Maildir vs doveadm quota recalc`;

const isRoot = process.getuid?.() === 0;
/** Dovecot refuses mail access as root, so as root the big Maildir belongs to nobody. */
const owner = () => (isRoot ? lookupUser('nobody') : { uid: process.getuid(), gid: process.getgid() });

/** A deterministic message size (1 KB–64 KB) so every run builds the same tree. */
const sizeOf = (u, i) => 1024 + ((u * 7919 + i * 104_729) % 64_512);

/**
 * makeMaildir writes `n` empty files (80 % in cur/ with flags, 20 % in new/)
 * and, if asked, a fresh maildirsize with their sum. Returns { bytes, count }.
 */
function makeMaildir(dir, u, n, withSizeFile) {
  for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const size = sizeOf(u, i);
    bytes += size;
    const name = i % 5 === 0 ? `new/1700000000.M${i}P${u}Q${i}.bench,S=${size}` : `cur/1700000000.M${i}P${u}Q${i}.bench,S=${size}:2,S`;
    closeSync(openSync(join(dir, name), 'w'));
  }
  if (withSizeFile) writeFileSync(join(dir, 'maildirsize'), `${LIMIT}S\n${bytes} ${n}\n`, { mode: 0o600 });
  return { bytes, count: n };
}

function chownTree(path, { uid, gid }) {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const n of readdirSync(path)) chownTree(join(path, n), { uid, gid });
}

/** tree returns the cached fixture, building it first if needed (BENCH_QUOTA_FRESH=1 rebuilds). */
function tree() {
  const dir = process.env.BENCH_QUOTA_DIR || join(tmpdir(), `mda-bench-quota-v${VERSION}-u${USERS}-m${PER_USER}-b${BIG}`);
  const marker = join(dir, 'complete.json');
  if (process.env.BENCH_QUOTA_FRESH === '1') rmSync(dir, { recursive: true, force: true });
  if (existsSync(marker)) return { dir, ...JSON.parse(readFileSync(marker, 'utf8')), cached: true };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const t0 = performance.now();
  let total = { bytes: 0, count: 0 };
  for (let u = 1; u <= USERS; u++) {
    const r = makeMaildir(join(dir, 'users', `u${String(u).padStart(5, '0')}`, 'Maildir'), u, PER_USER, true);
    total = { bytes: total.bytes + r.bytes, count: total.count + r.count };
    if (process.stderr.isTTY && u % 100 === 0) process.stderr.write(`\r  generating: ${u}/${USERS} Maildirs`);
  }
  const bigHome = join(dir, 'big');
  const big = makeMaildir(join(bigHome, 'Maildir'), 0, BIG, false);
  if (owner()) chownTree(bigHome, owner()); // no `nobody`: doveadm is skipped later anyway
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const facts = { total, big, generatedInMs: Math.round(performance.now() - t0) };
  writeFileSync(marker, JSON.stringify(facts));
  return { dir, ...facts, cached: false };
}

/** doveadm: a private config, no daemon; USER/HOME from the environment (-u would need the auth socket). */
function doveadmCase(root, bigHome) {
  if (!which(DOVEADM)) return { skip: `doveadm not installed (${DOVEADM}; apt-get install dovecot-core)` };
  const { uid, gid } = owner() ?? {};
  if (uid === undefined) return { skip: 'doveadm: running as root and no `nobody` user to own the Maildir' };
  const conf = join(root, 'dovecot.conf');
  writeFileSync(conf, [
    `base_dir = ${root}/run`,
    `state_dir = ${root}/state`,
    'log_path = /dev/stderr',
    'ssl = no',
    'protocols =',
    'mail_location = maildir:~/Maildir:INDEX=MEMORY', // no index files: only maildirsize (and dovecot-uidlist) are written
    `mail_uid = ${uid}`,
    `mail_gid = ${gid}`,
    `first_valid_uid = ${uid}`,
    `first_valid_gid = ${gid}`,
    'mail_plugins = quota',
    'plugin {',
    '  quota = maildir:User quota',
    `  quota_rule = *:storage=${LIMIT / 1024}k`,
    '}',
    '',
  ].join('\n'), { mode: 0o644 });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', USER: 'bench', HOME: bigHome };
  const c = { name: `doveadm quota recalc (${BIG / 1000}k, one Maildir)`, cmd: DOVEADM, args: ['-c', conf, 'quota', 'recalc'], env };
  const probe = spawnSync(c.cmd, c.args, { env, encoding: 'utf8', timeout: 120_000 });
  if (probe.status !== 0) return { skip: `doveadm quota recalc failed (exit ${probe.status ?? probe.signal}): ${(probe.stderr || '').trim().split('\n')[0]}` };
  return c;
}

const maildirsizeOf = (maildir) => readFileSync(join(maildir, 'maildirsize'), 'latin1');

export async function run({ runs }) {
  const n = Math.min(runs, RUNS);
  const t = tree();
  console.log(
    `quota: tree ${t.dir} (${t.cached ? 'cached' : `generated in ${(t.generatedInMs / 1000).toFixed(1)} s`}; ` +
      `remove it or set BENCH_QUOTA_FRESH=1 to rebuild): ${USERS} Maildirs, ${t.total.count} files, ${t.big.count}-file big Maildir; ` +
      `${n} runs + 1 warm-up; node ${process.version}`,
  );
  const root = makeTempRoot('quota');
  const conf = join(root, 'mda.toml');
  writeFileSync(conf, '[log]\ntarget = "none"\n[quota]\nstorage = "1G"\n', { mode: 0o644 });
  const glob = join(t.dir, 'users', '*', 'Maildir');
  const bigHome = join(t.dir, 'big');
  const bigMaildir = join(bigHome, 'Maildir');
  const env = postfixEnv(root);
  const mda = (args) => ({ cmd: NODE, args: [join(ROOT, 'bin/mda'), 'quota', ...args, '--config', conf], env, required: true });
  const sample = join(t.dir, 'users', 'u00001', 'Maildir', 'maildirsize');

  // Not timed: the numbers must be right before their speed means anything.
  const rep = spawnSync(NODE, [join(ROOT, 'bin/mda'), 'quota', 'report', '--config', conf, '--maildir-glob', glob, '--format', 'json'], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (rep.status !== 0) {
    console.error(`FAILED: mda quota report exited ${rep.status}: ${rep.stderr.trim().split('\n')[0]}`);
    return { ok: false };
  }
  const rows = JSON.parse(rep.stdout);
  const sum = rows.reduce((a, r) => ({ bytes: a.bytes + r.bytes, count: a.count + r.messages }), { bytes: 0, count: 0 });
  const right = rows.length === USERS && sum.bytes === t.total.bytes && sum.count === t.total.count;
  console.log(`  check: report has ${rows.length} rows, ${sum.count} messages, ${sum.bytes} bytes: ${right ? 'matches the tree' : 'WRONG'}`);
  if (!right) return { ok: false };

  const report = {
    name: `mda quota report (${USERS} fresh maildirsize)`,
    files: t.total.count,
    ...mda(['report', '--maildir-glob', glob]),
    // A fresh maildirsize must be read, not rebuilt: otherwise this times the wrong thing.
    before: () => statSync(sample).mtimeMs,
    check: (mtime) => (statSync(sample).mtimeMs === mtime ? null : 'maildirsize was rewritten: it was not fresh'),
  };
  const recalcAll = { name: `mda quota recalc (${USERS} Maildirs, full scan)`, files: t.total.count, ...mda(['recalc', '--maildir-glob', glob]) };
  const recalcBig = { name: `mda quota recalc (${BIG / 1000}k, one Maildir)`, files: t.big.count, ...mda(['recalc', '--maildir-glob', bigMaildir]) };
  // What every mda run pays before touching a Maildir (node + the yargs CLI), to read the rows above it.
  const floor = { name: 'mda --version (CLI start-up only)', files: 0, cmd: NODE, args: [join(ROOT, 'bin/mda'), '--version'], env, required: true };
  const dove = doveadmCase(root, bigHome);
  const cases = [report, recalcAll, recalcBig, ...(dove.skip ? [] : [{ ...dove, files: t.big.count }]), floor];
  if (dove.skip) console.log(`  skipped doveadm: ${dove.skip}`);

  const { results, skipped, fatal } = runInterleaved(cases, {
    runs: n,
    warmups: 1,
    onRound: (i, total) => process.stderr.isTTY && process.stderr.write(`\r  round ${i}/${total}`),
  });
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  for (const s of skipped) console.log(`  skipped ${s.name}: ${s.reason}`);
  if (fatal) {
    console.error(`FAILED: ${fatal}`);
    return { ok: false };
  }

  const by = new Map(results.map((r) => [r.c.name, { ...stats(r.samples), failures: r.failures, lastError: r.lastError }]));
  const doveMedian = dove.skip ? NaN : by.get(dove.name)?.median;
  const rowsOut = [['command', 'files', 'median ms', 'p90 ms', 'min ms', 'files/s', 'x doveadm', 'failed']];
  for (const c of cases) {
    const s = by.get(c.name);
    if (!s) continue;
    const perSec = c.files > 0 && Number.isFinite(s.median) ? Math.round(c.files / (s.median / 1000)).toLocaleString('en-US') : '-';
    const vsDove = c.files === t.big.count && c.name !== dove.name ? ratio(s.median, doveMedian) : c.name === dove.name ? '1.00' : '-';
    rowsOut.push([c.name, c.files ? c.files.toLocaleString('en-US') : '-', fmt(s.median), fmt(s.p90), fmt(s.min), perSec, vsDove, `${s.failures}/${n}`]);
  }
  console.log(`\n${table(rowsOut)}\n`);
  const med = (c) => by.get(c.name)?.median ?? NaN;
  const work = med(recalcBig) - med(floor);
  if (!dove.skip && Number.isFinite(work)) {
    console.log(`${BIG / 1000}k-file recalc without mda's start-up: ${fmt(work)} ms vs doveadm ${fmt(doveMedian)} ms (x ${ratio(work, doveMedian)})`);
  }
  for (const [name, s] of by) if (s.failures) console.log(`  ${name}: last failure: ${s.lastError}`);

  // Both recalculations wrote the big Maildir's maildirsize; they must agree.
  const mine = spawnSync(NODE, [join(ROOT, 'bin/mda'), 'quota', 'recalc', '--config', conf, '--maildir-glob', bigMaildir], { env, encoding: 'utf8' });
  const mdaFile = maildirsizeOf(bigMaildir);
  let agree = '';
  if (!dove.skip) {
    spawnSync(dove.cmd, dove.args, { env: dove.env, timeout: 120_000 });
    agree = maildirsizeOf(bigMaildir) === mdaFile ? ', identical to doveadm\'s' : `, DIFFERENT from doveadm's ${JSON.stringify(maildirsizeOf(bigMaildir))}`;
  }
  console.log(`big Maildir: mda prints "${mine.stdout.trim()}", maildirsize ${JSON.stringify(mdaFile)}${agree}`);
  return { ok: true };
}
