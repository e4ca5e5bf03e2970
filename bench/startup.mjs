// bench/startup.mjs: the `startup` section. Start-up + delivery of one ~2 KB
// message into a Maildir, per process, for mda and the classic MDAs, against
// Node's floor (`node -e 0`), plus a breakdown of where mda's extra time goes.
// Owns the tool recipes (rcfiles, filter files, dovecot config) and the report.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fmt, ratio, runInterleaved, stats, table } from './lib/measure.mjs';
import { deliveredOne, lookupUser, makeMaildir, makeTempRoot, postfixEnv, which, writeMessage } from './lib/fixtures.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const NODE = process.execPath; // the same node binary for the floor and for mda
const TARGET = 1.3; // mda median / node -e 0 median
/**
 * Modules whose bare load cost is measured (paths relative to the repo): by
 * default the first of DELIVER_ENTRIES that exists (what bin/mda loads for
 * `deliver`, bundled or not); BENCH_IMPORTS=a.js,b.cjs overrides.
 */
const DELIVER_ENTRIES = ['dist/deliver.cjs', 'dist/cli/deliver.js'];
const IMPORTS = process.env.BENCH_IMPORTS
  ? process.env.BENCH_IMPORTS.split(',').filter(Boolean)
  : [DELIVER_ENTRIES.find((p) => existsSync(join(ROOT, p))) ?? DELIVER_ENTRIES[0]];

/**
 * BENCH_BASELINE=/path/to/another/checkout (built): that tree's `bin/mda deliver` joins the same
 * round-robin, so "start-up got no worse" is one side-by-side ratio instead of two runs on a
 * machine whose load changes between them.
 */
const BASELINE = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE) : undefined;

export const description = 'start-up + delivery of one ~2 KB message, mda vs node -e 0, procmail, maildrop, dovecot-lda';

/** A per-case directory holding its Maildir (pre-created: the steady state of a real mailbox). */
function caseDir(root, name) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return { dir, maildir: makeMaildir(join(dir, 'Maildir')) };
}

function nodeFloor(msg, root) {
  return { name: 'node -e 0', cmd: NODE, args: ['-e', '0'], stdin: msg, env: postfixEnv(root), required: true };
}

function mda(msg, root, name, { shebang = false, config, tree = ROOT } = {}) {
  const { dir, maildir } = caseDir(root, name.replace(/\W+/g, '_'));
  const extra = config ? ['--config', config] : [];
  const argv = ['deliver', '--maildir', maildir, ...extra];
  const [cmd, args] = shebang ? [join(tree, 'bin/mda'), argv] : [NODE, [join(tree, 'bin/mda'), ...argv]];
  return { name, cmd, args, stdin: msg, env: postfixEnv(dir), required: true, ...deliveredOne(maildir) };
}

/** procmail: an rcfile with no recipes delivers to $DEFAULT; a trailing slash means Maildir. */
function procmail(msg, root) {
  const bin = which('procmail');
  if (!bin) return { skip: 'procmail not installed' };
  const { dir, maildir } = caseDir(root, 'procmail');
  const rc = join(dir, 'procmailrc');
  writeFileSync(rc, `MAILDIR=${dir}\nDEFAULT=${maildir}/\n`, { mode: 0o600 });
  return { name: 'procmail', cmd: bin, args: ['-p', '-m', rc], stdin: msg, env: postfixEnv(dir), ...deliveredOne(maildir) };
}

/** maildrop: a 0600 filter file owned by us; it only delivers into an existing Maildir. */
function maildrop(msg, root) {
  const bin = which('maildrop');
  if (!bin) return { skip: 'maildrop not installed' };
  const { dir, maildir } = caseDir(root, 'maildrop');
  const filter = join(dir, 'mailfilter');
  writeFileSync(filter, `to "${maildir}/"\n`, { mode: 0o600 });
  chmodSync(filter, 0o600); // the umask cannot widen it, but be explicit: maildrop checks
  const args = ['-f', 'alice@example.org', filter];
  return { name: 'maildrop', cmd: bin, args, stdin: msg, env: postfixEnv(dir), ...deliveredOne(maildir) };
}

/**
 * dovecot-lda with a minimal private config (own base_dir, no services).
 * As root it insists on -d USER, which needs a running auth service, so as
 * root we run it as `nobody` instead, which then needs no userdb lookup.
 */
function dovecot(msg, root) {
  const bin = process.env.DOVECOT_LDA || '/usr/lib/dovecot/dovecot-lda';
  if (!which(bin)) return { skip: `dovecot-lda not installed (${bin}; set DOVECOT_LDA to point elsewhere)` };
  const { dir, maildir } = caseDir(root, 'dovecot');
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, [
    `base_dir = ${dir}/run`,
    `state_dir = ${dir}/state`,
    `log_path = ${dir}/dovecot.log`,
    `mail_location = maildir:${maildir}`,
    'first_valid_uid = 0',
    'ssl = no',
    'protocols =',
    'postmaster_address = postmaster@example.net',
    '',
  ].join('\n'), { mode: 0o644 });
  const c = { name: 'dovecot-lda', cmd: bin, args: ['-c', conf, '-f', 'alice@example.org'], stdin: msg, env: postfixEnv(dir), ...deliveredOne(maildir) };
  if (process.getuid?.() === 0) {
    const nobody = lookupUser('nobody');
    if (!nobody) return { skip: 'dovecot-lda: running as root and no `nobody` user to run it as' };
    for (const p of [dir, maildir, ...['new', 'cur', 'tmp'].map((s) => join(maildir, s))]) chownSync(p, nobody.uid, nobody.gid);
    Object.assign(c, nobody, { name: 'dovecot-lda (as nobody)' });
  }
  return c;
}

/** Loads one module and exits: require() for .cjs (as bin/mda does), import() otherwise. */
function importCase(msg, root, mod) {
  const abs = join(ROOT, mod);
  const code = mod.endsWith('.cjs') ? `require(${JSON.stringify(abs)})` : `import(${JSON.stringify(pathToFileURL(abs).href)})`;
  const verb = mod.endsWith('.cjs') ? 'require' : 'import';
  return { name: `${verb} ${mod}`, cmd: NODE, args: ['-e', code], stdin: msg, env: postfixEnv(root), required: true };
}

/** Whether bin/mda finds a code cache for the bundle it loads, and whether V8 accepts it (same node, same flags). */
function codeCacheState() {
  const probe = `const s = require(${JSON.stringify(join(ROOT, 'bin/mda'))}); const b = s.readDeliverBundle(); const c = s.readCodeCache(b);
    process.stdout.write(!c ? 'none (run npm run build): every start compiles from source' : s.compileDeliver(b, c).cachedDataRejected ? 'REJECTED by V8' : 'accepted (' + b.cacheFile.split('/').pop() + ')');`;
  const r = spawnSync(NODE, ['-e', probe], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  return r.status === 0 ? r.stdout : `unknown (probe failed: ${r.stderr.split('\n')[0]})`;
}

/** Whether a delivery with the checked config skipped the TOML parser: NODE_DEBUG=module names every module loaded. */
function compiledConfigUsed(msg, root, config) {
  const c = mda(msg, root, 'compiled config probe', { config });
  const r = spawnSync(c.cmd, c.args, { input: readFileSync(msg), encoding: 'utf8', env: { ...c.env, NODE_DEBUG: 'module' } });
  if (r.status !== 0) return `unknown (probe delivery exited ${r.status})`;
  return r.stderr.includes('smol-toml') ? 'NO: the TOML parser was loaded (stale build id or config stamp?)' : 'yes (the TOML parser was not loaded)';
}

export async function run({ runs, warmups }) {
  const root = makeTempRoot('startup');
  const { path: msg, bytes } = writeMessage(root);
  const quietConf = join(root, 'log-none.toml');
  writeFileSync(quietConf, '[log]\ntarget = "none"\n', { mode: 0o644 });
  // The same config after `mda config check`, which leaves a compiled copy deliver reads instead of the TOML.
  const compiledConf = join(root, 'compiled.toml');
  writeFileSync(compiledConf, '[log]\ntarget = "none"\n', { mode: 0o644 });
  spawnSync(process.execPath, ['bin/mda', 'config', 'check', '--config', compiledConf], { stdio: 'ignore' });

  // What the fast path rests on, checked once: a code cache V8 accepts for this very bundle, and a compiled
  // config that deliver uses instead of the TOML parser (their rows below mean little when either is missing).
  console.log(`code cache for dist/deliver.cjs: ${codeCacheState()}`);
  console.log(`compiled config used by deliver: ${compiledConfigUsed(msg, root, compiledConf)}`);

  const floor = nodeFloor(msg, root);
  const mdaMain = mda(msg, root, 'mda (node bin/mda)');
  const baseline = BASELINE && mda(msg, root, `mda at BENCH_BASELINE`, { tree: BASELINE });
  const tools = [floor, mdaMain, ...(baseline ? [baseline] : []), procmail(msg, root), maildrop(msg, root), dovecot(msg, root)];
  const breakdown = [
    ...IMPORTS.map((m) => importCase(msg, root, m)),
    mda(msg, root, 'mda via shebang (bin/mda)', { shebang: true }),
    mda(msg, root, 'mda --config (log none)', { config: quietConf }),
    mda(msg, root, 'mda --config, compiled by config check', { config: compiledConf }),
  ];
  const notes = tools.filter((t) => t.skip).map((t) => ({ name: '', reason: t.skip }));
  const cases = [...tools, ...breakdown].filter((t) => !t.skip);

  console.log(`startup: ${runs} runs + ${warmups} warm-ups, round-robin over ${cases.length} cases; message ${bytes} bytes; node ${process.version}`);
  const { results, skipped, fatal } = runInterleaved(cases, {
    runs,
    warmups,
    onRound: (i, n) => process.stderr.isTTY && process.stderr.write(`\r  round ${i}/${n}`),
  });
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  for (const s of [...notes, ...skipped]) console.log(`  skipped ${s.name ? `${s.name}: ` : ''}${s.reason}`);
  if (fatal) {
    console.error(`FAILED: ${fatal}`);
    return { ok: false };
  }

  const by = new Map(results.map((r) => [r.c.name, { ...stats(r.samples), failures: r.failures, lastError: r.lastError }]));
  const base = by.get(floor.name).median;
  const rowsFor = (list) => [
    ['command', 'median ms', 'p90 ms', 'min ms', 'x node -e 0', 'failed'],
    ...list.filter((c) => by.has(c.name)).map((c) => {
      const s = by.get(c.name);
      return [c.name, fmt(s.median), fmt(s.p90), fmt(s.min), ratio(s.median, base), `${s.failures}/${runs}`];
    }),
  ];
  console.log(`\n${table(rowsFor(tools))}\n`);
  for (const [name, s] of by) if (s.failures) console.log(`  ${name}: last failure: ${s.lastError}`);

  console.log(`breakdown (same round-robin):\n${table(rowsFor([floor, ...breakdown]))}\n`);
  // Differences of medians, and of minimums (steadier when the machine is busy).
  const m = (c) => by.get(c.name)?.median ?? NaN;
  const lo = (c) => by.get(c.name)?.min ?? NaN;
  const d = (f, a, b) => (Number.isFinite(f(a) - f(b)) ? (f(a) - f(b)).toFixed(1) : '-');
  const row = (label, a, b) => [label, d(m, a, b), d(lo, a, b)];
  const [load, shebang, quiet] = [breakdown[0], breakdown.at(-2), breakdown.at(-1)];
  console.log(table([
    ['where mda time above node -e 0 goes', 'd median ms', 'd min ms'],
    row(`load cost of ${IMPORTS[0]} (vs node -e 0)`, load, floor),
    row('bin/mda entry + run after load (flags, config, stdin, maildir, log, exit)', mdaMain, load),
    row('  default config (syslog) minus --config file (log none, incl. TOML load)', mdaMain, quiet),
    row('shebang (/usr/bin/env node) vs node bin/mda', shebang, mdaMain),
  ]));

  const r = m(mdaMain) / base; // the headline: medians of `node bin/mda deliver` and `node -e 0`
  console.log(`\nmda/node ratio: ${r.toFixed(2)} (target <= ${TARGET.toFixed(2)})${r <= TARGET ? '' : '  -- target missed'}`);
  if (baseline) console.log(`mda/baseline ratio: ${(m(mdaMain) / m(baseline)).toFixed(2)} (baseline ${BASELINE}: ${(m(baseline) / base).toFixed(2)} x node -e 0)`);
  return { ok: true };
}
