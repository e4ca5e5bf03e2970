/**
 * Issue 9 finding 5: a Maildir too big to count within one delivery. 200,000
 * messages without `,S=` (every one needs an lstat) and no maildirsize, with
 * `--deadline 1s`: the count must not run inside the commit lock past the
 * deadline. Each delivery counts within its budget, keeps its progress, ends
 * by itself (no SIGKILL, no lock or tmp/ file left), and repeated deliveries
 * converge on exact sums; sums not yet recounted never bounce a message.
 * The slowness is the filesystem's own (200,000 directory entries to lstat),
 * no delay hook. The files are hard links to a few seeds, which is much
 * faster to set up than 200,000 writes (ext4 allows 65,000 links per inode).
 */
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMaildirsize } from '../../src/quota/maildirsize.js';
import { scanMaildir } from '../../src/quota/scan.js';
import { QUIET_CONFIG, runMda, tempDir, type MdaResult } from '../helpers/run-mda.js';

const N = 200_000;
const SEEDS = 8;
const SIZE = 10;
/**
 * Ends by itself, long before the failure this replaces: a leftover commit lock made the next
 * delivery wait out the 10 s lock timeout. Not a speed goal (that is `npm run bench`): on a loaded
 * 2-core machine starting Node alone can take a second, so the bound leaves room for it. Running
 * past the deadline itself shows as the watchdog's SIGKILL, asserted separately.
 */
const BOUND_MS = 5_000;
/** Deliveries allowed to converge (each counts a budget's worth: ~10 on a quiet 2-core VM, 60+ under heavy load). */
const MAX_ROUNDS = 100;

let t: ReturnType<typeof tempDir>;
let md: string;
beforeAll(() => {
  t = tempDir('mda-bigmd-');
  md = join(t.dir, 'Maildir');
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(md, sub), { recursive: true });
  for (let s = 0; s < SEEDS; s++) writeFileSync(join(t.dir, `seed${s}`), 'x'.repeat(SIZE));
  // Postfix-style names (no ,S=): the count has to lstat every one.
  for (let i = 0; i < N; i++) linkSync(join(t.dir, `seed${i % SEEDS}`), join(md, 'cur', `1700000000.V801I${i.toString(16)}M${i}.postfix:2,S`));
}, 120_000);
afterAll(() => t.cleanup());

const MSG = 'From a@b  Sat Nov 21 23:21:04 2026\nSubject: big\n\nhello\n';
const deliver = (cfg: string): Promise<MdaResult> => runMda(['deliver', '--config', cfg, '--maildir', md, '--deadline', '1s'], { input: MSG });
const locksLeft = (): string[] => readdirSync(md).filter((f) => f.includes('.lock'));
const tmpLeft = (): string[] => readdirSync(join(md, 'tmp')).filter((f) => f !== 'mda-quota-scan');

/** deliverUntilCounted delivers until maildirsize exists, checking every run ends by itself in time and cleanly. */
async function deliverUntilCounted(cfg: string): Promise<MdaResult[]> {
  const runs: MdaResult[] = [];
  while (!existsSync(join(md, 'maildirsize'))) {
    if (runs.length >= MAX_ROUNDS) throw new Error(`no complete count after ${MAX_ROUNDS} deliveries`);
    const r = await deliver(cfg);
    runs.push(r);
    expect(r.signal).toBeNull(); // never SIGKILLed by its own watchdog
    expect(r.elapsedMs).toBeLessThan(BOUND_MS);
    expect(locksLeft()).toEqual([]);
    expect(tmpLeft()).toEqual([]);
  }
  return runs;
}

describe('a Maildir too big to count in one delivery (issue 9 finding 5)', () => {
  it('200,000 files without ,S=, no maildirsize, --deadline 1s: each delivery ends in time with no lock left, and the count converges', { timeout: 300_000 }, async () => {
    const cfg = join(t.dir, 'big.toml');
    writeFileSync(cfg, `${QUIET_CONFIG}[quota]\nstorage = "1G"\n`);
    const runs = await deliverUntilCounted(cfg);
    // Sums that could not be recounted in time may let a message in: all fit a 1G quota.
    for (const r of runs) expect([r.code, r.output]).toEqual([0, '']);
    expect(readdirSync(join(md, 'tmp'))).toEqual([]); // the progress file goes once the count completes
    const onDisk = parseMaildirsize(readFileSync(join(md, 'maildirsize')));
    const fresh = await scanMaildir(md);
    expect(fresh.count).toBe(N + runs.length);
    expect(onDisk).toMatchObject({ bytes: fresh.bytes, count: fresh.count });
  });

  it('sums not recounted in time never bounce: 0 or 4.2.2 until the count is complete, then 5.2.2', { timeout: 300_000 }, async () => {
    rmSync(join(md, 'maildirsize'), { force: true });
    rmSync(join(md, 'tmp', 'mda-quota-scan'), { force: true });
    const cfg = join(t.dir, 'small.toml');
    writeFileSync(cfg, `${QUIET_CONFIG}[quota]\nstorage = "1M"\n`); // the Maildir holds 2 MB
    const runs = await deliverUntilCounted(cfg);
    // The last run completed the count itself: its decision rests on fresh sums, so it may bounce.
    for (const r of runs.slice(0, -1)) {
      if (r.code === 0) expect(r.output).toBe('');
      else {
        expect(r.code).toBe(75);
        // 4.2.2 from the quota, or 4.4.7 when a loaded machine ran the 1 s deadline out first:
        // a deferral either way, which is what this asserts (never a bounce on untrusted sums).
        expect(r.output).toMatch(/^4\.(2\.2|4\.7) /);
      }
    }
    const after = await deliver(cfg); // a complete, fresh count: now the bounce is the truth
    expect(after.code).toBe(77);
    expect(after.output).toMatch(/^5\.2\.2 /);
    expect(after.elapsedMs).toBeLessThan(BOUND_MS);
    expect(locksLeft()).toEqual([]);
  });
});
