/**
 * Hostile paths and privileges (root only): symlinks planted in the Maildir,
 * hostile --folder names, foreign or world-writable Maildirs, a world-writable
 * config; each run as `nobody` (spawned with its uid/gid) and as root with
 * `--user nobody`. /etc, a root-owned dir and another user's files must not
 * change, and no file of another owner (root!) may appear in the Maildir.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, chownSync, existsSync, lchownSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeCopy } from '../../src/commit/store-copy.js';
import { Spool } from '../../src/maildir/spool.js';
import { MDA, listDir, tempDir } from '../helpers/run-mda.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('\n*** test/hostile/paths.test.ts SKIPPED: it must run as root (it spawns mda as nobody and as root --user nobody) ***\n');

const NOBODY = 65534;
const SETPRIV = '/usr/bin/setpriv';
const VICTIM = 1; // daemon: "another user"
const FROM_ = 'From alice@sender.test  Sat Nov 21 23:21:04 2026\n';
const MESSAGE = FROM_ + 'Subject: hostile paths\n\nbody\n';

let t: ReturnType<typeof tempDir>;
let home: string;
let md: string;
let victim: string;
let rootDir: string;
let cfg: string;
let log: string;

/** Everything under `path` (not following symlinks): type, owner, mode and content hash or link target. */
function snapshot(path: string, into = new Map<string, string>()): Map<string, string> {
  const st = lstatSync(path);
  const base = `${st.uid}:${(st.mode & 0o7777).toString(8)}`;
  if (st.isSymbolicLink()) into.set(path, `link:${base}:${readlinkSync(path)}`);
  else if (st.isDirectory()) {
    into.set(path, `dir:${base}`);
    for (const n of readdirSync(path)) snapshot(join(path, n), into);
  } else into.set(path, `file:${base}:${createHash('sha256').update(readFileSync(path)).digest('hex')}`);
  return into;
}

/*
 * Other test files run in parallel and add and remove their own system accounts (all named
 * `mda…`) with useradd/userdel, which rewrite the account files and leave backups (passwd-)
 * and lock files in /etc. Those are not mda's doing: the guard leaves out the account files'
 * own churn and `mda…` account entries, and still sees any other byte mda could write there.
 */
const ACCOUNT_FILES = /^(passwd|group|shadow|gshadow|subuid|subgid)[-+]?$|^\.pwd\.lock$|^(passwd|group|shadow|gshadow)\.\d+$|\.lock$/;
const TEST_ACCOUNT_ENTRY = /^mda[a-z0-9_-]*:[^:\n]*:\d+:\d+:[^\n]*$/;
const passwdView = (): string =>
  readFileSync('/etc/passwd', 'utf8').split('\n').filter((l) => !TEST_ACCOUNT_ENTRY.test(l)).join('\n');

/** What must never change: /etc's top level and passwd, the victim's tree, the root-owned dir. */
const guarded = () => {
  const s = new Map<string, string>();
  s.set('/etc', readdirSync('/etc').filter((n) => !ACCOUNT_FILES.test(n)).sort().join('\n'));
  s.set('/etc/passwd', createHash('sha256').update(passwdView()).digest('hex'));
  snapshot(victim, s);
  snapshot(rootDir, s);
  return s;
};

/** Entries under dir (lstat) owned by anyone but the recipient. */
function foreignOwned(dir: string): string[] {
  if (!existsSync(dir) && !isLink(dir)) return [];
  return [...snapshot(dir).entries()].filter(([, v]) => !v.split(':')[1]!.startsWith(`${NOBODY}`)).map(([p]) => p);
}
const isLink = (p: string): boolean => lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;

type Mode = 'as nobody' | 'as root --user nobody';
const MODES: Mode[] = ['as nobody', 'as root --user nobody'];

function runAs(mode: Mode, args: string[]): Promise<{ code: number | null; output: string }> {
  const asUser = mode === 'as nobody';
  const argv = ['deliver', '--config', cfg, ...(asUser ? [] : ['--user', 'nobody', '--maildir', md]), ...args];
  return new Promise((resolve, reject) => {
    // As root, start with supplementary group 0 (as a root login has), so dropping groups is tested too.
    const [cmd, pre] = asUser || !existsSync(SETPRIV) ? [process.execPath, []] : [SETPRIV, ['--groups=0', '--', process.execPath]];
    const child = spawn(cmd, [...pre, MDA, ...argv], {
      env: { PATH: '/usr/bin:/bin', HOME: home, USER: 'nobody' }, // as Postfix sets them for the recipient
      ...(asUser ? { uid: NOBODY, gid: NOBODY } : {}),
      cwd: '/',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.stdin.on('error', () => undefined);
    const hard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mda hung: ${output}`));
    }, 15_000);
    child.on('close', (code) => {
      clearTimeout(hard);
      resolve({ code, output });
    });
    child.stdin.end(MESSAGE);
  });
}

/** mkdirs owned by the recipient, as the user would have made them. */
function userDir(path: string, mode = 0o700): void {
  mkdirSync(path, { recursive: true, mode });
  chmodSync(path, mode);
  chownSync(path, NOBODY, NOBODY);
}
/** A symlink the user planted (owned by the user, like everything they make). */
function plant(target: string, path: string): void {
  symlinkSync(target, path);
  lchownSync(path, NOBODY, NOBODY);
}
const maildirDirs = (...subs: string[]) => {
  userDir(md);
  for (const s of subs) userDir(join(md, s));
};

beforeEach(() => {
  t = tempDir('mda-hostile-paths-');
  chmodSync(t.dir, 0o755);
  home = join(t.dir, 'home');
  md = join(home, 'Maildir');
  victim = join(t.dir, 'victim');
  rootDir = join(t.dir, 'root-owned');
  userDir(home, 0o755);
  // Another user's home: a Maildir, a private file, a world-writable file and directory.
  mkdirSync(victim, { mode: 0o755 });
  for (const s of ['Maildir', 'Maildir/tmp', 'Maildir/new', 'Maildir/cur']) mkdirSync(join(victim, s), { mode: 0o700 });
  writeFileSync(join(victim, 'secret'), 'victim secret\n', { mode: 0o644 });
  writeFileSync(join(victim, 'open-file'), 'world-writable victim file\n');
  chmodSync(join(victim, 'open-file'), 0o666);
  mkdirSync(join(victim, 'open-dir'));
  chmodSync(join(victim, 'open-dir'), 0o777);
  for (const p of snapshot(victim).keys()) chownSync(p, VICTIM, VICTIM);
  mkdirSync(rootDir, { mode: 0o755 });
  writeFileSync(join(rootDir, 'root-file'), 'root\n');
  cfg = join(t.dir, 'mda.toml');
  log = join(t.dir, 'mda.log');
  writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n`, { mode: 0o644 });
  writeFileSync(log, '', { mode: 0o644 });
  chownSync(log, NOBODY, NOBODY); // the user-mode run appends as nobody; root opens it before switching
});
afterEach(() => t.cleanup());

interface Case {
  name: string;
  setup: () => void;
  args?: string[];
  config?: string;
  code: number;
  /** Start of the DSN line (and what the log line must name) when code is not 0. */
  dsn?: RegExp;
  logs?: RegExp;
  check?: () => void;
  /** Paths the case itself gave to another owner. */
  foreign?: () => string[];
  /** The --folder cannot be used: the message goes to INBOX instead (issue 9, finding 2). */
  fallback?: boolean;
}

const QUOTA = '[quota]\nstorage = "10M"\n[locks]\ntimeout = "1s"\n';
const cases: Case[] = [
  { name: 'baseline: a fresh Maildir', setup: () => undefined, code: 0 },
  { name: 'tmp → a root-owned dir', setup: () => (maildirDirs('new', 'cur'), plant(rootDir, join(md, 'tmp'))), code: 75, dsn: /^4\.2\.0 /, logs: /EACCES/ },
  { name: "tmp → another user's Maildir/tmp", setup: () => (maildirDirs('new', 'cur'), plant(join(victim, 'Maildir', 'tmp'), join(md, 'tmp'))), code: 75, dsn: /^4\.2\.0 / },
  { name: 'new → a root-owned dir (the kernel denies: uid switched first)', setup: () => (maildirDirs('tmp', 'cur'), plant(rootDir, join(md, 'new'))), code: 75, dsn: /^4\.2\.0 /, logs: /EACCES/ },
  {
    name: "new → a dir writable by root's group (gid 0): root's groups are dropped too",
    setup: () => {
      maildirDirs('tmp', 'cur');
      mkdirSync(join(rootDir, 'group-0'));
      chmodSync(join(rootDir, 'group-0'), 0o770);
      plant(join(rootDir, 'group-0'), join(md, 'new'));
    },
    code: 75, dsn: /^4\.2\.0 /, logs: /EACCES/,
  },
  { name: 'new → /etc', setup: () => (maildirDirs('tmp', 'cur'), plant('/etc', join(md, 'new'))), code: 75, dsn: /^4\.2\.0 / },
  { name: "new → another user's Maildir/new", setup: () => (maildirDirs('tmp', 'cur'), plant(join(victim, 'Maildir', 'new'), join(md, 'new'))), code: 75, dsn: /^4\.2\.0 / },
  { name: '.Junk → /etc', setup: () => (maildirDirs('tmp', 'new', 'cur'), plant('/etc', join(md, '.Junk'))), args: ['--folder', 'Junk'], code: 0, fallback: true, logs: /"Junk" cannot be used .*owned by uid 0.*storing in INBOX/ },
  { name: ".Junk → another user's Maildir", setup: () => (maildirDirs('tmp', 'new', 'cur'), plant(join(victim, 'Maildir'), join(md, '.Junk'))), args: ['--folder', 'Junk'], code: 0, fallback: true, logs: /"Junk" cannot be used .*owned by uid 1.*storing in INBOX/ },
  { name: ".Junk → another user's world-writable dir (mda refuses; the kernel would not)", setup: () => (maildirDirs('tmp', 'new', 'cur'), plant(join(victim, 'open-dir'), join(md, '.Junk'))), args: ['--folder', 'Junk'], code: 0, fallback: true, logs: /owned by uid 1.*storing in INBOX/ },
  {
    name: ".Junk/new → another user's Maildir/new (the kernel denies)",
    setup: () => (maildirDirs('tmp', 'new', 'cur', '.Junk', '.Junk/tmp', '.Junk/cur'), plant(join(victim, 'Maildir', 'new'), join(md, '.Junk', 'new'))),
    args: ['--folder', 'Junk'], code: 0, fallback: true, logs: /could not store a copy in "Junk" .*EACCES.*storing in INBOX/,
  },
  {
    name: 'maildirsize → /etc/passwd, no quota: never followed',
    setup: () => (maildirDirs('tmp', 'new', 'cur'), plant('/etc/passwd', join(md, 'maildirsize'))),
    code: 0, check: () => expect(lstatSync(join(md, 'maildirsize')).isSymbolicLink()).toBe(true),
  },
  {
    name: 'maildirsize → /etc/passwd, with a quota: replaced by a file of the user',
    setup: () => (maildirDirs('tmp', 'new', 'cur'), plant('/etc/passwd', join(md, 'maildirsize'))), config: QUOTA,
    code: 0, logs: /maildirsize recalculated .*symlink/, check: () => expect(lstatSync(join(md, 'maildirsize')).isFile()).toBe(true),
  },
  {
    name: "maildirsize → another user's world-writable file, with a quota (O_NOFOLLOW; the kernel would allow)",
    setup: () => (maildirDirs('tmp', 'new', 'cur'), plant(join(victim, 'open-file'), join(md, 'maildirsize'))), config: QUOTA, code: 0,
  },
  { name: "maildirsize → another user's world-writable file, no quota", setup: () => (maildirDirs('tmp', 'new', 'cur'), plant(join(victim, 'open-file'), join(md, 'maildirsize'))), code: 0 },
  {
    name: 'stale lock files → /etc/passwd and a world-writable file: the links are removed, never followed',
    setup: () => {
      maildirDirs('tmp', 'new', 'cur');
      plant('/etc/passwd', join(md, 'mda-commit.lock'));
      plant(join(victim, 'open-file'), join(md, 'maildirsize.lock'));
      for (const l of ['mda-commit.lock', 'maildirsize.lock']) lutimesSync(join(md, l), 1000, 1000);
    },
    config: QUOTA, code: 0,
  },
  { name: "Maildir → another user's Maildir", setup: () => plant(join(victim, 'Maildir'), md), code: 75, dsn: /^4\.2\.0 .*owned by uid 1/, logs: /owned by uid 1/ },
  { name: 'Maildir → /etc', setup: () => plant('/etc', md), code: 75, dsn: /^4\.2\.0 .*owned by uid 0/ },
  // Dangling links: mda must not create the target (mkdir never follows a final symlink; it defers).
  { name: "dangling Maildir → into another user's world-writable dir", setup: () => plant(join(victim, 'open-dir', 'Maildir'), md), code: 75, dsn: /^4\.2\.0 / },
  { name: 'dangling Maildir → /etc/…', setup: () => plant('/etc/mda-hostile-must-not-exist', md), code: 75, dsn: /^4\.2\.0 / },
  { name: "dangling .Junk → into another user's world-writable dir", setup: () => (maildirDirs('tmp', 'new', 'cur'), plant(join(victim, 'open-dir', 'Junk'), join(md, '.Junk'))), args: ['--folder', 'Junk'], code: 0, fallback: true, logs: /"Junk" cannot be used.*storing in INBOX/ },
  { name: 'dangling tmp → /etc/…', setup: () => (maildirDirs('new', 'cur'), plant('/etc/mda-hostile-must-not-exist', join(md, 'tmp'))), code: 75, dsn: /^4\.2\.0 / },
  { name: 'dangling new → /etc/…', setup: () => (maildirDirs('tmp', 'cur'), plant('/etc/mda-hostile-must-not-exist', join(md, 'new'))), code: 75, dsn: /^4\.2\.0 / },
  {
    name: 'a Maildir owned by another user',
    setup: () => (maildirDirs('tmp', 'new', 'cur'), chownSync(md, VICTIM, VICTIM), chmodSync(md, 0o777)),
    code: 75, dsn: /^4\.2\.0 .*owned by uid 1, not by the recipient/, logs: /owned by uid 1, not by the recipient/, foreign: () => [md],
  },
  { name: 'a world-writable Maildir', setup: () => (maildirDirs('tmp', 'new', 'cur'), chmodSync(md, 0o777)), code: 75, dsn: /^4\.2\.0 .*world-writable/, logs: /world-writable \(mode 0777\)/ },
  { name: 'a world-writable sticky Maildir', setup: () => (maildirDirs('tmp', 'new', 'cur'), chmodSync(md, 0o1777)), code: 75, dsn: /^4\.2\.0 .*world-writable/ },
  {
    name: 'a world-writable folder',
    setup: () => (maildirDirs('tmp', 'new', 'cur', '.Junk', '.Junk/tmp', '.Junk/new', '.Junk/cur'), chmodSync(join(md, '.Junk'), 0o777)),
    args: ['--folder', 'Junk'], code: 0, fallback: true, logs: /\.Junk is world-writable.*storing in INBOX/,
  },
];

describe.skipIf(!isRoot)('hostile paths and privileges (root)', () => {
  describe.each(MODES)('%s', (mode) => {
    it.each(cases)('$name', async (c) => {
      c.setup();
      if (c.config) writeFileSync(cfg, readFileSync(cfg, 'utf8') + c.config);
      const before = guarded();
      const r = await runAs(mode, c.args ?? []);
      expect(r.code, r.output).toBe(c.code);
      if (c.code === 0) expect(r.output).toBe('');
      else expect(r.output).toMatch(c.dsn!);
      expect(guarded()).toEqual(before);
      expect(foreignOwned(md).filter((p) => !c.foreign?.().includes(p)), 'no file of another owner (root!) in the Maildir').toEqual([]);
      const logged = readFileSync(log, 'utf8');
      expect(logged.match(/ status=/g)).toHaveLength(1); // one delivery line (a quota rebuild adds a note)
      if (c.logs) expect(logged).toMatch(c.logs);
      if (c.code === 0) {
        // An unusable --folder falls back to INBOX (as dovecot-lda -m does); nothing is written into the folder.
        const inbox = join(md, c.args?.includes('--folder') && !c.fallback ? '.Junk' : '', 'new');
        const [name] = listDir(inbox);
        expect(readFileSync(join(inbox, name!), 'utf8')).toBe(MESSAGE.slice(FROM_.length));
        expect(lstatSync(join(inbox, name!)).uid).toBe(NOBODY);
      } else if (!isLink(md) && existsSync(join(md, 'new')) && !isLink(join(md, 'new'))) {
        expect(listDir(join(md, 'new'))).toEqual([]);
      }
      if (existsSync(join(md, 'tmp')) && !isLink(join(md, 'tmp')) && !isLink(md)) expect(listDir(join(md, 'tmp'))).toEqual([]);
      c.check?.();
    });

    it.each(['../victim', '../../etc', '..', 'Junk/../../victim', '.', '...', 'a\\..\\b', 'Junk/.', '.Junk', 'x\ny'])(
      'folder %j is refused: 75 with 4.3.0, nothing created anywhere',
      async (name) => {
        const before = guarded();
        const homeBefore = readdirSync(home);
        const r = await runAs(mode, ['--folder', name]);
        expect(r.code).toBe(75);
        expect(r.output).toMatch(/^4\.3\.0 .*folder/);
        expect(readFileSync(log, 'utf8')).toMatch(/status=deferred dsn=4\.3\.0 .*folder/);
        expect(guarded()).toEqual(before);
        expect(readdirSync(home)).toEqual(homeBefore);
      },
    );

    it('a world-writable config is refused: 75 with 4.3.5 naming it; nothing written', async () => {
      writeFileSync(cfg, '[log]\ntarget = "none"\n[delivery]\nmaildir = "/etc"\n');
      chmodSync(cfg, 0o666);
      const before = guarded();
      const r = await runAs(mode, []);
      expect(r.code).toBe(75);
      // The config is not trusted, so neither is its log target: this DSN line, which Postfix logs, names the problem.
      expect(r.output).toMatch(/^4\.3\.5 .*mda\.toml.*world-writable config file \(mode 0666\)/);
      expect(guarded()).toEqual(before);
      expect(existsSync(md)).toBe(false);
    });
  });

  it('a name planted in tmp/ (symlink, dangling symlink, file) is never opened: another name is taken', async () => {
    maildirDirs('tmp', 'new', 'cur');
    const planted = ['to-passwd', 'to-victim', 'dangling', 'a-file'];
    plant('/etc/passwd', join(md, 'tmp', 'to-passwd'));
    plant(join(victim, 'open-file'), join(md, 'tmp', 'to-victim'));
    plant('/etc/mda-hostile-must-not-exist', join(md, 'tmp', 'dangling'));
    writeFileSync(join(md, 'tmp', 'a-file'), 'user data\n');
    const before = guarded();
    const names = [...planted, 'fresh'];
    const next = () => names.shift()!;
    const spool = await Spool.create(md, next);
    await spool.write(Buffer.from('x\n'));
    await spool.seal();
    const file = await storeCopy(spool, md, '', next);
    await spool.discard();
    expect(file).toMatch(/new\/fresh,S=2$/);
    expect(guarded()).toEqual(before);
    expect(existsSync('/etc/mda-hostile-must-not-exist')).toBe(false);
    expect(readFileSync(join(md, 'tmp', 'a-file'), 'utf8')).toBe('user data\n');
    expect(listDir(join(md, 'tmp')).sort()).toEqual([...planted].sort());
  });
});
