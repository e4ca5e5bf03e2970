/**
 * PolicyService in process, with a stand-in account database: never refuses on its own
 * trouble (a lookup that hangs past request_timeout, one that throws, an unreadable alias
 * file → DUNNO and one rate-limited log line), and the verdict cache (a flood to one
 * address costs one lookup per cache_ttl).
 */
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, type Config, type UserConfig } from '../../src/config/schema.js';
import { parsePolicyRequest, type PolicyRequest } from '../../src/policy/request.js';
import { PolicyService } from '../../src/policy/service.js';
import { TroubleLog } from '../../src/policy/trouble-log.js';
import { runningAccount, type AccountLookup } from '../../src/privileges/accounts.js';
import { tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir('mda-policy-svc-')));
afterEach(() => t.cleanup());

// As root, planRecipient needs a system account for each [users] entry: stand in as an ordinary uid.
const me = process.geteuid?.() === 0 ? { ...runningAccount(), name: 'vmail', uid: 4242, gid: 4242 } : runningAccount();
const live = () => new AbortController().signal;

function rcpt(recipient: string): PolicyRequest {
  const r = parsePolicyRequest(['request=smtpd_access_policy', 'protocol_state=RCPT', `recipient=${recipient}`]);
  if (!r.ok) throw new Error(r.why);
  return r.request;
}

function config(users: Record<string, UserConfig> = {}): Config {
  const c = defaultConfig();
  c.policy.aliases = [];
  c.policy.requestTimeoutMs = 100;
  c.users = Object.assign(Object.create(null) as Record<string, UserConfig>, users);
  return c;
}

function service(c: Config, find: (name: string, signal: AbortSignal) => Promise<AccountLookup>) {
  const lines: string[] = [];
  const calls: string[] = [];
  const svc = new PolicyService({
    config: c, virtualOnly: false, running: me, trouble: new TroubleLog({ warn: (m) => lines.push(m) }),
    accounts: (signal, running) => ({ running, find: (name) => (calls.push(name), find(name, signal)) }),
  });
  return { svc, lines, calls };
}

describe('PolicyService: never refuses on its own trouble', () => {
  it('an account lookup that hangs past request_timeout: DUNNO and a log line', async () => {
    const { svc, lines } = service(config(), () => new Promise(() => undefined));
    expect(await svc.answer(rcpt('carol@example.org'), live())).toBe('action=DUNNO');
    expect(lines).toEqual([expect.stringContaining('no answer within request_timeout (100ms)')]);
  });

  it('an account lookup that fails: DUNNO (not 451), logged once however many requests', async () => {
    const { svc, lines } = service(config(), () => Promise.reject(new Error('LDAP server down')));
    for (let i = 0; i < 20; i++) expect(await svc.answer(rcpt(`u${i}@example.org`), live())).toBe('action=DUNNO');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('LDAP server down');
  });

  it('an alias file that cannot be read: DUNNO even for an unknown user', async () => {
    const c = config();
    c.policy.aliases = [t.dir]; // a directory: not readable as an alias file
    const { svc, lines } = service(c, async () => ({ kind: 'absent' }) as AccountLookup);
    expect(await svc.answer(rcpt('carol@example.org'), live())).toBe('action=DUNNO');
    expect(lines[0]).toContain('alias files');
  });

  it('an unreadable maildirsize (a directory): DUNNO', async () => {
    const md = join(t.dir, 'Maildir');
    mkdirSync(join(md, 'maildirsize'), { recursive: true });
    const c = config({ alice: { maildir: md } });
    c.quota.storage = 1000;
    const { svc } = service(c, async () => ({ kind: 'absent' }) as AccountLookup);
    expect(await svc.answer(rcpt('alice@example.org'), live())).toBe('action=DUNNO');
  });
});

describe('PolicyService: the verdict cache', () => {
  it('a flood to one unknown address costs one lookup per cache_ttl', async () => {
    const { svc, calls } = service(config(), async () => ({ kind: 'absent' }) as AccountLookup);
    for (let i = 0; i < 50; i++) expect(await svc.answer(rcpt('Carol@example.org'), live())).toBe('action=550 5.1.1 User unknown');
    expect(calls).toEqual(['carol']);
  });

  it('cache_ttl = 0: every request looks up', async () => {
    const c = config();
    c.policy.cacheTtlMs = 0;
    const { svc, calls } = service(c, async () => ({ kind: 'absent' }) as AccountLookup);
    for (let i = 0; i < 3; i++) await svc.answer(rcpt('carol@example.org'), live());
    expect(calls).toHaveLength(3);
  });

  it('a full mailbox is refused with the configured text', async () => {
    const md = join(t.dir, 'Maildir');
    mkdirSync(md, { recursive: true });
    writeFileSync(join(md, 'maildirsize'), '1000S\n1000 3\n');
    chownSync(join(md, 'maildirsize'), me.uid, me.gid); // only the owner's file is believed
    const c = config({ alice: { maildir: md } });
    c.policy.overQuotaText = 'Over quota, try later';
    c.quota.overQuota = 'defer';
    const { svc } = service(c, async () => ({ kind: 'absent' }) as AccountLookup);
    expect(await svc.answer(rcpt('alice@example.org'), live())).toBe('action=452 4.2.2 Over quota, try later');
  });
});
