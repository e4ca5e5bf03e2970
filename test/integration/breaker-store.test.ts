/**
 * breaker-store.ts on a real filesystem: state shared between processes of
 * different users (as root: children running as nobody and as another uid),
 * created under a strict umask, and every way the store can be broken
 * (unreadable dir, garbage, a planted symlink or FIFO) ending as a closed
 * breaker, without a throw or a hang.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breakerFileName, CLOSED, encodeBreaker, RECORD_BYTES, type BreakerState } from '../../src/scanners/breaker.js';
import { readBreaker, writeBreaker } from '../../src/scanners/breaker-store.js';
import { tempDir } from '../helpers/run-mda.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const OTHER = 65533; // a second unprivileged uid; needs no passwd entry
const NOW = Date.now();
const st = (failures: number, openUntilMs = 0, lastLogMs = 0): BreakerState => ({ failures, openUntilMs, lastLogMs });

let t: ReturnType<typeof tempDir>;
let harness: string;

beforeAll(async () => {
  t = tempDir('mda-breaker-');
  chmodSync(t.dir, 0o755); // other users must reach the state dirs inside
  // The store as a standalone module, so children of other uids run the real code.
  const bundle = join(t.dir, 'store.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('../../src/scanners/breaker-store.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: bundle,
    logLevel: 'warning',
  });
  harness = join(t.dir, 'harness.mjs');
  writeFileSync(
    harness,
    `import { readBreaker, writeBreaker } from ${JSON.stringify(bundle)};
process.umask(0o077); // as Postfix runs mda
const [op, dir, key, json] = process.argv.slice(2);
if (op === 'write') await writeBreaker(dir, key, JSON.parse(json));
else process.stdout.write(JSON.stringify(await readBreaker(dir, key)));
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

describe('breaker store: shared state', () => {
  it('a missing file reads as closed, and reading creates nothing', async () => {
    const dir = join(t.dir, 'absent');
    expect(await readBreaker(dir, 'spamd')).toEqual(CLOSED);
    expect(existsSync(dir)).toBe(false);
  });

  it('write then read round-trips; the file is one fixed-width record', async () => {
    const dir = join(t.dir, 'roundtrip');
    await writeBreaker(dir, 'spamd', st(3, NOW + 60_000, NOW));
    expect(await readBreaker(dir, 'spamd')).toEqual(st(3, NOW + 60_000, NOW));
    const file = join(dir, breakerFileName('spamd'));
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
  });

  it.skipIf(!isRoot)('as root: nobody creates dir 1777 and file 0666 under umask 077; another uid updates it in place', async () => {
    const varTmp = join(t.dir, 'var-tmp'); // sticky and world-writable, like /var/tmp
    mkdirSync(varTmp);
    chmodSync(varTmp, 0o1777);
    const dir = join(varTmp, 'mda');
    as(NOBODY, 'write', dir, 'clamd', st(5, NOW + 60_000, NOW));
    expect(mode(dir)).toBe(0o1777);
    expect(statSync(dir).uid).toBe(NOBODY);
    const file = join(dir, breakerFileName('clamd'));
    expect(mode(file)).toBe(0o666);
    expect(statSync(file).uid).toBe(NOBODY);
    expect(as(OTHER, 'read', dir, 'clamd')).toEqual(st(5, NOW + 60_000, NOW));
    as(OTHER, 'write', dir, 'clamd', st(0, 0, NOW + 1));
    expect(statSync(file).uid).toBe(NOBODY); // in place, not replaced
    expect(await readBreaker(dir, 'clamd')).toEqual(st(0, 0, NOW + 1));
    as(OTHER, 'write', dir, 'spamd', st(1));
    expect(statSync(join(dir, breakerFileName('spamd'))).uid).toBe(OTHER);
    expect(as(NOBODY, 'read', dir, 'spamd')).toEqual(st(1));
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
  it.skipIf(!isRoot)('as root: a dir the user cannot read or write → closed, and writes are dropped', () => {
    const dir = join(t.dir, 'private');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, breakerFileName('spamd')), encodeBreaker(st(9, NOW + 60_000, 0)), { mode: 0o600 });
    expect(as(NOBODY, 'read', dir, 'spamd')).toEqual(CLOSED);
    as(NOBODY, 'write', dir, 'spamd', st(1));
    as(NOBODY, 'write', dir, 'other', st(1));
    expect(existsSync(join(dir, breakerFileName('other')))).toBe(false);
  });

  it.skipIf(!isRoot)("as root: another user's 0600 file → closed for everyone else", () => {
    const dir = join(t.dir, 'hijacked');
    mkdirSync(dir, { mode: 0o1777 });
    chmodSync(dir, 0o1777);
    as(OTHER, 'write', dir, 'spamd', st(2));
    chmodSync(join(dir, breakerFileName('spamd')), 0o600);
    expect(as(NOBODY, 'read', dir, 'spamd')).toEqual(CLOSED);
    as(NOBODY, 'write', dir, 'spamd', st(7));
    expect(as(OTHER, 'read', dir, 'spamd')).toEqual(st(2));
  });

  it('state_dir under a regular file (ENOTDIR) → closed; writing does not throw', async () => {
    const file = join(t.dir, 'plain-file');
    writeFileSync(file, 'x');
    await expect(writeBreaker(join(file, 'sub'), 'spamd', st(1))).resolves.toBeUndefined();
    expect(await readBreaker(join(file, 'sub'), 'spamd')).toEqual(CLOSED);
  });

  it('a missing parent is not created (only the state dir itself is)', async () => {
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
    mkdirSync(dir);
    writeFileSync(join(dir, breakerFileName('spamd')), content);
    expect(await readBreaker(dir, 'spamd')).toEqual(CLOSED);
    await writeBreaker(dir, 'spamd', st(4));
    expect(await readBreaker(dir, 'spamd')).toEqual(st(4));
  });

  it('a planted symlink is not followed: closed, and its target is untouched', async () => {
    const dir = join(t.dir, 'symlink');
    mkdirSync(dir);
    const target = join(t.dir, 'victim');
    writeFileSync(target, encodeBreaker(st(8, NOW + 60_000, 0)));
    symlinkSync(target, join(dir, breakerFileName('spamd')));
    expect(await readBreaker(dir, 'spamd')).toEqual(CLOSED);
    await writeBreaker(dir, 'spamd', st(1));
    expect(readFileSync(target, 'latin1')).toBe(encodeBreaker(st(8, NOW + 60_000, 0)));
    expect(lstatSync(join(dir, breakerFileName('spamd'))).isSymbolicLink()).toBe(true);
  });

  it('a planted FIFO does not hang reads or writes', async () => {
    const dir = join(t.dir, 'fifo');
    mkdirSync(dir);
    execFileSync('mkfifo', [join(dir, breakerFileName('spamd'))]);
    const started = performance.now();
    expect(await readBreaker(dir, 'spamd')).toEqual(CLOSED);
    await writeBreaker(dir, 'spamd', st(1));
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('a directory in place of the file → closed', async () => {
    const dir = join(t.dir, 'dirfile');
    mkdirSync(join(dir, breakerFileName('spamd')), { recursive: true });
    await writeBreaker(dir, 'spamd', st(1));
    expect(await readBreaker(dir, 'spamd')).toEqual(CLOSED);
  });
});
