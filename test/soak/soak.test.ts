/**
 * Soak: many deliveries through the real binary, in parallel, into many
 * virtual users' Maildirs with Maildir++ quotas and a real spamd, then an
 * audit of every message. Sizes come from the environment:
 *   MDA_SOAK_DELIVERIES [2000]  the CI size (`npm run soak` runs 20,000). 2,000 took
 *                               3.8 min on a quiet 2-CPU machine, 10.5 min on a busy one
 *   MDA_SOAK_PARALLEL   [16]    senders, each running one mda at a time
 *   MDA_SOAK_USERS      [50]    at least 10
 *   MDA_SOAK_SEED       [random, printed]  replays a run (users, sizes, spam)
 *   MDA_SOAK_KEEP=1     keep the Maildirs and the log afterwards (path printed)
 *
 * Users come in four kinds (of 50: 10, 30, 5, 5): no quota (the lockless
 * O_APPEND path, with a maildirsize put there beforehand), a quota they never
 * reach (the locked commit), a small storage quota with over_quota = "bounce",
 * and a small message quota with over_quota = "defer". over_quota is global, so
 * the last kind gets its own config file. Every fifth user of each kind has
 * spamd as a `[[scanner]]` (own config files again: scanners are global too):
 * a scan costs spamd about 0.25 CPU seconds, more than mda's whole delivery
 * (0.1 s). Every 50th message is GTUBE, sent to one of those users.
 *
 * The audit: every Message-ID is accounted for. Exit 0 means stored exactly
 * once, byte-exact, in the right user's INBOX (or Junk, when spamd said spam);
 * 77 (5.2.2) and 75 (4.2.2) mean stored nowhere, and no other exit happens.
 * Quotas are exact: each maildirsize sums to a fresh scanMaildir() and to the
 * files on disk, the limits hold, and every refusal really was over the limit.
 * No lock or tmp/ file is left, the runner's fd count is unchanged, and the
 * log has one line per delivery. Throughput and latency are printed.
 *
 * As root the deliveries run as `nobody` (virtual users need no account);
 * otherwise as the current user. Skipped with a warning when spamd is
 * missing, except in CI (CI=true) or with MDA_E2E_REQUIRED=1.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMaildirsize } from '../../src/quota/maildirsize.js';
import { scanMaildir } from '../../src/quota/store.js';
import {
  freePort,
  lookupUser,
  realstackSkipReason,
  runDir,
  scannerEndpoints,
  startRealstack,
  stopRealstack,
} from '../helpers/realstack.js';
import { MDA } from '../helpers/run-mda.js';

const intEnv = (name: string, dflt: number, min: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name}=${raw}: expected an integer >= ${min}`);
  return n;
};
const N = intEnv('MDA_SOAK_DELIVERIES', 2000, 1);
const P = intEnv('MDA_SOAK_PARALLEL', 16, 1);
const U = intEnv('MDA_SOAK_USERS', 50, 10);
const SEED = intEnv('MDA_SOAK_SEED', Math.floor(Math.random() * 2 ** 31), 0);
const KEEP = process.env.MDA_SOAK_KEEP === '1';

const skipReason = realstackSkipReason(['spamd']);
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (skipReason && !required) console.warn(`\n*** SKIPPED test/soak/soak.test.ts: ${skipReason} ***\n`);

// Assembled here so that no file in the repo holds the test string in one piece.
const GTUBE = ['XJS*C4JDBQADN1.NSBN3*2IDNEN*', 'GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'].join('');

// ---------------------------------------------------------------- the plan

type Kind = 'unlimited' | 'roomy' | 'bounce' | 'defer';
const users = Array.from({ length: U }, (_, k) => `u${String(k).padStart(2, '0')}`);
const kindOf = (k: number): Kind => (k < U * 0.2 ? 'unlimited' : k < U * 0.8 ? 'roomy' : k < U * 0.9 ? 'bounce' : 'defer');
const userIndex = (name: string): number => Number(name.slice(1));
const scanned = (k: number): boolean => k % 5 === 0;
const scannedUsers = users.filter((_, k) => scanned(k));

/** mulberry32: a small seeded PRNG, so a seed replays a run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Meta {
  i: number;
  user: string;
  sender: string;
  gtube: boolean;
  /** Body size target in bytes. */
  bodySize: number;
}

const TAG = SEED.toString(36);
const messageId = (i: number) => `<soak-${TAG}-${i}@sender.test>`;

function meta(i: number): Meta {
  const rand = rng((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  const gtube = i % 50 === 25;
  const pick = rand();
  const user = gtube ? scannedUsers[Math.floor(pick * scannedUsers.length)]! : users[Math.floor(pick * U)]!;
  const sender = `s${Math.floor(rand() * 997)}@sender.test`;
  const r = rand();
  // mostly small, some medium, a few large (spamd's default max_size is 500K)
  const bodySize = Math.floor(r < 0.8 ? 200 + rand() * 3800 : r < 0.98 ? 4000 + rand() * 28000 : 64000 + rand() * 96000);
  return { i, user, sender, gtube, bodySize };
}

const WORDS = 'the of and to in is for on that by this with you it not or be are from at as your all have new more an was we will home can us about if page my has search free but our one other do no information time they site he up may what which their news out use any there see only so his when contact here business who web also now help get pm view online first am been would how were me services some these click its like service than find price date back top people had list name just over state year day into email two health world re next used go work last most products music buy data make them should product system post her city add policy number such please available copyright support message after best software then jan good video well d where info rights public books high school through m each links she review years order very privacy book items company read group need many user said de does set under general research university january mail full map reviews program life know games way days management part could great united hotel real f item international center ebay must store travel comments made development report off member details line terms before hotels did send right type because local those using results office education national car design take posted internet address community within states area want phone dvd shipping reserved subject between forum family l long based w code show o even black check special prices website index being women much sign file link open today technology south case project same pages uk version section own found sports house related security both g county american photo game members power while care network down computer systems three total place end following download h him without per access think north resources current posts big media law control water history pictures size art personal since including guide shop directory board location change white text small rating rate government children during usa return students v shopping account times sites level digital profile previous form events love old john main call hours image department title description non k y insurance another why shall property class cd still money quality every listing content country private little visit save tools low reply customer december compare movies include college value article york man card jobs provide j food source author different press u learn sale around print course job canada process teen room stock training too credit point join science men categories advanced west sales look english left team estate box conditions select windows photos gay thread week category note live large gallery table register however june october november market library really action start series model features air industry plan human provided tv yes required second hot accessories cost movie forums march la september better say questions july yahoo going medical test friend come dec server pc study application cart staff articles san feedback again play looking issues april never users complete street topic comment financial things working against standard tax person below mobile less got blog party payment equipment login student let programs offers legal above recent park stores side act problem red give memory performance social q august quote language story sell options experience rates create key body young america important field few east paper single ii age activities club example girls additional password z latest something road gift question changes night ca hard texas oct pay four poker status browse issue range building seller court february always result audio light write war nov offer blue groups al easy given files event release analysis request fax china making picture needs possible might professional yet month major star areas future space committee hand sun cards problems london washington meeting rss become interest id child keep enter california porn share similar garden schools million added reference companies listed baby learning energy run delivery net popular term film stories put computers journal reports co try welcome central images president notice god original head radio until cell color self council away includes track australia discussion archive once others entertainment agreement format least society months log safety friends sure faq trade edition cars messages marketing tell further updated association able having provides david fun already green studies close common drive specific several gold feb living sep collection called short arts lot ask display limited powered solutions means director daily beach past natural whether due et electronics five upon period planning database says official weather mar land average done technical window africa away'.split(' ');

/** The message mda gets on stdin: a Postfix From_ line, envelope lines, headers, a body. */
function message(m: Meta): { input: Buffer; head: string; rest: Buffer } {
  const rand = rng((SEED ^ Math.imul(m.i + 1, 0x85ebca6b)) >>> 0); // its own stream: the same text every call
  let line = '';
  let size = 0;
  const lines: string[] = [];
  while (size < m.bodySize) {
    const w = WORDS[Math.floor(rand() * WORDS.length)]!;
    if (line.length + w.length + 1 > 72) {
      lines.push(line);
      size += line.length + 1;
      line = '';
    }
    line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  if (m.gtube) lines.splice(Math.min(3, lines.length), 0, '', GTUBE, '');
  const head = `Return-Path: <${m.sender}>\nDelivered-To: ${m.user}@example.test\n`;
  const rest = Buffer.from(
    `From: <${m.sender}>\nTo: ${m.user}@example.test\nSubject: soak ${m.i}\nDate: Sat, 21 Nov 2026 23:21:04 +0000\n` +
      `Message-ID: ${messageId(m.i)}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n${lines.join('\n')}\n`,
  );
  const input = Buffer.concat([Buffer.from(`From ${m.sender}  Sat Nov 21 23:21:04 2026\n${head}`), rest]);
  return { input, head, rest };
}

// ---------------------------------------------------------------- the run

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  ms: number;
}

let root = '';
let stackDir = '';
let mail = '';
let logFile = '';
type Policy = 'bounce' | 'defer';
/** Config files by over_quota policy and by whether spamd scans. */
const cfg = new Map<string, string>();
const cfgKey = (policy: Policy, spamd: boolean) => `${policy}${spamd ? '-spamd' : ''}`;
/** Who the deliveries run as; undefined = this process's uid. */
let runAs: { uid: number; gid: number } | undefined;
/** Per user: the quota written into the config. */
const limits = new Map<string, { storage?: number; messages?: number; grace?: number }>();
const metas: Meta[] = [];

const maildirOf = (user: string) => join(mail, user, 'Maildir');
const ownDir = (p: string) => {
  mkdirSync(p, { recursive: true, mode: 0o700 });
  if (runAs) chownSync(p, runAs.uid, runAs.gid);
};

function config(policy: Policy, spamd: string | undefined): string {
  const lines = [
    '[log]', `target = "file:${logFile}"`,
    '[delivery]', `maildir = "${mail}/%u/Maildir"`,
    '[quota]', `over_quota = "${policy}"`,
    '[scanning]', `state_dir = "${join(mail, 'state')}"`,
    '[spam]', 'folder = "Junk"',
  ];
  if (spamd) lines.push('[[scanner]]', 'type = "spamd"', `hosts = ["${spamd}"]`, 'timeout = "30s"');
  for (const u of users) {
    const q = limits.get(u);
    const parts = Object.entries(q ?? {}).map(([k, v]) => (k === 'messages' ? `${k} = ${v}` : `${k} = "${v}"`));
    lines.push(`[users.${u}]`, `maildir = "${maildirOf(u)}"`);
    if (parts.length > 0) lines.push(`quota = { ${parts.join(', ')} }`);
  }
  return `${lines.join('\n')}\n`;
}

function deliver(m: Meta): Promise<Result> {
  const { input } = message(m);
  const k = userIndex(m.user);
  const cfgFile = cfg.get(cfgKey(kindOf(k) === 'defer' ? 'defer' : 'bounce', scanned(k)))!;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [MDA, 'deliver', '--config', cfgFile, '--user', m.user], {
      env: { PATH: '/usr/bin:/bin', USER: m.user, HOME: join(mail, m.user), SENDER: m.sender, RECIPIENT: `${m.user}@example.test` },
      cwd: '/',
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(runAs ?? {}),
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.stdin.on('error', () => undefined);
    const hard = setTimeout(() => child.kill('SIGKILL'), 300_000); // mda's own deadline is 240 s
    child.on('error', (err) => {
      clearTimeout(hard);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(hard);
      resolve({ code, signal, output, ms: performance.now() - started });
    });
    child.stdin.end(input);
  });
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();
/** CPU seconds of a process, its own and its reaped children's, from /proc; NaN without /proc. */
function cpuOf(pid: number | 'self'): { own: number; children: number } {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // fields 14-17 of proc(5): utime stime cutime cstime; f[0] is field 3
    const t = (n: number) => Number(f[n - 3]) / CLK_TCK;
    return { own: t(14) + t(15), children: t(16) + t(17) };
  } catch {
    return { own: NaN, children: NaN };
  }
}
/** spamd's CPU seconds: the parent, its live (preforked) children, and the reaped ones. */
const spamdCpu = (): number => {
  try {
    const pid = Number(readFileSync(join(stackDir, 'spamd', 'spamd.pid'), 'utf8').trim());
    const parent = cpuOf(pid);
    let total = parent.own + parent.children;
    for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      let ppid = -1;
      try {
        ppid = Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      } catch {
        continue; // gone meanwhile
      }
      if (ppid === pid) total += cpuOf(Number(p)).own;
    }
    return total;
  } catch {
    return NaN;
  }
};

const fdCount = (): number => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : -1);
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

describe.skipIf(skipReason !== null && !required)(`soak: ${N} deliveries, ${P} parallel, ${U} users, real spamd`, () => {
  beforeAll(async () => {
    if (skipReason) throw new Error(`required here (CI=true or MDA_E2E_REQUIRED=1): ${skipReason}`);
    root = mkdtempSync('/tmp/mda-soak-');
    chmodSync(root, 0o755); // `nobody` must reach the configs and mail/
    mail = join(root, 'mail');
    logFile = join(mail, 'mda.log');
    if (process.getuid?.() === 0) {
      const nobody = lookupUser('nobody');
      runAs = { uid: nobody.uid, gid: nobody.gid };
    }
    ownDir(mail);
    writeFileSync(logFile, '', { mode: 0o600 });
    if (runAs) chownSync(logFile, runAs.uid, runAs.gid);

    // Quotas sized from this run's own plan: the small ones refuse about half of their mail.
    const per = new Map(users.map((u) => [u, { count: 0, bytes: 0 }]));
    for (let i = 0; i < N; i++) {
      const m = meta(i);
      metas.push(m);
      const p = per.get(m.user)!;
      p.count += 1;
      p.bytes += m.bodySize + 300;
    }
    let firstBounce = true;
    for (const [k, u] of users.entries()) {
      const p = per.get(u)!;
      const kind = kindOf(k);
      if (kind === 'roomy') limits.set(u, { storage: 1024 ** 3, messages: 1_000_000 });
      if (kind === 'bounce') {
        const storage = Math.max(1024, Math.floor(p.bytes / 2));
        limits.set(u, firstBounce ? { storage, grace: Math.floor(storage / 10) } : { storage });
        firstBounce = false;
      }
      if (kind === 'defer') limits.set(u, { messages: Math.max(1, Math.floor(p.count / 2)) });
      ownDir(join(mail, u));
      if (kind === 'unlimited') {
        // No quota, so no lock: only an existing maildirsize is kept current, by O_APPEND alone.
        for (const d of ['', 'tmp', 'new', 'cur']) ownDir(join(maildirOf(u), d));
        writeFileSync(join(maildirOf(u), 'maildirsize'), '0S,0C\n0 0\n', { mode: 0o600 });
        if (runAs) chownSync(join(maildirOf(u), 'maildirsize'), runAs.uid, runAs.gid);
      }
    }

    stackDir = runDir('/tmp/mda-soak-spamd');
    const stack = startRealstack({
      dir: stackDir,
      smtpPort: await freePort(),
      spamdPort: await freePort(),
      clamdPort: await freePort(),
      services: ['spamd'],
    });
    const spamd = scannerEndpoints(stack).spamdTcp;
    mkdirSync(join(root, 'etc'), { mode: 0o755 });
    for (const policy of ['bounce', 'defer'] as const) {
      for (const withSpamd of [false, true]) {
        const file = join(root, 'etc', `${cfgKey(policy, withSpamd)}.toml`);
        cfg.set(cfgKey(policy, withSpamd), file);
        writeFileSync(file, config(policy, withSpamd ? spamd : undefined), { mode: 0o644 });
        // as an admin would after editing: validates, and writes the compiled config deliver uses
        const check = await new Promise<{ code: number | null; out: string }>((resolve) => {
          const c = spawn(process.execPath, [MDA, 'config', 'check', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          c.stdout.on('data', (d) => (out += d));
          c.stderr.on('data', (d) => (out += d));
          c.on('close', (code) => resolve({ code, out }));
        });
        expect(check.out, `mda config check ${file}`).toMatch(/^OK: /);
        expect(check.code).toBe(0);
      }
    }
  });

  afterAll(() => {
    if (stackDir) stopRealstack(stackDir, { purge: true });
    if (root && !KEEP) rmSync(root, { recursive: true, force: true });
    if (root && KEEP) console.log(`soak: kept ${root}`);
  });

  it('loses nothing, stores nothing twice, keeps exact quota accounting, leaks nothing', { timeout: 300_000 + N * 500 }, async () => {
    // ------------------------------------------------ deliver
    const results: Result[] = new Array(N);
    const fdBefore = fdCount();
    const loadBefore = loadavg()[0]!;
    const cpuBefore = { mda: cpuOf('self').children, spamd: spamdCpu(), runner: process.cpuUsage() };
    let next = 0;
    const t0 = performance.now();
    const sender = async () => {
      for (let i = next++; i < N; i = next++) results[i] = await deliver(metas[i]!);
    };
    await Promise.all(Array.from({ length: Math.min(P, N) }, sender));
    const wallMs = performance.now() - t0;
    const fdAfter = fdCount();
    const loadAfter = loadavg()[0]!;
    const cpu = {
      mda: cpuOf('self').children - cpuBefore.mda,
      spamd: spamdCpu() - cpuBefore.spamd,
      runner: (() => {
        const u = process.cpuUsage(cpuBefore.runner);
        return (u.user + u.system) / 1e6;
      })(),
    };

    // ------------------------------------------------ exit codes and DSN lines
    const problems: string[] = [];
    const problem = (s: string) => {
      if (problems.length < 40) problems.push(s);
    };
    for (const [i, r] of results.entries()) {
      const kind = kindOf(userIndex(metas[i]!.user));
      const ok =
        (r.code === 0 && r.output === '') ||
        (r.code === 77 && kind === 'bounce' && /^5\.2\.2 Mailbox full/.test(r.output)) ||
        (r.code === 75 && kind === 'defer' && /^4\.2\.2 Mailbox full/.test(r.output));
      if (!ok) problem(`delivery ${i} (${metas[i]!.user}, ${kind}): exit ${r.code ?? r.signal}, output ${JSON.stringify(r.output)}`);
      if (r.code !== 0 && r.code !== 75 && r.code !== 77) problem(`delivery ${i}: exit ${r.code ?? r.signal} is none of 0, 75, 77`);
      if (r.code === 75 && !/^4\.\d{1,3}\.\d{1,3} /.test(r.output)) problem(`delivery ${i}: 75 without a 4.x.x line`);
    }

    // ------------------------------------------------ walk every Maildir
    const stored = new Map<number, { user: string; folder: string; file: string }[]>();
    const scans = { spam: 0, clean: 0, skipped: 0 };
    const skipReasons = new Map<string, number>();
    const onDisk = new Map<string, { bytes: number; count: number }>();
    const leftovers: string[] = [];
    for (const u of users) {
      const md = maildirOf(u);
      const usage = { bytes: 0, count: 0 };
      onDisk.set(u, usage);
      if (!existsSync(md)) continue;
      const folders = ['', ...readdirSync(md).filter((n) => n.startsWith('.'))];
      for (const f of folders) {
        if (f !== '' && f !== '.Junk') problem(`${md}: unexpected folder ${f}`);
        for (const t of readdirSync(join(md, f, 'tmp'))) leftovers.push(join(md, f, 'tmp', t));
        for (const sub of ['new', 'cur']) {
          for (const name of readdirSync(join(md, f, sub))) {
            const file = join(md, f, sub, name);
            const bytes = readFileSync(file);
            usage.bytes += bytes.length;
            usage.count += 1;
            const s = /,S=(\d+)/.exec(name);
            if (!s || Number(s[1]) !== bytes.length) problem(`${file}: S= in the name is not the size ${bytes.length}`);
            const headEnd = bytes.indexOf('\n\n');
            const head = bytes.subarray(0, headEnd < 0 ? bytes.length : headEnd).toString('latin1');
            const ids = [...head.matchAll(/^Message-ID: <soak-([0-9a-z]+)-(\d+)@sender\.test>$/gm)];
            if (ids.length !== 1 || ids[0]![1] !== TAG) {
              problem(`${file}: ${ids.length} Message-IDs of this run`);
              continue;
            }
            const i = Number(ids[0]![2]);
            const m = metas[i];
            if (!m) {
              problem(`${file}: Message-ID number ${i} was never sent`);
              continue;
            }
            const list = stored.get(i) ?? [];
            list.push({ user: u, folder: f, file });
            stored.set(i, list);
            // byte-exact: envelope lines first, mda's fields, then everything the sender wrote
            const want = message(m);
            if (!bytes.subarray(0, want.head.length).equals(Buffer.from(want.head))) problem(`${file}: does not start with the envelope lines`);
            if (!bytes.subarray(bytes.length - want.rest.length).equals(want.rest)) problem(`${file}: the sender's part is not byte-exact`);
            const scan = [...head.matchAll(/^X-MDA-Scan: (.*)$/gm)].map((x) => x[1]!);
            const verdict = (/^spamd=(\w+)/.exec(scan[0] ?? '')?.[1] ?? 'none') as keyof typeof scans | 'none';
            if (scanned(userIndex(u)) ? scan.length !== 1 || verdict === 'none' : scan.length !== 0) {
              problem(`${file}: X-MDA-Scan fields ${JSON.stringify(scan)}`);
            }
            if (verdict !== 'none') scans[verdict] += 1;
            if (verdict === 'skipped') {
              // a spamd starved of CPU may run out of its 30 s: that mail is delivered unscanned and marked
              const why = /^spamd=skipped \(([\w-]+)\)$/.exec(scan[0]!)?.[1] ?? scan[0]!;
              skipReasons.set(why, (skipReasons.get(why) ?? 0) + 1);
              if (why !== 'timeout' && why !== 'circuit-open') problem(`${file}: ${scan[0]}`);
            }
            if ((f === '.Junk') !== (verdict === 'spam')) problem(`${file}: spamd=${verdict} but folder ${f || 'INBOX'}`);
            if (m.gtube && verdict === 'clean') problem(`${file}: GTUBE scanned clean`);
            if (!m.gtube && verdict === 'spam') problem(`${file}: ham scanned as spam`);
          }
        }
      }
    }

    // ------------------------------------------------ every Message-ID accounted for
    for (const [i, r] of results.entries()) {
      const where = stored.get(i) ?? [];
      const m = metas[i]!;
      if (r.code === 0) {
        if (where.length !== 1) problem(`delivery ${i} exited 0 but is stored ${where.length} times: ${where.map((w) => w.file).join(', ')}`);
        else if (where[0]!.user !== m.user) problem(`delivery ${i} for ${m.user} is stored in ${where[0]!.user}'s Maildir`);
      } else if (where.length !== 0) {
        problem(`delivery ${i} exited ${r.code} but is stored: ${where.map((w) => w.file).join(', ')}`);
      }
    }

    // ------------------------------------------------ quota accounting and limits
    for (const [k, u] of users.entries()) {
      const kind = kindOf(k);
      const md = maildirOf(u);
      const disk = onDisk.get(u)!;
      const mine = results.map((r, i) => ({ r, m: metas[i]! })).filter((x) => x.m.user === u);
      if (!existsSync(md)) {
        if (mine.length > 0) problem(`${u}: ${mine.length} deliveries but no Maildir`);
        continue;
      }
      const fresh = await scanMaildir(md);
      if (fresh.bytes !== disk.bytes || fresh.count !== disk.count) {
        problem(`${u}: scanMaildir ${fresh.bytes} B/${fresh.count} vs files ${disk.bytes} B/${disk.count}`);
      }
      const size = existsSync(join(md, 'maildirsize')) ? parseMaildirsize(readFileSync(join(md, 'maildirsize'))) : undefined;
      if (!size || 'corrupt' in size) problem(`${u} (${kind}): maildirsize ${size ? size.corrupt : 'missing'}`);
      else if (size.bytes !== disk.bytes || size.count !== disk.count) {
        problem(`${u} (${kind}): maildirsize says ${size.bytes} B/${size.count}, the folders hold ${disk.bytes} B/${disk.count}`);
      }
      const q = limits.get(u) ?? {};
      const refused = mine.filter((x) => x.r.code !== 0);
      if (q.storage !== undefined) {
        const cap = q.storage + (q.grace ?? 0);
        if (disk.bytes > cap) problem(`${u}: ${disk.bytes} B stored, over storage + grace = ${cap}`);
        // usage only grows, so each refusal must still be over the cap with the final usage;
        // mda adds its header fields (well under 2 KiB) before the check
        for (const x of refused) {
          const w = message(x.m);
          if (disk.bytes + w.head.length + w.rest.length + 2048 <= cap) problem(`${u}: delivery ${x.m.i} refused though it fit`);
        }
      }
      if (q.messages !== undefined) {
        if (disk.count > q.messages) problem(`${u}: ${disk.count} messages stored, limit ${q.messages}`);
        if (refused.length > 0 && disk.count !== q.messages) problem(`${u}: refused mail at ${disk.count} of ${q.messages} messages`);
      }
    }

    // ------------------------------------------------ no leftovers, no leaks
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]));
    leftovers.push(...walk(mail).filter((p) => /\.(lock|break)$/.test(p) || p.includes('.lock.')));
    if (leftovers.length > 0) problem(`left behind: ${leftovers.slice(0, 10).join(', ')}${leftovers.length > 10 ? ', …' : ''}`);
    if (fdBefore !== fdAfter) problem(`the test runner had ${fdBefore} fds before and ${fdAfter} after`);

    // ------------------------------------------------ one log line per delivery, agreeing with the exit
    const logged = new Map<number, { status: string; dsn: string; elapsed: number }[]>();
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      const x = /msgid=<soak-[0-9a-z]+-(\d+)@sender\.test> .*status=(\w+) dsn=([\d.]+) elapsed=([\d.]+)s/.exec(line);
      if (!x) continue;
      const list = logged.get(Number(x[1])) ?? [];
      list.push({ status: x[2]!, dsn: x[3]!, elapsed: Number(x[4]) * 1000 });
      logged.set(Number(x[1]), list);
    }
    const expectedDsn = (r: Result) => (r.code === 0 ? '2.0.0' : r.output.split(' ')[0]);
    for (const [i, r] of results.entries()) {
      const l = logged.get(i) ?? [];
      if (l.length !== 1 || l[0]!.dsn !== expectedDsn(r)) problem(`delivery ${i}: log lines ${JSON.stringify(l)} for exit ${r.code} ${r.output.trim()}`);
    }

    // ------------------------------------------------ the numbers
    const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
    const ms = sorted(results.map((r) => r.ms));
    const msSpamd = sorted(results.filter((_, i) => scanned(userIndex(metas[i]!.user))).map((r) => r.ms));
    const msPlain = sorted(results.filter((_, i) => !scanned(userIndex(metas[i]!.user))).map((r) => r.ms));
    const inner = [...logged.values()].flatMap((l) => l.map((x) => x.elapsed)).sort((a, b) => a - b);
    const count = (c: number) => results.filter((r) => r.code === c).length;
    const junk = [...stored.values()].filter((w) => w[0]?.folder === '.Junk').length;
    const s = (v: number) => `${(v / 1000).toFixed(3)} s`;
    const rows: [string, string][] = [
      ['deliveries', `${N} (${P} parallel senders, ${U} users, seed ${SEED})`],
      ['duration', s(wallMs)],
      ['throughput', `${((N * 1000) / wallMs).toFixed(1)} deliveries/s`],
      ['latency p50 / p99 / max', `${s(pct(ms, 50))} / ${s(pct(ms, 99))} / ${s(ms[ms.length - 1]!)}`],
      ['  without scanner p50 / p99', `${s(pct(msPlain, 50))} / ${s(pct(msPlain, 99))} (${msPlain.length})`],
      ['  with spamd p50 / p99', `${s(pct(msSpamd, 50))} / ${s(pct(msSpamd, 99))} (${msSpamd.length})`],
      ["mda's own elapsed p50 / p99", `${s(pct(inner, 50))} / ${s(pct(inner, 99))}`],
      ['exit 0 (of which Junk)', `${count(0)} (${junk})`],
      ['exit 77 5.2.2 / 75 4.2.2', `${count(77)} / ${count(75)}`],
      ['spamd spam / clean / skipped', `${scans.spam} / ${scans.clean} / ${scans.skipped}${scans.skipped ? ` ${JSON.stringify(Object.fromEntries(skipReasons))}` : ''}`],
      ['CPU s: mda / spamd / runner', `${cpu.mda.toFixed(1)} / ${cpu.spamd.toFixed(1)} / ${cpu.runner.toFixed(1)}`],
      ['CPU ms per delivery / per scan', `mda ${((cpu.mda * 1000) / N).toFixed(0)}, spamd ${((cpu.spamd * 1000) / Math.max(1, msSpamd.length)).toFixed(0)}`],
      ['duration if only CPU-bound', `${s(((cpu.mda + cpu.spamd + cpu.runner) * 1000) / availableParallelism())} (all CPU time / ${availableParallelism()} CPUs)`],
      ['runner fds before / after', `${fdBefore} / ${fdAfter}`],
      ['load average before / after', `${loadBefore.toFixed(1)} / ${loadAfter.toFixed(1)} (${availableParallelism()} CPUs)`],
    ];
    console.log(`\nmda soak\n${rows.map(([k, v]) => `  ${k.padEnd(30)} ${v}`).join('\n')}\n`);

    expect(problems).toEqual([]);
    // the run exercised what it claims to
    expect(count(0) + count(75) + count(77)).toBe(N);
    if (N >= 500) {
      expect(count(77), 'some mail bounced over quota').toBeGreaterThan(0);
      expect(count(75), 'some mail deferred over quota').toBeGreaterThan(0);
      expect(junk, 'some GTUBE went to Junk').toBeGreaterThan(0);
    }
    // spamd timeouts are not mda's fault (a loaded machine can starve spamd past its 30 s), but they must stay rare
    expect(scans.skipped, 'spamd scans that ran out of time').toBeLessThanOrEqual(Math.ceil(msSpamd.length * 0.02));
  });
});
