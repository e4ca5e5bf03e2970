import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeCopy } from '../../src/commit/store-copy.js';
import { Spool, ensureMaildirDirs } from '../../src/maildir/spool.js';
import { tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir()));
afterEach(() => t.cleanup());

const namesFrom = (...names: string[]) => {
  let i = 0;
  return () => names[Math.min(i++, names.length - 1)]!;
};

/** What the executor does for one copy: seal, link into the folder, drop the tmp/ name. */
async function commit(s: Spool, md: string, dir: string, names: () => string): Promise<string> {
  await s.seal();
  const path = await storeCopy(s, join(md, dir), '', names);
  await s.discard();
  return path;
}

describe('Spool and storeCopy: the durable Maildir write', () => {
  it('creates tmp/new/cur 0700 when missing and commits into new/ with ,S=', async () => {
    const md = join(t.dir, 'Maildir');
    const names = namesFrom('1.M1P1Q1.h');
    const s = await Spool.create(md, names);
    await s.write(Buffer.from('Subject: x\n\nbody\n'));
    const path = await commit(s, md, '', names);
    expect(path).toBe(join(md, 'new', '1.M1P1Q1.h,S=17'));
    for (const d of ['tmp', 'new', 'cur']) expect(statSync(join(md, d)).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe('Subject: x\n\nbody\n');
    expect(readdirSync(join(md, 'tmp'))).toEqual([]);
  });

  it('never follows or opens a symlink planted under the tmp/ name', async () => {
    const md = join(t.dir, 'Maildir');
    await ensureMaildirDirs(md);
    const victim = join(t.dir, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(md, 'tmp', 'planted'));
    const names = namesFrom('planted', 'fresh');
    const s = await Spool.create(md, names);
    await s.write(Buffer.from('attack?\n'));
    const path = await commit(s, md, '', names);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readlinkSync(join(md, 'tmp', 'planted'))).toBe(victim);
    expect(path).toBe(join(md, 'new', 'fresh,S=8'));
  });

  it('never replaces an existing file in new/ (link, not rename)', async () => {
    const md = join(t.dir, 'Maildir');
    await ensureMaildirDirs(md);
    writeFileSync(join(md, 'new', 'same,S=4'), 'old!');
    const names = namesFrom('same', 'other');
    const s = await Spool.create(md, names);
    await s.write(Buffer.from('new!'));
    const path = await commit(s, md, '', names);
    expect(readFileSync(join(md, 'new', 'same,S=4'), 'utf8')).toBe('old!');
    expect(path).toBe(join(md, 'new', 'other,S=4'));
  });

  it('discard removes the tmp file', async () => {
    const md = join(t.dir, 'Maildir');
    const names = namesFrom('gone');
    const s = await Spool.create(md, names);
    await s.write(Buffer.from('x'));
    await s.discard();
    expect(readdirSync(join(md, 'tmp'))).toEqual([]);
    expect(readdirSync(join(md, 'new'))).toEqual([]);
  });

  it('recreates a missing new/ at commit', async () => {
    const md = join(t.dir, 'Maildir');
    await ensureMaildirDirs(md);
    const names = namesFrom('n');
    const s = await Spool.create(md, names);
    await s.write(Buffer.from('x'));
    // folder without its new/: commit must create it rather than fail
    mkdirSync(join(md, '.F'));
    const path = await commit(s, md, '.F', names);
    expect(lstatSync(path).isFile()).toBe(true);
  });
});
