/**
 * `mda recipients export` through the built binary (`npm run build` first):
 * stdout, `--output` replacing the file atomically (a planted symlink replaced,
 * never written through), exit codes for cron, real system accounts as root
 * (created with useradd), and, when Postfix's postmap is installed (CI installs
 * postfix), the file accepted by `postmap hash:` with lookups that answer OK.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let conf: string;

const CONFIG = `[log]
target = "none"
[lmtp]
user = "vmail"
[delivery]
domains = ["Example.org", "bücher.example"]
[users."info@Example.NET"]
maildir = "/srv/vmail/info"
[users.carol]
maildir = "/srv/vmail/carol"
`;
/** The same config, virtual mode (from [lmtp] user): only [users], sorted by bytes. */
const EXPECTED = 'carol@example.org OK\ncarol@xn--bcher-kva.example OK\ninfo@example.net OK\n';

const mda = (...args: string[]) => runCli(['recipients', 'export', ...args]);

beforeEach(() => {
  t = tempDir('mda-export-');
  conf = join(t.dir, 'mda.toml');
  writeFileSync(conf, CONFIG);
});
afterEach(() => t.cleanup());

describe('mda recipients export (built CLI)', () => {
  it('prints "address OK" lines on stdout, nothing on stderr, exit 0', async () => {
    const r = await mda('--config', conf);
    expect(r).toMatchObject({ code: 0, stdout: EXPECTED, stderr: '' });
  });

  it('the same config gives the same bytes (stable order)', async () => {
    const [a, b] = [await mda('--config', conf), await mda('--config', conf)];
    expect(a.stdout).toBe(b.stdout);
  });

  it('--output replaces an existing file with mode 0644, silently, and leaves no temp file', async () => {
    const out = join(t.dir, 'mda-recipients');
    writeFileSync(out, 'stale@example.org OK\n', { mode: 0o600 });
    const before = statSync(out).ino;
    const r = await mda('--config', conf, '--output', out);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(out, 'utf8')).toBe(EXPECTED);
    expect(statSync(out).mode & 0o7777).toBe(0o644);
    expect(statSync(out).ino).not.toBe(before); // a new file renamed over the old one, not rewritten in place
    expect(readdirSync(t.dir).sort()).toEqual(['mda-recipients', 'mda.toml']);
  });

  it('--output replaces a symlink planted at the path instead of writing through it', async () => {
    const victim = join(t.dir, 'victim');
    writeFileSync(victim, 'root:secret\n', { mode: 0o600 });
    const out = join(t.dir, 'mda-recipients');
    symlinkSync(victim, out);
    const r = await mda('--config', conf, '--output', out);
    expect(r.code).toBe(0);
    expect(lstatSync(out).isSymbolicLink()).toBe(false);
    expect(readFileSync(out, 'utf8')).toBe(EXPECTED);
    expect(readFileSync(victim, 'utf8')).toBe('root:secret\n');
    expect(statSync(victim).mode & 0o777).toBe(0o600);
  });

  it('--output a directory: a clear error, exit 73, and the directory untouched', async () => {
    const out = join(t.dir, 'dir');
    mkdirSync(out);
    const r = await mda('--config', conf, '--output', out);
    expect(r.code).toBe(73);
    expect(r.stderr).toMatch(/^mda recipients export: cannot write .*dir: EISDIR/);
    expect(readdirSync(out)).toEqual([]);
    expect(readdirSync(t.dir).sort()).toEqual(['dir', 'mda.toml']);
  });

  it('--output in a missing directory: exit 73', async () => {
    const r = await mda('--config', conf, '--output', join(t.dir, 'no', 'such', 'file'));
    expect(r.code).toBe(73);
    expect(r.stderr).toMatch(/ENOENT/);
  });

  it('a bad config: one line per problem, exit 78, the existing map kept', async () => {
    const out = join(t.dir, 'mda-recipients');
    writeFileSync(out, 'kept@example.org OK\n');
    writeFileSync(conf, '[delivery]\ndomains = ["a b"]\n');
    const r = await mda('--config', conf, '--output', out);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^mda recipients export: .*domains/);
    expect(readFileSync(out, 'utf8')).toBe('kept@example.org OK\n');
  });

  it.skipIf(process.getuid?.() !== 0)('as root, a config another user owns is refused: exit 78, nothing written', async () => {
    const out = join(t.dir, 'mda-recipients');
    chownSync(conf, 1, 1);
    const r = await mda('--config', conf, '--output', out);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/refused while running as root/);
    expect(existsSync(out)).toBe(false);
  });

  it('an address no postmap line can hold: exit 65, nothing written', async () => {
    const out = join(t.dir, 'mda-recipients');
    writeFileSync(conf, CONFIG + '[users."a b@example.net"]\nmaildir = "/srv/vmail/ab"\n');
    const r = await mda('--config', conf, '--output', out);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/"a b@example.net" contains a space/);
    expect(existsSync(out)).toBe(false);
  });

  it('nothing to export (virtual mode, no [users]): exit 65 rather than an empty map that refuses everyone', async () => {
    writeFileSync(conf, '[log]\ntarget = "none"\n');
    const r = await mda('--config', conf, '--virtual-only');
    expect(r.code).toBe(65);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no recipients to export/);
  });

  it('a bad flag: usage error, exit 64', async () => {
    const r = await mda('--config', conf, '--bogus');
    expect(r.code).toBe(64);
  });
});

const isRoot = process.getuid?.() === 0;
const hasUseradd = spawnSync('sh', ['-c', 'command -v useradd && command -v userdel'], { stdio: 'ignore' }).status === 0;
if (!isRoot || !hasUseradd) console.warn(`\n*** SKIPPED recipients-export system accounts: ${isRoot ? 'no useradd' : 'needs root'} ***\n`);

describe.skipIf(!isRoot || !hasUseradd)('system accounts from getent passwd (root: created with useradd)', () => {
  const person = `mdaexp${process.pid % 10000}`;
  const daemon = `mdaexd${process.pid % 10000}`;
  const exists = (name: string) => spawnSync('getent', ['passwd', name], { stdio: 'ignore' }).status === 0;
  beforeAll(() => {
    for (const n of [person, daemon]) if (exists(n)) execFileSync('userdel', [n], { stdio: 'ignore' });
    // A mail-only person (no home, nologin shell): still a recipient; a --system account is not.
    execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '--key', 'UID_MIN=1000', person], { stdio: 'ignore' });
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', daemon], { stdio: 'ignore' });
  });
  afterAll(() => {
    for (const n of [person, daemon]) spawnSync('userdel', [n], { stdio: 'ignore' });
  });

  it('outside virtual mode: a person account per domain; a system account (uid < 1000) and nobody never', async () => {
    const r = await mda('--config', conf, '--no-virtual-only');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.split('\n');
    expect(lines).toContain(`${person}@example.org OK`);
    expect(lines).toContain(`${person}@xn--bcher-kva.example OK`);
    expect(r.stdout).not.toContain(daemon);
    expect(r.stdout).not.toMatch(/^(nobody|root)@/m);
    expect(lines).toContain('carol@example.org OK');
    const keys = lines.filter(Boolean);
    expect([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))).toEqual(keys);
  });

  it('virtual mode ([lmtp] user set): no system account', async () => {
    const r = await mda('--config', conf);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(person);
  });
});

const postmap = spawnSync('sh', ['-c', 'command -v postmap'], { encoding: 'utf8' }).stdout.trim();
if (!postmap) console.warn('\n*** SKIPPED recipients-export postmap checks: postmap not installed (scripts/install-test-deps.sh) ***\n');

describe.skipIf(!postmap)("Postfix's postmap reads the file", () => {
  /** postmap with its own empty main.cf: never the system's /etc/postfix. */
  const pm = (...args: string[]) => {
    const cf = join(t.dir, 'postfix');
    mkdirSync(cf, { recursive: true });
    writeFileSync(join(cf, 'main.cf'), 'myhostname = localhost.localdomain\nmydomain = localdomain\n'); // no DNS lookups
    // Postfix waits (300 ms at a time) until a config file it reads is at least a second old.
    utimesSync(join(cf, 'main.cf'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    return spawnSync(postmap, ['-c', cf, ...args], { encoding: 'utf8' });
  };

  it('postmap hash:FILE accepts it; known addresses answer OK, an unknown one nothing', async () => {
    const out = join(t.dir, 'mda-recipients');
    expect((await mda('--config', conf, '--output', out)).code).toBe(0);
    const built = pm(`hash:${out}`);
    expect({ status: built.status, stderr: built.stderr }).toEqual({ status: 0, stderr: '' });
    expect(existsSync(`${out}.db`)).toBe(true);
    for (const known of ['info@example.net', 'carol@example.org', 'carol@xn--bcher-kva.example', 'Carol@Example.ORG']) {
      expect({ known, answer: pm('-q', known, `hash:${out}`).stdout }).toEqual({ known, answer: 'OK\n' });
    }
    const unknown = pm('-q', 'mallory@example.org', `hash:${out}`);
    expect({ status: unknown.status, stdout: unknown.stdout }).toEqual({ status: 1, stdout: '' });
  });
});
