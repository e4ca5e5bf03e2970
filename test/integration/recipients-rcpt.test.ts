import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, type Config, type UserConfig } from '../../src/config/schema.js';
import { runningAccount } from '../../src/privileges/accounts.js';
import { rcptQuotaVerdict } from '../../src/recipients/quota-verdict.js';
import { resolveAddress, systemAccounts } from '../../src/recipients/resolve.js';
import { recipientRules } from '../../src/recipients/rules.js';
import { tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let md: string;
const me = runningAccount();
const isRoot = process.getuid?.() === 0;

beforeEach(() => {
  t = tempDir('mda-rcpt-');
  md = join(t.dir, 'Maildir');
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(md, sub), { recursive: true });
});
afterEach(() => t.cleanup());

function config(storage: number, over: 'bounce' | 'defer' = 'bounce', users: Record<string, UserConfig> = {}): Config {
  const c = defaultConfig();
  c.quota.storage = storage;
  c.quota.overQuota = over;
  c.users = Object.assign(Object.create(null) as Record<string, UserConfig>, users);
  return c;
}

const target = () => ({ user: me.name, maildir: md, uid: me.uid });
const live = () => new AbortController().signal;
/** nsswitch.conf's passwd line names only sources mda can answer for (or there is none: glibc's "files"). */
function localPasswdOnly(): boolean {
  let text: string;
  try {
    text = readFileSync('/etc/nsswitch.conf', 'utf8');
  } catch {
    return true;
  }
  const line = /^passwd:(.*)$/m.exec(text)?.[1] ?? 'files';
  return line.trim().split(/\s+/).every((s) => s === 'files' || s === 'systemd' || s === '');
}
const sizeFile = (text: string) => writeFileSync(join(md, 'maildirsize'), text);

describe('rcptQuotaVerdict on real maildirsize files', () => {
  it('under the quota: ok', async () => {
    sizeFile('10000S\n4000 4\n');
    expect(await rcptQuotaVerdict(target(), 1000, config(10_000), live())).toMatchObject({ verdict: 'ok' });
  });

  it('RFC 3463 X.2.2: over with SIZE and over_quota = "bounce": 552 5.2.2', async () => {
    sizeFile('10000S\n9500 4\n');
    expect(await rcptQuotaVerdict(target(), 1000, config(10_000), live())).toMatchObject({ verdict: 'over', limit: 'storage', reply: { code: 552, dsn: '5.2.2' } });
  });

  it('RFC 3463 X.2.2: already full without SIZE and over_quota = "defer": 452 4.2.2', async () => {
    sizeFile('10000S\n10000 9\n');
    expect(await rcptQuotaVerdict(target(), 0, config(10_000, 'defer'), live())).toMatchObject({ verdict: 'over', reply: { code: 452, dsn: '4.2.2' } });
  });

  it('the maildirsize header is the quota when mda has none (maildirmake -q)', async () => {
    sizeFile('2000S\n1900 2\n');
    expect(await rcptQuotaVerdict(target(), 500, config(0), live())).toMatchObject({ verdict: 'over', from: 'maildirsize' });
  });

  it('a per-user [users.NAME] quota applies', async () => {
    sizeFile('500S\n400 2\n');
    const c = config(0, 'bounce', { [me.name]: { quota: { storage: 500 } } });
    expect(await rcptQuotaVerdict(target(), 200, c, live())).toMatchObject({ verdict: 'over', from: 'config' });
  });

  it('a stale over-quota file is left to the commit (which recounts): ok', async () => {
    sizeFile('10000S\n10000 9\n');
    const old = Date.now() / 1000 - 3600;
    utimesSync(join(md, 'maildirsize'), old, old);
    expect(await rcptQuotaVerdict(target(), 1000, config(10_000), live())).toMatchObject({ verdict: 'ok' });
  });

  it('missing maildirsize or Maildir: ok', async () => {
    expect(await rcptQuotaVerdict(target(), 1_000_000, config(10_000), live())).toMatchObject({ verdict: 'ok' });
    expect(await rcptQuotaVerdict({ ...target(), maildir: join(t.dir, 'none') }, 1_000_000, config(10_000), live())).toMatchObject({ verdict: 'ok' });
  });

  it('a FIFO as maildirsize is not read (no hang): ok', async () => {
    execFileSync('mkfifo', [join(md, 'maildirsize')]);
    expect(await rcptQuotaVerdict(target(), 1_000_000, config(10_000), live())).toMatchObject({ verdict: 'ok', why: expect.stringMatching(/FIFO/) });
  }, 10_000);

  it('a symlinked maildirsize is not followed: ok', async () => {
    writeFileSync(join(t.dir, 'elsewhere'), '10000S\n10000 9\n');
    symlinkSync(join(t.dir, 'elsewhere'), join(md, 'maildirsize'));
    expect(await rcptQuotaVerdict(target(), 1000, config(10_000), live())).toMatchObject({ verdict: 'ok' });
  });

  it.skipIf(!isRoot)('as root: a maildirsize owned by another uid (a symlinked Maildir) is not believed: ok', async () => {
    sizeFile('10000S\n10000 9\n');
    chownSync(join(md, 'maildirsize'), 65534, 65534);
    expect(await rcptQuotaVerdict(target(), 1000, config(10_000), live())).toMatchObject({ verdict: 'ok', why: expect.stringMatching(/uid 65534/) });
  });

  it('no time left (an aborted budget): ok without reading', async () => {
    sizeFile('10000S\n10000 9\n');
    const ac = new AbortController();
    ac.abort();
    expect(await rcptQuotaVerdict(target(), 1000, config(10_000), ac.signal)).toMatchObject({ verdict: 'ok' });
  });
});

describe('resolveAddress with the real account database', () => {
  it.skipIf(!isRoot)('as root: a system account is a user delivered with its own uid', async () => {
    const r = await resolveAddress('Nobody+tag@example.com', recipientRules(defaultConfig(), { virtualOnly: false }), systemAccounts(live()));
    expect(r).toMatchObject({ kind: 'user', user: 'nobody', extension: 'tag', uid: 65534, matchedBy: 'account' });
  });

  it('a name no source knows is unknown when every source is local (files, systemd)', async () => {
    const r = await resolveAddress('no-such-user-4f2a@example.com', recipientRules(defaultConfig(), { virtualOnly: false }), systemAccounts(live()));
    // Only a definite answer may be 550: with a remote NSS source (ldap, sss) this machine says temp.
    expect(r.kind).toBe(localPasswdOnly() ? 'unknown' : 'temp');
  });
});
