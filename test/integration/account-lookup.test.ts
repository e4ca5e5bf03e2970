/**
 * Account lookup through the real binary (issue 9 finding 4): getent(1) exits 2
 * both for "not found" and for an NSS source that is unavailable, so mda
 * bounces (5.1.1, exit 67) only on a definite "no such user" and defers
 * (4.3.0, exit 75) when the answer is uncertain. Each case runs mda in its own
 * mount namespace with its own /etc/nsswitch.conf bound over the real one and a
 * PATH-shimmed getent. Run `npm run build` first.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MDA, QUIET_CONFIG, listDir, tempDir, type MdaResult } from '../helpers/run-mda.js';

const canUnshare = (() => {
  try {
    execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir()));
afterEach(() => t.cleanup());

/**
 * Runs `mda deliver` with `nsswitch` as /etc/nsswitch.conf, `getent` (a sh body,
 * or null: none) as the only getent on PATH, and optionally `passwd` as /etc/passwd.
 */
function deliverWith(user: string, nsswitch: string, getent: string | null, passwd?: string): Promise<MdaResult> {
  const nss = join(t.dir, 'nsswitch.conf');
  writeFileSync(nss, nsswitch);
  const pw = join(t.dir, 'passwd');
  writeFileSync(pw, passwd ?? '');
  const bin = join(t.dir, 'bin');
  mkdirSync(bin);
  if (getent !== null) {
    writeFileSync(join(bin, 'getent'), `#!/bin/sh\n${getent}\n`);
    chmodSync(join(bin, 'getent'), 0o755);
  }
  const cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, QUIET_CONFIG);
  // Only `bin` on mda's PATH: a missing shim means no getent at all.
  const bindPasswd = passwd === undefined ? '' : 'mount --bind "$3" /etc/passwd && ';
  const script = `mount --bind "$1" /etc/nsswitch.conf && ${bindPasswd}PATH="$2" && shift 3 && exec "$@"`;
  const args = ['-m', 'sh', '-c', script, 'sh', nss, bin, pw, process.execPath, MDA, 'deliver', '--config', cfg, '--user', user];
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn('unshare', args, { env: { PATH: process.env.PATH, HOME: t.dir }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const hard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code, signal) => {
      clearTimeout(hard);
      resolve({ code, signal, output, elapsedMs: performance.now() - started });
    });
    child.stdin.end('Subject: s\n\nx\n');
  });
}

const NOBODY = 'no-such-user-mda';

describe.skipIf(!canUnshare)('account lookup: bounce only on a definite "no such user" (issue 9 finding 4)', () => {
  it.each([
    ['getent exits 2 and passwd has an ldap source (NSS backend down)', 'passwd: files ldap\n', 'exit 2'],
    ['getent exits 2 and passwd has sss after systemd', 'passwd: files systemd sss\n', 'exit 2'],
    ['no getent on PATH and passwd has an ldap source', 'passwd: files ldap\n', null],
    ['getent succeeds with an entry that does not parse', 'passwd: files systemd\n', 'echo garbage; exit 0'],
    ['getent fails (exit 1: unknown database)', 'passwd: files systemd\n', 'exit 1'],
    ['getent dies by a signal', 'passwd: files ldap\n', 'kill -9 $$'],
    ['compat with a NIS (+) entry in /etc/passwd', 'passwd: compat\n', 'exit 2', 'root:x:0:0:root:/root:/bin/sh\n+::::::\n'],
  ])('%s: defers with 4.3.0 (75), never 5.1.1', async (_n, nss, getent, passwd?: string) => {
    const r = await deliverWith(NOBODY, nss, getent, passwd);
    expect(r.output).toMatch(/^4\.3\.0 /);
    expect(r.code).toBe(75);
  });

  it.each([
    ['files only: /etc/passwd was read and has no such line (getent is not even asked)', 'passwd: files\n', 'exit 3'],
    ['files and systemd, getent exits 2: every source is local', 'passwd: files systemd\n', 'exit 2'],
    ['[NOTFOUND=return] after files stops before ldap', 'passwd: files [NOTFOUND=return] ldap\n', 'exit 2'],
    ['no passwd line: glibc defaults to files', 'group: files\n', 'exit 2'],
  ])('a truly unknown user still bounces 5.1.1 (67): %s', async (_n, nss, getent) => {
    const r = await deliverWith(NOBODY, nss, getent);
    expect(r.output).toMatch(/^5\.1\.1 /);
    expect(r.code).toBe(67);
  });

  it('an NSS-only user (found by getent) is still delivered to', async () => {
    const home = join(t.dir, 'home');
    mkdirSync(home);
    const uid = process.getuid!();
    const gid = process.getgid!();
    const r = await deliverWith('ldapuser', 'passwd: files ldap\n', `[ "$3" = ldapuser ] && echo "ldapuser:x:${uid}:${gid}::${home}:/bin/sh" && exit 0; exit 2`);
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(listDir(join(home, 'Maildir', 'new'))).toHaveLength(1);
  });

  it.each([
    ['files systemd: systemd could not be asked by name: defers', 'passwd: files systemd\n', 75, /^4\.3\.0 /],
    ['files: /etc/passwd alone decides: bounces', 'passwd: files\n', 67, /^5\.1\.1 /],
  ])('getent answering for another name (a numeric name looked up as a uid) is not that user; %s', async (_n, nss, code, dsn) => {
    const home = join(t.dir, 'home');
    mkdirSync(home);
    const r = await deliverWith('4242', nss, `echo "someone:x:4242:4242::${home}:/bin/sh"`);
    expect(r.output).toMatch(dsn);
    expect(r.code).toBe(code);
    expect(listDir(join(home, 'Maildir', 'new'))).toEqual([]);
  });
});
