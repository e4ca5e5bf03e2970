/**
 * breaker-file-store.ts on a real filesystem: each uid's breakers in its own
 * directory (as root: children running as nobody and as another uid), created
 * under a strict umask, and every way the store can be broken (unreadable dir,
 * garbage, a planted symlink or FIFO, foreign owners) ending as a closed
 * breaker, without a throw or a hang. The attacks of one user on another's
 * deliveries are in test/hostile/breaker-state.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breakerFileName, CLOSED, encodeBreaker, RECORD_BYTES, type BreakerState } from '../../src/scanners/breaker.js';
import { fileBreakerStore } from '../../src/scanners/breaker-file-store.js';
import { breakerDirName } from '../../src/scanners/breaker-trust.js';
import { tempDir } from '../helpers/run-mda.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const OTHER = 65533; // a second unprivileged uid; needs no passwd entry
const NOW = Date.now();
const st = (failures: number, openUntilMs = 0, lastLogMs = 0): BreakerState => ({ failures, openUntilMs, lastLogMs });
const ME = process.geteuid!();
/** The store as this process's deliveries use it. */
const readBreaker = (dir: string, key: string) => fileBreakerStore(dir, ME).read(key);
const writeBreaker = (dir: string, key: string, s: BreakerState) => fileBreakerStore(dir, ME).write(key, s);
/** The file of `key` for `uid` under state_dir `dir`. */
const fileOf = (dir: string, key: string, uid = ME) => join(dir, breakerDirName(uid), breakerFileName(key));
const own = (dir: string, uid = ME) => join(dir, breakerDirName(uid));

let t: ReturnType<typeof tempDir>;
let harness: string;

beforeAll(async () => {
  t = tempDir('mda-breaker-');
  chmodSync(t.dir, 0o755); // other users must reach the state dirs inside
  // The store as a standalone module, so children of other uids run the real code.
  const bundle = join(t.dir, 'store.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('../../src/scanners/breaker-file-store.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: bundle,
    logLevel: 'warning',
  });
  harness = join(t.dir, 'harness.mjs');
  writeFileSync(
    harness,
    `import { fileBreakerStore } from ${JSON.stringify(bundle)};
process.umask(0o077); // as Postfix runs mda
const [op, dir, key, json] = process.argv.slice(2);
const store = fileBreakerStore(dir, process.geteuid());
if (op === 'write') await store.write(key, JSON.parse(json));
else process.stdout.write(JSON.stringify(await store.read(key)));
`,
  );
  chmodSync(bundle, 0o644);
  chmodSync(harness, 0o644);
});

afterAll(() => t.cleanup());

/** as runs the store in a child process as `uid` (the current user when undefined). */
function as(uid: number | undefined, op: 'read' | 'write', dir: string, key: string, state?: BreakerState): BreakerState | undefined {
  const r = spawnSync(process.execPath, [harness, op, dir, key, JSON.stringify(state ?? null)], {
    ...(uid === undefined ? {} : { uid, gid: uid }),
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (r.status !== 0) throw new Error(`harness ${op} as ${uid} failed: ${r.stderr}`);
  return op === 'read' ? (JSON.parse(r.stdout) as BreakerState) : undefined;
}

const mode = (p: string): number => statSync(p).mode & 0o7777;

describe('breaker store: per-uid state', () => {
  it('a missing file reads as closed, and reading creates nothing', async () => {
    const dir = join(t.dir, 'absent');
    expect(await readBreaker(dir, 'spamd')).toEqual(CLOSED);
    expect(existsSync(dir)).toBe(false);
  });

  it('write then read round-trips; the file is one fixed-width record in the uid\'s directory', async () => {
    const dir = join(t.dir, 'roundtrip');
    await writeBreaker(dir, 'spamd', st(3, NOW + 60_000, NOW));
    expect(await readBreaker(dir, 'spamd')).toEqual(st(3, NOW + 60_000, NOW));
    const file = fileOf(dir, 'spamd');
    expect(readFileSync(file, 'latin1')).toBe(encodeBreaker(st(3, NOW + 60_000, NOW)));
    // Updated in place: still one record, same inode.
    const ino = statSync(file).ino;
    await writeBreaker(dir, 'spamd', st(0));
    expect(statSync(file).ino).toBe(ino);
    expect(statSync(file).size).toBe(RECORD_BYTES);
    expect(await readBreaker(dir, 'spamd')).toEqual(CLOSED);
  });

  it('keys are kept apart, including keys with slashes and dots', async () => {
    const dir = join(t.dir, 'keys');
    const keys = ['spamd', '127.0.0.1:783', '/run/clamav/clamd.ctl', '..', 'a/../../escape'];
    for (const [i, k] of keys.entries()) await writeBreaker(dir, k, st(i + 1));
    for (const [i, k] of keys.entries()) expect(await readBreaker(dir, k)).toEqual(st(i + 1));
    expect(existsSync(join(t.dir, 'escape.breaker'))).toBe(false);
    expect(existsSync(join(dir, 'escape.breaker'))).toBe(false);
  });

  it.skipIf(!isRoot)('as root: nobody creates state_dir 1777, its own dir 0700 and file 0600 under umask 077; another uid has its own', async () => {
    const varTmp = join(t.dir, 'var-tmp'); // sticky and world-writable, like /var/tmp
    mkdirSync(varTmp);
    chmodSync(varTmp, 0o1777);
    const dir = join(varTmp, 'mda');
    as(NOBODY, 'write', dir, 'clamd', st(5, NOW + 60_000, NOW));
    expect(mode(dir)).toBe(0o1777);
    expect(statSync(dir).uid).toBe(NOBODY);
    expect(mode(own(dir, NOBODY))).toBe(0o700);
    expect(statSync(own(dir, NOBODY)).uid).toBe(NOBODY);
    const file = fileOf(dir, 'clamd', NOBODY);
    expect(mode(file)).toBe(0o600);
    expect(statSync(file).uid).toBe(NOBODY);
    expect(as(NOBODY, 'read', dir, 'clamd')).toEqual(st(5, NOW + 60_000, NOW));
    // state_dir is nobody's (it made it), so OTHER does not trust it: no breakers, nothing written.
    expect(as(OTHER, 'read', dir, 'clamd')).toEqual(CLOSED);
    as(OTHER, 'write', dir, 'clamd', st(1));
    expect(existsSync(own(dir, OTHER))).toBe(false);
    // A root-owned state_dir (as an admin makes it) serves both, each with its own state.
    const shared = join(varTmp, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    as(NOBODY, 'write', shared, 'clamd', st(5, NOW + 60_000, NOW));
    as(OTHER, 'write', shared, 'clamd', st(2));
    expect(as(NOBODY, 'read', shared, 'clamd')).toEqual(st(5, NOW + 60_000, NOW));
    expect(as(OTHER, 'read', shared, 'clamd')).toEqual(st(2));
    expect(statSync(fileOf(shared, 'clamd', OTHER)).uid).toBe(OTHER);
    await expect(fileBreakerStore(shared, NOBODY).read('clamd')).resolves.toEqual(st(5, NOW + 60_000, NOW)); // root reads a uid's state (scanners check --user)
  });

  it('concurrent writers and readers: every read is a written state or closed', async () => {
    const dir = join(t.dir, 'race');
    const states = [st(1, NOW, 1), st(22, NOW + 5, 22), st(333, NOW + 9, 333)];
    const writers = states.map(async (s) => {
      for (let i = 0; i < 100; i++) await writeBreaker(dir, 'race', s);
    });
    const seen: BreakerState[] = [];
    const reader = (async () => {
      for (let i = 0; i < 200; i++) seen.push(await readBreaker(dir, 'race'));
    })();
    await Promise.all([...writers, reader]);
    const allowed = [CLOSED, ...states].map((s) => JSON.stringify(s));
    for (const s of seen) expect(allowed).toContain(JSON.stringify(s));
  });
});

describe('breaker store: broken stores disable the breaker', () => {
  it.skipIf(!isRoot)('as root: a state_dir the user cannot read or write → closed, and writes are dropped', () => {
    const dir = join(t.dir, 'private');
    mkdirSync(dir, { mode: 0o700 });
    mkdirSync(own(dir, NOBODY), { mode: 0o700 });
    chownSync(own(dir, NOBODY), NOBODY, NOBODY);
    writeFileSync(fileOf(dir, 'spamd', NOBODY), encodeBreaker(st(9, NOW + 60_000, 0)), { mode: 0o600 });
    chownSync(fileOf(dir, 'spamd', NOBODY), NOBODY, NOBODY);
    expect(as(NOBODY, 'read', dir, 'spamd')).toEqual(CLOSED);
    as(NOBODY, 'write', dir, 'other', st(1));
    expect(existsSync(fileOf(dir, 'other', NOBODY))).toBe(false);
  });

  it.skipIf(!isRoot)("as root: a uid's entries owned by someone else, or writable by others → closed, never written", async () => {
    const dir = join(t.dir, 'foreign');
    mkdirSync(dir, { mode: 0o1777 });
    chmodSync(dir, 0o1777);
    as(NOBODY, 'write', dir, 'spamd', st(2));
    const file = fileOf(dir, 'spamd', NOBODY);
    chownSync(file, OTHER, OTHER); // a file nobody did not write
    expect(as(NOBODY, 'read', dir, 'spamd')).toEqual(CLOSED);
    as(NOBODY, 'write', dir, 'spamd', st(7));
    expect(readFileSync(file, 'latin1')).toBe(encodeBreaker(st(2)));
    chownSync(file, NOBODY, NOBODY);
    chmodSync(file, 0o620); // group-writable
    expect(as(NOBODY, 'read', dir, 'spamd')).toEqual(CLOSED);
    chmodSync(file, 0o600);
    chmodSync(own(dir, NOBODY), 0o777); // the directory writable by others
    expect(as(NOBODY, 'read', dir, 'spamd')).toEqual(CLOSED);
    chmodSync(own(dir, NOBODY), 0o700);
    expect(as(NOBODY, 'read', dir, 'spamd')).toEqual(st(2));
    // Root made nobody's file: root's is not nobody's state either.
    expect(await fileBreakerStore(dir, OTHER).read('spamd')).toEqual(CLOSED);
  });

  it('state_dir under a regular file (ENOTDIR) → closed; writing does not throw', async () => {
    const file = join(t.dir, 'plain-file');
    writeFileSync(file, 'x');
    await expect(writeBreaker(join(file, 'sub'), 'spamd', st(1))).resolves.toBeUndefined();
    expect(await readBreaker(join(file, 'sub'), 'spamd')).toEqual(CLOSED);
  });

  it('a missing parent is not created (only the state dir and the uid\'s dir are)', async () => {
    const dir = join(t.dir, 'no', 'such', 'parent');
    await writeBreaker(dir, 'spamd', st(1));
    expect(existsSync(join(t.dir, 'no'))).toBe(false);
    expect(await readBreaker(dir, 'spamd')).toEqual(CLOSED);
  });

  it.each([
    ['garbage', 'this is not a breaker record at all, but it is long enough\n'],
    ['empty', ''],
    ['torn record', encodeBreaker(st(3, NOW + 60_000, NOW)).slice(0, 25)],
  ])('a %s file → closed; the next write repairs it', async (name, content) => {
    const dir = join(t.dir, `bad-${name.replace(/ /g, '-')}`);
    mkdirSync(own(dir), { recursive: true, mode: 0o700 });
    writeFileSync(fileOf(dir, 'spamd'), content, { mode: 0o600 });
    expect(await readBreaker(dir, 'spamd')).toEqual(CLOSED);
    await writeBreaker(dir, 'spamd', st(4));
    expect(await readBreaker(dir, 'spamd')).toEqual(st(4));
  });

  it('a planted symlink is not followed: closed, and its target is untouched', async () => {
    const dir = join(t.dir, 'symlink');
    mkdirSync(own(dir), { recursive: true, mode: 0o700 });
    const target = join(t.dir, 'victim');
    writeFileSync(target, encodeBreaker(st(8, NOW + 60_000, 0)), { mode: 0o600 });
    symlinkSync(target, fileOf(dir, 'spamd'));
    expect(await readBreaker(dir, 'spamd')).toEqual(CLOSED);
    await writeBreaker(dir, 'spamd', st(1));
    expect(readFileSync(target, 'latin1')).toBe(encodeBreaker(st(8, NOW + 60_000, 0)));
    expect(lstatSync(fileOf(dir, 'spamd')).isSymbolicLink()).toBe(true);
  });

  it("the uid's directory as a planted symlink is not followed: closed, and the target dir is untouched", async () => {
    const dir = join(t.dir, 'dirlink');
    mkdirSync(dir, { mode: 0o755 });
    const target = join(t.dir, 'elsewhere');
    mkdirSync(target, { mode: 0o700 });
    writeFileSync(join(target, breakerFileName('spamd')), encodeBreaker(st(8, NOW + 60_000, 0)), { mode: 0o600 });
    symlinkSync(target, own(dir));
    expect(await readBreaker(dir, 'spamd')).toEqual(CLOSED);
    await writeBreaker(dir, 'spamd', st(1));
    await writeBreaker(dir, 'other', st(1));
    expect(readFileSync(join(target, breakerFileName('spamd')), 'latin1')).toBe(encodeBreaker(st(8, NOW + 60_000, 0)));
    expect(existsSync(join(target, breakerFileName('other')))).toBe(false);
  });

  it('a planted FIFO does not hang reads or writes', async () => {
    const dir = join(t.dir, 'fifo');
    mkdirSync(own(dir), { recursive: true, mode: 0o700 });
    execFileSync('mkfifo', [fileOf(dir, 'spamd')]);
    const started = performance.now();
    expect(await readBreaker(dir, 'spamd')).toEqual(CLOSED);
    await writeBreaker(dir, 'spamd', st(1));
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('a directory in place of the file → closed', async () => {
    const dir = join(t.dir, 'dirfile');
    mkdirSync(fileOf(dir, 'spamd'), { recursive: true, mode: 0o700 });
    await writeBreaker(dir, 'spamd', st(1));
    expect(await readBreaker(dir, 'spamd')).toEqual(CLOSED);
  });
});
