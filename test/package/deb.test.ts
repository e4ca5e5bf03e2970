/**
 * The Debian package, as an admin gets it: scripts/package-deb.mjs builds the
 * .deb from this build (`npm run package` = build + that script; the suite
 * has built already), dpkg-deb shows its files and control data, apt-get
 * installs it on this machine, /usr/bin/mda runs (--version, a real delivery
 * with the embedded defaults the all-comment /etc/mda/mda.toml leaves in
 * force, `man -w`), the real-Postfix e2e file runs against /usr/bin/mda
 * (MDA_BIN), and `apt-get purge` leaves none of the package's files.
 *
 * Installs into the real system, so: root only, one test file, and afterAll
 * purges whatever a failed run installed (a leftover from a killed run is
 * purged before starting). It refuses to run over an /etc/mda that is not the
 * package's, since its conffile would land among an admin's files. Other test files never read
 * /etc/mda (they pass --config or MDA_CONFIG), so the install window does not
 * change them. Skipped when not root or without dpkg-deb/apt-get, except in CI
 * (CI=true) or with MDA_E2E_REQUIRED=1, where that fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/realstack.js';

const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const tool = (name: string) => ['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((d) => fs.existsSync(path.join(d, name)));
const skipReason =
  process.getuid?.() !== 0 ? 'installing a package needs root (CI runs as root)' :
  !tool('dpkg-deb') || !tool('apt-get') ? 'not a Debian system (no dpkg-deb / apt-get)' : null;
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (skipReason && !required) console.warn(`\n*** SKIPPED test/package/deb.test.ts: ${skipReason} ***\n`);

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
/** apt-get waits for the dpkg lock instead of failing when another apt runs. */
const APT = ['-y', '-q', '-o', 'DPkg::Lock::Timeout=120'];

function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input ?? '', env: opts.env ?? process.env, timeout: 180_000 });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '', all: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** dpkg's state of the mda package: installed, config-files, not-installed... ('' = unknown to dpkg). */
const mdaState = () => run('dpkg-query', ['-W', '-f=${db:Status-Status}', 'mda']).out.trim();
const purge = () => run('dpkg', ['--purge', 'mda'], { env: APT_ENV });
/** An admin's own file in /etc/mda, which purge must leave (and this test then removes). */
const ADMIN_FILE = '/etc/mda/mda-deb-test-global.sieve';
/** Removes the admin file this test planted, and /etc/mda if nothing else is in it. */
function removePlanted(): void {
  fs.rmSync(ADMIN_FILE, { force: true });
  if (fs.existsSync('/etc/mda') && fs.readdirSync('/etc/mda').length === 0) fs.rmdirSync('/etc/mda');
}

describe.skipIf(skipReason !== null && !required)('the Debian package (npm run package)', () => {
  let out = '';
  let scratch = '';
  let deb = '';
  /** dpkg-deb -c: path (without the leading ".") → the listing line */
  const listing = new Map<string, string>();

  beforeAll(() => {
    if (skipReason) throw new Error(`package test prerequisites missing (required here): ${skipReason}`);
    const state = mdaState();
    if (state !== '' && state !== 'not-installed') {
      console.warn(`[deb] the mda package is ${state} (left by an earlier run?): purging it first`);
      const r = purge();
      if (r.code !== 0) throw new Error(`dpkg --purge mda failed:\n${r.all}`);
    }
    removePlanted();
    if (fs.existsSync('/etc/mda')) {
      throw new Error('/etc/mda exists and is not the mda package\'s: the test would install its conffile among an admin\'s files; not running');
    }
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'mda-deb-out-'));
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mda-deb-run-'));
  });

  afterAll(() => {
    // never leave /usr/bin/mda or /etc/mda behind for other tests or runs
    const state = mdaState();
    if (state !== '' && state !== 'not-installed') {
      const r = purge();
      if (r.code !== 0) console.error(`[deb] dpkg --purge mda failed:\n${r.all}`);
    }
    removePlanted();
    if (out) fs.rmSync(out, { recursive: true, force: true });
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('builds mda_<version>_<arch>.deb and prints its path as the last line', () => {
    const r = run(process.execPath, [path.join(REPO_ROOT, 'scripts/package-deb.mjs'), '--out', out]);
    expect(r.code, r.all).toBe(0);
    deb = r.out.trimEnd().split('\n').at(-1)!;
    const arch = run('dpkg', ['--print-architecture']).out.trim();
    // the native syslog binding (unix-dgram) makes it this machine's architecture, not "all"
    expect([path.join(out, `mda_${VERSION}_${arch}.deb`), path.join(out, `mda_${VERSION}_all.deb`)]).toContain(deb);
    expect(fs.statSync(deb).size).toBeGreaterThan(0);
    const c = run('dpkg-deb', ['-c', deb]);
    expect(c.code, c.all).toBe(0);
    for (const line of c.out.trimEnd().split('\n')) {
      const m = /^(\S+) (\S+)\s+\d+ \S+ \S+ \.(\S+)(?: -> (\S+))?$/.exec(line);
      expect(m, line).not.toBeNull();
      listing.set(m![3]!.replace(/\/$/, '') || '/', line);
    }
  }, 120_000);

  it('holds the runtime tree, /usr/bin/mda, man pages, units, tmpfiles, logrotate and copyright, all root-owned', () => {
    const paths = [...listing.keys()];
    for (const p of [
      '/usr/lib/mda/bin/mda',
      '/usr/lib/mda/dist/main.mjs',
      '/usr/lib/mda/dist/deliver.cjs',
      '/usr/lib/mda/package.json',
      '/usr/lib/mda/node_modules/yargs/package.json',
      '/usr/lib/mda/node_modules/smol-toml/package.json',
      '/usr/lib/mda/node_modules/fs-ext/build/Release/fs_ext.node', // fcntl/flock for mbox delivery
      '/etc/mda/mda.toml',
      '/etc/logrotate.d/mda',
      '/usr/lib/systemd/system/mda-lmtp.service',
      '/usr/lib/systemd/system/mda-policy.service',
      '/usr/lib/tmpfiles.d/mda.conf',
      '/usr/share/doc/mda/copyright',
    ]) {
      expect(paths, p).toContain(p);
    }
    for (const page of fs.readdirSync(path.join(REPO_ROOT, 'man'))) {
      expect(paths).toContain(`/usr/share/man/man${page.slice(page.lastIndexOf('.') + 1)}/${page}.gz`);
    }
    expect(listing.get('/usr/bin/mda')).toMatch(/^l\S+ root\/root .* -> \.\.\/lib\/mda\/bin\/mda$/);
    expect(listing.get('/usr/lib/mda/bin/mda')).toMatch(/^-rwxr-xr-x root\/root /);
    // no dev dependency, and nothing outside the runtime tree under /usr/lib/mda
    for (const dev of ['vitest', 'typescript', 'esbuild', 'fast-check', '@types']) {
      expect(paths.some((p) => p.startsWith(`/usr/lib/mda/node_modules/${dev}`)), dev).toBe(false);
    }
    expect(new Set(paths.filter((p) => p.startsWith('/usr/lib/mda/')).map((p) => p.split('/')[4]))).toEqual(
      new Set(['bin', 'dist', 'package.json', 'node_modules']),
    );
    for (const [p, line] of listing) expect(line, p).toMatch(/^\S+ root\/root /);
  });

  it('declares Depends on nodejs >= 20.19 and /etc/mda/mda.toml as a conffile that is all comments', () => {
    expect(run('dpkg-deb', ['-f', deb, 'Depends']).out).toMatch(/(^|, )nodejs \(>= 20\.19\)/);
    expect(run('dpkg-deb', ['-f', deb, 'Package']).out.trim()).toBe('mda');
    expect(run('dpkg-deb', ['-f', deb, 'Version']).out.trim()).toBe(VERSION);
    const conffiles = run('dpkg-deb', ['-I', deb, 'conffiles']).out.trim().split('\n');
    expect(conffiles).toContain('/etc/mda/mda.toml');
    const toml = run('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO ./etc/mda/mda.toml', 'sh', deb]).out;
    expect(toml.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))).toEqual([]);
    expect(parseToml(toml)).toEqual({});
    // every documented key is there, commented out, for the admin to uncomment
    expect(toml).toMatch(/^# deadline = "240s"/m);
    expect(toml).toMatch(/^# \[delivery\]$/m);
    const units = run('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO ./usr/lib/systemd/system/mda-lmtp.service ./usr/lib/systemd/system/mda-policy.service', 'sh', deb]).out;
    expect(units).toMatch(/^ExecStart=\/usr\/bin\/mda lmtp /m);
    expect(units).toMatch(/^ExecStart=\/usr\/bin\/mda policy /m);
    // disabled by default: no maintainer script enables or starts a unit
    const scripts = run('sh', ['-c', 'd=$(mktemp -d) && dpkg-deb -e "$1" "$d" && cat "$d"/*inst "$d"/*rm; rm -rf "$d"', 'sh', deb]).out;
    // purge removes what mda wrote under /etc/mda, never the whole directory (an admin's files stay)
    expect(scripts).not.toContain('rm -rf /etc/mda');
    expect(scripts).toContain('.compiled.json');
    expect(scripts).not.toMatch(/systemctl[^\n]*\b(enable|start)\b|deb-systemd-helper enable/);
  });

  it('installs with apt-get from the file, offline', () => {
    // This machine's node is the NodeSource "nodejs" package (20.x), so apt-get can satisfy
    // Depends with nothing to download. A node that is not a Debian package cannot satisfy it:
    // then the only way is dpkg -i --force-depends, which this test says it used.
    const nodePkg = run('dpkg-query', ['-W', '-f=${db:Status-Status}', 'nodejs']).out.trim();
    let r;
    if (nodePkg === 'installed') {
      r = run('apt-get', ['install', ...APT, '-o', 'Dpkg::Options::=--force-confold', deb], { env: APT_ENV });
    } else {
      console.warn('[deb] node is not a Debian package here: installing with dpkg -i --force-depends');
      r = run('dpkg', ['-i', '--force-depends', deb], { env: APT_ENV });
    }
    expect(r.code, r.all).toBe(0);
    expect(mdaState()).toBe('installed');
    expect(fs.readlinkSync('/usr/bin/mda')).toBe('../lib/mda/bin/mda');
    if (tool('systemd-tmpfiles')) {
      expect(fs.statSync('/var/tmp/mda').mode & 0o7777, 'tmpfiles.d made the state dir').toBe(0o1777);
    }
  }, 120_000);

  it('runs /usr/bin/mda: --version, a delivery with the embedded defaults, config check', () => {
    const env = { PATH: '/usr/bin:/bin', HOME: scratch }; // as Postfix runs it: no MDA_CONFIG
    const v = run('/usr/bin/mda', ['--version'], { env });
    expect(v.code, v.all).toBe(0);
    expect(v.out).toContain(VERSION);

    const maildir = path.join(scratch, 'Maildir');
    const msg = fs.readFileSync(path.join(REPO_ROOT, 'examples/hello.eml'), 'utf8');
    const d = run('/usr/bin/mda', ['deliver', '--maildir', maildir], { env, input: msg });
    expect(d.code, d.all).toBe(0);
    expect(d.all).toBe('');
    const stored = fs.readdirSync(path.join(maildir, 'new'));
    expect(stored).toHaveLength(1);
    const subject = /^Subject: .*$/m.exec(msg)![0];
    expect(fs.readFileSync(path.join(maildir, 'new', stored[0]!), 'utf8')).toContain(subject);

    // the conffile is what it read, and it holds nothing: check compiles it beside itself (purge removes that too)
    const c = run('/usr/bin/mda', ['config', 'check'], { env });
    expect(c.code, c.all).toBe(0);
    expect(c.out).toMatch(/^OK: \/etc\/mda\/mda\.toml/);
    expect(fs.existsSync('/etc/mda/.mda.toml.compiled.json')).toBe(true);
    // an admin's own file beside the conffile (a global Sieve script): purge must keep it
    fs.writeFileSync(ADMIN_FILE, 'keep;\n');
  });

  it('installs the man pages where man finds them', () => {
    for (const [page, file] of [
      ['mda', '/usr/share/man/man1/mda.1.gz'],
      ['mda.toml', '/usr/share/man/man5/mda.toml.5.gz'],
      ['mda-lmtp', '/usr/share/man/man8/mda-lmtp.8.gz'],
    ]) {
      const r = run('man', ['-w', page!], { env: { PATH: '/usr/bin:/bin', MANPATH: '' } });
      expect(r.code, r.all).toBe(0);
      expect(r.out.trim()).toBe(file);
    }
    // and `man mda` itself renders the page an admin reads
    const shown = run('man', ['mda'], { env: { PATH: '/usr/bin:/bin', MANPATH: '', MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80' } });
    expect(shown.code, shown.all).toBe(0);
    expect(shown.out).toMatch(/^NAME\n\s+mda\s+-\s+mail/m);
    expect(shown.out).toContain('mda deliver');
  });

  it('passes the real-Postfix e2e test with /usr/bin/mda as mailbox_command', async () => {
    const report = path.join(scratch, 'e2e.json');
    const env: NodeJS.ProcessEnv = { ...process.env, MDA_BIN: '/usr/bin/mda', MDA_E2E_REQUIRED: '1' };
    for (const k of Object.keys(env)) if (k.startsWith('VITEST')) delete env[k]; // a fresh vitest, not a worker of this one
    const vitest = path.join(REPO_ROOT, 'node_modules/vitest/vitest.mjs');
    const args = [vitest, 'run', 'test/e2e/postfix.test.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('close', (c) => resolve({ code: c, output }));
    });
    expect(code, output).toBe(0);
    expect(output).toContain('mda: /usr/bin/mda');
    const r = JSON.parse(fs.readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number };
    expect(r.numPassedTests, output).toBeGreaterThanOrEqual(4);
    expect(r.numFailedTests).toBe(0);
    expect(r.numPendingTests).toBe(0);
  }, 150_000);

  it('purges cleanly: no file of the package is left, nor its compiled cache or the state dir; an admin\'s own file in /etc/mda stays', () => {
    const r = run('apt-get', ['purge', ...APT, 'mda'], { env: APT_ENV });
    expect(r.code, r.all).toBe(0);
    expect(['', 'not-installed']).toContain(mdaState());
    const left = [...listing.entries()]
      .filter(([, line]) => !line.startsWith('d')) // shared directories (/usr/bin...) stay
      .map(([p]) => p)
      .filter((p) => fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined);
    expect(left).toEqual([]);
    for (const dir of ['/usr/lib/mda', '/usr/share/doc/mda', '/var/tmp/mda', '/etc/mda/mda.toml', '/etc/mda/.mda.toml.compiled.json']) {
      expect(fs.existsSync(dir), dir).toBe(false);
    }
    // dpkg's rule for a conffile directory holding files it does not know: they, and it, stay
    expect(fs.readFileSync(ADMIN_FILE, 'utf8')).toBe('keep;\n');
    expect(fs.readdirSync('/etc/mda')).toEqual([path.basename(ADMIN_FILE)]);
    removePlanted();
  }, 120_000);
});
