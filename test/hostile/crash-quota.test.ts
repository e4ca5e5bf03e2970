/**
 * Crash consistency with a quota: MDA_CRASH_RUNS (default 1,000) deliveries,
 * PARALLEL at a time, each SIGKILLed at a random moment biased toward the end
 * of a delivery (commit, maildirsize append, lock release), then checks: every
 * message is stored whole exactly once or its process did not exit 0; stale
 * locks are taken over by later deliveries; `mda quota recalc` restores exact
 * accounting; abandoned tmp/ files older than 36 h are removed by a later
 * delivery while fresh ones stay. MDA_KILL_SEED replays a run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanTmpQuietly } from '../../src/maildir/tmp-cleanup.js';
import { parseMaildirsize } from '../../src/quota/maildirsize.js';
import { scanMaildir } from '../../src/quota/store.js';
import { MDA, QUIET_CONFIG, listDir, runMda, tempDir, type MdaResult } from '../helpers/run-mda.js';

const RUNS = Number(process.env.MDA_CRASH_RUNS ?? 1000);
const PARALLEL = Number(process.env.MDA_CRASH_PARALLEL ?? 5);
const SEED = Number(process.env.MDA_KILL_SEED ?? 4242);
const HOUR = 3_600_000;
// stale = 1s (the minimum): a lock left by a killed delivery blocks the mailbox for a second, not a minute.
const CONFIG = QUIET_CONFIG + '[quota]\nstorage = "1G"\nmessages = 1000000\n[locks]\ntimeout = "30s"\nstale = "1s"\n';

let t: ReturnType<typeof tempDir>;
let md: string;
let cfg: string;
beforeAll(() => {
  t = tempDir('mda-crash-');
  md = join(t.dir, 'Maildir');
  cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, CONFIG);
});
afterAll(() => t.cleanup());

/** Deterministic pseudo-random numbers so a failure can be replayed (MDA_KILL_SEED). */
function rng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

const FROM_ = Buffer.from('From a@b  Sat Nov 21 23:21:04 2026\n');
const deliver = (msg: Buffer, maildir = md) => runMda(['deliver', '--config', cfg, '--maildir', maildir], { input: Buffer.concat([FROM_, msg]), hardTimeoutMs: 60_000 });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const lockFiles = () => readdirSync(md).filter((f) => f.endsWith('.lock'));
const breakGuards = () => readdirSync(md).filter((f) => f.endsWith('.lock.break'));
const usageOnDisk = () => parseMaildirsize(readFileSync(join(md, 'maildirsize')));

/** Runs jobs PARALLEL at a time. */
async function pool<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

function makeMessage(i: number, rand: () => number): Buffer {
  // mostly small mail, some up to 300 KB so that kills also land while spooling
  const size = rand() < 0.8 ? 200 + Math.floor(rand() * 4000) : 20_000 + Math.floor(rand() * 280_000);
  return Buffer.concat([Buffer.from(`Message-ID: <crash-${i}@mda.test>\nSubject: c${i}\n\n`), Buffer.alloc(size, 0x61 + (i % 26)), Buffer.from('\n')]);
}

interface Job {
  id: string;
  msg: Buffer;
  killAfterMs: number;
  result?: MdaResult;
}

describe('SIGKILL at random moments, with a quota', () => {
  const stats: Record<string, number | string> = {};
  const jobs: Job[] = [];

  it(`${RUNS} killed deliveries (parallel ${PARALLEL}): every message whole and at most once, every exit 0 stored`, { timeout: Math.max(300_000, RUNS * 600) }, async () => {
    const started = performance.now();
    // 1. How long does a delivery take here, under this parallelism? Kill times are scaled to it.
    const rand = rng(SEED);
    const calib: number[] = [];
    await pool(Array.from({ length: PARALLEL * 3 }, (_, i) => i), async (i) => {
      const r = await deliver(makeMessage(-1 - i, rand), join(t.dir, 'Calibration'));
      expect(r.code, r.output).toBe(0);
      calib.push(r.elapsedMs);
    });
    const typical = median(calib);
    stats.typicalDeliveryMs = Math.round(typical);

    // 2. Kill times: 15% early (startup, spooling), 70% around the end of a delivery
    //    (commit, maildirsize append, lock release, exit), 15% late (most survive).
    for (let i = 0; i < RUNS; i++) {
      const r = rand();
      const at = r < 0.15 ? rand() * 0.6 : r < 0.85 ? 0.6 + rand() * 0.6 : 1.2 + rand() * 1.3;
      jobs.push({ id: `<crash-${i}@mda.test>`, msg: makeMessage(i, rand), killAfterMs: Math.floor(at * typical) });
    }
    await pool(jobs, async (job) => {
      job.result = await runMda(['deliver', '--config', cfg, '--maildir', md], {
        input: Buffer.concat([FROM_, job.msg]),
        hardTimeoutMs: 60_000,
        onSpawn: (child) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), job.killAfterMs);
          child.on('exit', () => clearTimeout(timer));
        },
      });
    });
    stats.killPhaseSeconds = Math.round((performance.now() - started) / 1000);

    // 3. Every stored file is one whole message, stored once; every exit 0 is stored.
    const byId = new Map(jobs.map((j) => [j.id, j]));
    const seen = new Map<string, number>();
    for (const dir of ['new', 'cur']) {
      for (const name of listDir(join(md, dir))) {
        const bytes = readFileSync(join(md, dir, name));
        const id = /^Message-ID: (\S+)/.exec(bytes.toString('latin1'))?.[1] ?? '(none)';
        const job = byId.get(id);
        expect(job, `unknown or truncated file ${name}`).toBeDefined();
        expect(bytes.equals(job!.msg), `partial message ${name}`).toBe(true);
        expect(name.endsWith(`,S=${bytes.length}`), name).toBe(true);
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
    }
    for (const [id, n] of seen) expect(n, `${id} stored ${n} times`).toBe(1);
    for (const job of jobs) {
      const r = job.result!;
      // killed, or a clean exit 0: nothing else (no 75 from a lock left by a killed process, no crash)
      if (r.code !== 0) expect(r.signal, `${job.id}: exit ${r.code}: ${r.output}`).toBe('SIGKILL');
      else expect(seen.get(job.id), `${job.id} exited 0 but is not stored`).toBe(1);
    }
    const ok = jobs.filter((j) => j.result!.code === 0).length;
    const killedAfterLink = jobs.filter((j) => j.result!.code !== 0 && seen.has(j.id)).length;
    Object.assign(stats, { exit0: ok, killed: RUNS - ok, killedAfterLink, storedTotal: seen.size });
    // Meaningful only if both kinds of run happened, and some kills landed inside
    // the commit (after the link, before exit 0); a tiny MDA_CRASH_RUNS may miss that.
    if (RUNS >= 50) {
      expect(ok).toBeGreaterThan(0);
      expect(ok).toBeLessThan(RUNS);
    }
    if (RUNS >= 200) expect(killedAfterLink).toBeGreaterThan(0);
  });

  it('stale locks left by killed deliveries are taken over by later deliveries', { timeout: 60_000 }, async () => {
    expect(jobs.length, 'needs the kill phase').toBe(RUNS);
    stats.locksLeftByKills = lockFiles().join(' ') || 'none';
    stats.breakGuardsLeftByKills = breakGuards().length;
    // Make sure the case is tested even if no kill happened to leave one behind:
    // a lock of a dead process (pid 2^22 + 1 is above pid_max's maximum).
    if (!lockFiles().includes('mda-commit.lock')) writeFileSync(join(md, 'mda-commit.lock'), `4194305 ${'crashed'} ${Date.now()}\n`);
    await new Promise((r) => setTimeout(r, 1_100)); // older than [locks] stale = 1s
    for (let i = 0; i < 5; i++) {
      const r = await deliver(Buffer.from(`Message-ID: <after-${i}@mda.test>\n\nafter\n`));
      expect(r.code, r.output).toBe(0);
      expect(r.elapsedMs).toBeLessThan(10_000); // not the 30s lock timeout
    }
    expect(lockFiles()).not.toContain('mda-commit.lock');
  });

  it('`mda quota recalc --maildir-glob` restores exact accounting (maildirsize equals a fresh scan)', { timeout: 60_000 }, async () => {
    const before = usageOnDisk();
    const fresh = await scanMaildir(md);
    stats.maildirsizeBeforeRecalc = 'corrupt' in before ? before.corrupt : `${before.bytes}B/${before.count} (scan: ${fresh.bytes}B/${fresh.count})`;
    const r = await quota(['recalc', '--config', cfg, '--maildir-glob', md]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^\\S+ ${fresh.bytes} ${fresh.count}\\n$`));
    expect(usageOnDisk()).toMatchObject({ bytes: fresh.bytes, count: fresh.count });
    expect(fresh.count).toBe(listDir(join(md, 'new')).length + listDir(join(md, 'cur')).length);
    // recalc took (and so recovered) the recalc lock; no lock of any kind is left now
    expect(lockFiles()).toEqual([]);
    stats.breakGuardsLeftAtEnd = breakGuards().length;
  });

  it('tmp/ files older than 36 h are removed by a later delivery, fresh ones and directories stay; then no scan for 8 h', { timeout: 60_000 }, async () => {
    const tmp = join(md, 'tmp');
    const leftovers = listDir(tmp);
    stats.tmpFilesLeftByKills = leftovers.length;
    const old = (Date.now() - 37 * HOUR) / 1000;
    // Files killed deliveries left (spool files, maildirsize rebuilds), plus our own, all 37 hours old.
    for (const i of [1, 2]) writeFileSync(join(tmp, `old-${i}`), 'abandoned');
    const abandoned = [...leftovers, 'old-1', 'old-2'];
    for (const f of abandoned) utimesSync(join(tmp, f), old, old);
    mkdirSync(join(tmp, 'old-dir'));
    utimesSync(join(tmp, 'old-dir'), old, old);
    const fresh = ['fresh-1', 'fresh-2', 'fresh-3'];
    for (const f of fresh) writeFileSync(join(tmp, f), 'in progress');
    // The last scan of tmp/ (its atime) was 9 hours ago: this delivery scans.
    utimesSync(tmp, (Date.now() - 9 * HOUR) / 1000, statSync(tmp).mtimeMs / 1000);
    const r = await deliver(Buffer.from('Message-ID: <cleanup@mda.test>\n\ncleanup\n'));
    expect(r.code, r.output).toBe(0);
    expect(listDir(tmp).sort()).toEqual([...fresh, 'old-dir'].sort());
    expect(Date.now() - statSync(tmp).atimeMs).toBeLessThan(60_000); // the scan is recorded

    // The next delivery only stat()s tmp/: a file that is old now stays until the next scan is due.
    writeFileSync(join(tmp, 'old-3'), 'abandoned');
    utimesSync(join(tmp, 'old-3'), old, old);
    expect((await deliver(Buffer.from('Message-ID: <no-scan@mda.test>\n\nx\n'))).code).toBe(0);
    expect(listDir(tmp)).toContain('old-3');
    console.log(`crash-quota (seed ${SEED}): ${JSON.stringify(stats)}`);
  });
});

describe('tmp/ cleanup never fails a delivery', () => {
  it('an I/O error (no tmp/ at all) is logged as a warning and swallowed', async () => {
    const said: string[] = [];
    const logger = { info: (m: string) => said.push(m), warn: (m: string) => said.push(m), error: (m: string) => said.push(m), flush: async () => undefined, dropped: 0 };
    await expect(cleanTmpQuietly(join(tmpdir(), 'mda-no-such-maildir'), logger)).resolves.toBeUndefined();
    expect(said).toEqual([expect.stringMatching(/^tmp\/ cleanup in .* failed: ENOENT/)]);
  });
});

function quota(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MDA, 'quota', ...args], { env: { PATH: process.env.PATH, HOME: t.dir, USER: process.env.USER ?? 'root' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
