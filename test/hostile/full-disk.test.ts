/**
 * A full disk under the Maildir, on a real tmpfs of 2 MB and 64 inodes: out of
 * space mid-message, out of inodes, out of space for the commit lock, a
 * read-only remount. Every case must defer (75, 4.x), leave nothing in new/ or
 * tmp/, leave maildirsize byte-for-byte alone, and leave no lock behind.
 * Needs root (mount); skipped loudly otherwise.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUIET_CONFIG, listDir, runMda, tempDir } from '../helpers/run-mda.js';
import { fillInodes, fillSpace, freeBytes, freeInodes, mountTmpfs, probeTmpfs, remount, unmount, warnSkipped } from './mounts.js';

const FILE = 'test/hostile/full-disk.test.ts';
const probeDir = mkdtempSync(join(tmpdir(), 'mda-probe-'));
const skipReason = probeTmpfs(probeDir);
rmSync(probeDir, { recursive: true, force: true });
if (skipReason) warnSkipped(FILE, skipReason);

const PAGE = 4096; // tmpfs allocates whole pages; statfs reports bsize = PAGE_SIZE
const QUOTA = '[quota]\nstorage = "100M"\nmessages = 1000\n[locks]\ntimeout = "3s"\n';

let t: ReturnType<typeof tempDir>;
let fsDir: string;
let md: string;
let cfg: string;
beforeEach(() => {
  if (skipReason) return;
  t = tempDir('mda-hostile-');
  fsDir = join(t.dir, 'fs');
  mountTmpfs(fsDir, '2m', 64);
  md = join(fsDir, 'Maildir');
  cfg = join(t.dir, 'mda.toml'); // the config lives off the small filesystem
  writeFileSync(cfg, QUIET_CONFIG + QUOTA);
});
afterEach(() => {
  if (skipReason) return;
  unmount(fsDir);
  t.cleanup();
});

/** A message of exactly `size` bytes (no From_ line: stored bytes = input bytes). */
function message(id: string, size: number): Buffer {
  const head = Buffer.from(`Message-ID: <${id}@hostile.test>\nSubject: ${id}\n\n`);
  if (size < head.length + 1) throw new Error(`message ${id}: ${size} bytes is too small`);
  return Buffer.concat([head, Buffer.alloc(size - head.length - 1, 0x61), Buffer.from('\n')]);
}
const deliver = (input: Buffer) => runMda(['deliver', '--config', cfg, '--maildir', md], { input, hardTimeoutMs: 20_000 });

interface Snapshot {
  new: string[];
  cur: string[];
  tmp: string[];
  locks: string[];
  maildirsize: string | null;
}
function snapshot(): Snapshot {
  return {
    new: listDir(join(md, 'new')).sort(),
    cur: listDir(join(md, 'cur')).sort(),
    tmp: listDir(join(md, 'tmp')).sort(),
    locks: readdirSync(md).filter((f) => f.includes('.lock')),
    maildirsize: existsSync(join(md, 'maildirsize')) ? readFileSync(join(md, 'maildirsize'), 'latin1') : null,
  };
}

/** One small delivery so the Maildir and its maildirsize exist; returns the state to compare against. */
async function primed(): Promise<Snapshot> {
  const r = await deliver(message('first', 300));
  expect(r.code, r.output).toBe(0);
  const s = snapshot();
  expect(s.maildirsize).toMatch(/^104857600S,1000C\n/);
  expect(s.tmp).toEqual([]);
  return s;
}

function expectDeferred(r: { code: number | null; signal: string | null; output: string }, dsn: RegExp): void {
  expect(r.signal, r.output).toBeNull(); // never killed, never a crash
  expect(r.code, r.output).toBe(75);
  expect(r.output).toMatch(dsn);
  expect(r.output.trim().split('\n')).toHaveLength(1); // the one DSN line, nothing else
}

describe.skipIf(skipReason !== null)('full disk under the Maildir (tmpfs size=2m, nr_inodes=64)', () => {
  it('a message larger than the free space: 75 4.3.1 mid-message, nothing kept, maildirsize unchanged, space given back', async () => {
    const before = await primed();
    const free = freeBytes(fsDir);
    const r = await deliver(message('big', 3 * 1024 * 1024));
    expectDeferred(r, /^4\.3\.1 mail system full: .*ENOSPC/);
    expect(snapshot()).toEqual(before);
    expect(freeBytes(fsDir)).toBe(free); // the partial tmp file is gone, not just hidden
  });

  it('inode table full: 75 4.3.1 before a byte is written; delivers again once inodes are free', async () => {
    const before = await primed();
    const filler = join(fsDir, 'filler');
    expect(fillInodes(filler)).toBeGreaterThan(0);
    expect(freeInodes(fsDir)).toBe(0);
    const r = await deliver(message('no-inode', 500));
    expectDeferred(r, /^4\.3\.1 mail system full: .*ENOSPC/);
    expect(snapshot()).toEqual(before);
    rmSync(filler, { recursive: true });
    expect((await deliver(message('after', 500))).code).toBe(0);
  });

  it('one inode left: the message takes it, the commit lock cannot be created: 75 4.3.1, tmp/ empty, no lock left', async () => {
    const before = await primed();
    const filler = join(fsDir, 'filler');
    fillInodes(filler);
    unlinkSync(join(filler, 'f0'));
    expect(freeInodes(fsDir)).toBe(1);
    const r = await deliver(message('last-inode', 500));
    expectDeferred(r, /^4\.3\.1 mail system full: .*ENOSPC/);
    expect(snapshot()).toEqual(before);
  });

  it('read-only filesystem (remount,ro): 75 4.3.0 (EROFS), nothing changed; delivers again once writable', async () => {
    const before = await primed();
    remount(fsDir, 'ro');
    try {
      const r = await deliver(message('ro', 500));
      expectDeferred(r, /^4\.3\.0 I\/O error: .*EROFS/);
      expect(snapshot()).toEqual(before);
    } finally {
      remount(fsDir, 'rw');
    }
    expect((await deliver(message('rw-again', 500))).code).toBe(0);
  });

  it('without a quota: a message of exactly the free space is stored whole; a small one after it defers cleanly', async () => {
    writeFileSync(cfg, QUIET_CONFIG);
    expect((await deliver(message('first', 300))).code).toBe(0);
    const free = freeBytes(fsDir);
    const exact = message('exact', free);
    const r = await deliver(exact);
    expect(r.code, r.output).toBe(0);
    expect(freeBytes(fsDir)).toBe(0);
    const stored = listDir(join(md, 'new')).filter((n) => n.endsWith(`,S=${free}`));
    expect(stored).toHaveLength(1);
    expect(readFileSync(join(md, 'new', stored[0]!)).equals(exact)).toBe(true);

    const before = snapshot();
    const small = await deliver(message('small', 200));
    expectDeferred(small, /^4\.3\.1 mail system full: .*ENOSPC/);
    expect(snapshot()).toEqual(before);
  });

  it('with a quota the commit lock needs a page too: exactly the free space defers 4.3.1 with no lock left; one page less is stored; then a small one defers; an expunge makes room at once', async () => {
    const primedState = await primed();
    const free = freeBytes(fsDir);
    // The lock file's pid line needs the last page: deferred at the lock, and the
    // empty lock file must not stay behind (it would hold the mailbox until stale).
    const tooBig = await deliver(message('exact', free));
    expectDeferred(tooBig, /^4\.3\.1 mail system full: .*ENOSPC/);
    expect(snapshot()).toEqual(primedState);

    const fits = message('fits', free - PAGE);
    const r = await deliver(fits);
    expect(r.code, r.output).toBe(0);
    const stored = listDir(join(md, 'new')).find((n) => n.endsWith(`,S=${fits.length}`));
    expect(stored).toBeDefined();
    expect(readFileSync(join(md, 'new', stored!)).equals(fits)).toBe(true);
    const full = snapshot();
    expect(full.maildirsize).toBe(`${primedState.maildirsize}${fits.length} 1\n`);
    expect(full.locks).toEqual([]);

    const small = await deliver(message('small', 200));
    expectDeferred(small, /^4\.3\.1 mail system full: .*ENOSPC/);
    expect(snapshot()).toEqual(full);

    unlinkSync(join(md, 'new', stored!)); // the user expunges the big one
    const after = await deliver(message('after-expunge', 200));
    expect(after.code, after.output).toBe(0);
    expect(after.elapsedMs).toBeLessThan(3_000); // not stuck behind a leftover lock ([locks] timeout = 3s)
  });
});
