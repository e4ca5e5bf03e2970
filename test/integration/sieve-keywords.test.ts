/**
 * imap4flags keywords through the real `mda deliver`: stored Dovecot's way, as
 * letters a–z after `:2,` mapped through each folder's `dovecot-keywords`,
 * which is rewritten under Dovecot's own `dovecot-uidlist.lock` (a live holder
 * is waited for, a dead one's lock broken, as Dovecot's file_dotlock does).
 * The file is the user's: a symlink there is refused, never followed.
 * Run `npm run build` first.
 */
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDir, runMda, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let home: string;
let md: string;
beforeEach(() => {
  t = tempDir('mda-keywords-');
  home = join(t.dir, 'home');
  md = join(home, 'Maildir');
  mkdirSync(join(home, '.mda'), { recursive: true });
  for (const d of ['new', 'cur', 'tmp']) mkdirSync(join(md, d), { recursive: true });
});
afterEach(() => t.cleanup());

function config(extra = ''): string {
  const cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, `[log]\ntarget = "none"\n[sieve]\nscript = "${join(home, '.mda', 'filter.sieve')}"\nstate_dir = "${join(home, '.mda')}"\n${extra}`);
  return cfg;
}
const script = (text: string) => writeFileSync(join(home, '.mda', 'filter.sieve'), `require ["fileinto", "imap4flags"];\n${text}`);

async function deliver(cfg = config()) {
  return runMda(['deliver', '--config', cfg, '--maildir', md], {
    input: 'From: Alice <alice@example.org>\nTo: bob@example.test\nSubject: Hello\nMessage-ID: <k1@example.org>\n\nHi Bob.\n',
    env: { PATH: process.env.PATH, HOME: home, USER: process.env.USER ?? 'root' },
  });
}

const cur = (folder: string) => listDir(join(md, folder, 'cur'));
const keywordsFile = (folder: string) => readFileSync(join(md, folder, 'dovecot-keywords'), 'utf8');

describe('RFC 5232 §5: keywords of fileinto :flags and the internal variable reach the Maildir', () => {
  it('fileinto :flags "work": letter a in the folder, "0 work" in its dovecot-keywords', async () => {
    script('fileinto :flags "work" "Work";');
    const r = await deliver();
    expect(r.code, r.output).toBe(0);
    expect(cur('.Work')).toHaveLength(1);
    expect(cur('.Work')[0]).toMatch(/,S=\d+:2,a$/);
    expect(keywordsFile('.Work')).toBe('0 work\n');
    expect(existsSync(join(md, 'dovecot-keywords'))).toBe(false);
    expect(existsSync(join(md, '.Work', 'dovecot-uidlist.lock'))).toBe(false);
  });

  it('addflag "$Label1" with keep: INBOX\'s dovecot-keywords in the Maildir root, system letters first', async () => {
    script('addflag ["$Label1", "\\\\Seen"]; keep;');
    expect((await deliver()).code).toBe(0);
    expect(cur('')[0]).toMatch(/:2,Sa$/);
    expect(keywordsFile('')).toBe('0 $Label1\n');
    expect(existsSync(join(md, 'dovecot-uidlist.lock'))).toBe(false);
  });

  it('known keywords keep their letters, matched case-insensitively; the file is not rewritten', async () => {
    writeFileSync(join(md, 'dovecot-keywords'), '0 Junk\n1 $Label1\n');
    utimesSync(join(md, 'dovecot-keywords'), 1_000_000, 1_000_000);
    script('addflag ["$label1", "JUNK"];');
    expect((await deliver()).code).toBe(0);
    expect(cur('')[0]).toMatch(/:2,ab$/);
    expect(keywordsFile('')).toBe('0 Junk\n1 $Label1\n');
    expect(statSync(join(md, 'dovecot-keywords')).mtimeMs).toBe(1_000_000_000);
  });

  it('a new keyword takes the first free letter; the rewritten file\'s mtime grows (Dovecot re-reads on mtime)', async () => {
    const future = Math.floor(Date.now() / 1000) + 3600;
    writeFileSync(join(md, 'dovecot-keywords'), '0 a0\n2 a2\n');
    utimesSync(join(md, 'dovecot-keywords'), future, future);
    script('addflag "new";');
    expect((await deliver()).code).toBe(0);
    expect(cur('')[0]).toMatch(/:2,b$/);
    expect(keywordsFile('')).toBe('0 a0\n1 new\n2 a2\n');
    expect(Math.floor(statSync(join(md, 'dovecot-keywords')).mtimeMs / 1000)).toBeGreaterThan(future);
  });

  it('more than 26 keywords: the rest are dropped and the message is still delivered', async () => {
    writeFileSync(join(md, 'dovecot-keywords'), Array.from({ length: 26 }, (_, i) => `${i} k${i}\n`).join(''));
    script('addflag ["k3", "one-too-many"];');
    expect((await deliver()).code).toBe(0);
    expect(cur('')[0]).toMatch(/:2,d$/);
    expect(keywordsFile('')).not.toContain('one-too-many');
  });
});

describe("Dovecot's dotlock dovecot-uidlist.lock guards the rewrite", () => {
  const lockPath = () => join(md, 'dovecot-uidlist.lock');

  it('a lock held by a live process is waited for; still held → 4.x.x deferral, nothing stored', async () => {
    writeFileSync(lockPath(), `${process.pid}:${hostname()}`);
    const old = Date.now() / 1000 - 30;
    utimesSync(lockPath(), old, old);
    script('addflag "work";');
    const r = await deliver(config('[locks]\ntimeout = "300ms"\n'));
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.2\.0 /);
    expect(cur('')).toEqual([]);
    expect(listDir(join(md, 'new'))).toEqual([]);
    expect(readFileSync(lockPath(), 'utf8')).toBe(`${process.pid}:${hostname()}`);
  });

  it('a lock left by a dead process on this host is broken (Dovecot\'s stale pid rule)', async () => {
    writeFileSync(lockPath(), `999999999:${hostname()}`);
    const old = Date.now() / 1000 - 10;
    utimesSync(lockPath(), old, old);
    script('addflag "work";');
    const r = await deliver(config('[locks]\ntimeout = "2s"\n'));
    expect(r.code, r.output).toBe(0);
    expect(keywordsFile('')).toBe('0 work\n');
    expect(existsSync(lockPath())).toBe(false);
  });

  it('no lock is taken when every keyword is already in the file', async () => {
    writeFileSync(join(md, 'dovecot-keywords'), '0 work\n');
    writeFileSync(lockPath(), `${process.pid}:${hostname()}`);
    script('addflag "work";');
    expect((await deliver(config('[locks]\ntimeout = "300ms"\n'))).code).toBe(0);
    expect(cur('')[0]).toMatch(/:2,a$/);
  });
});

describe('dovecot-keywords is user-controlled', () => {
  it('a symlink is refused, never followed or replaced: the keyword is dropped, the message delivered', async () => {
    const target = join(t.dir, 'elsewhere');
    writeFileSync(target, '0 other\n');
    symlinkSync(target, join(md, 'dovecot-keywords'));
    script('addflag ["work", "\\\\Seen"];');
    expect((await deliver()).code).toBe(0);
    expect(cur('')[0]).toMatch(/:2,S$/);
    expect(readFileSync(target, 'utf8')).toBe('0 other\n');
  });
});
