import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config, type UserConfig } from '../../../src/config/schema.js';
import type { Account, AccountLookup } from '../../../src/privileges/accounts.js';
import { refusalOutcome, resolveAddress, type AccountSource } from '../../../src/recipients/resolve.js';
import { recipientRules } from '../../../src/recipients/rules.js';

const root: Account = { name: 'root', uid: 0, gid: 0, home: '/root' };
const vmail: Account = { name: 'vmail', uid: 5000, gid: 5000, home: '/srv/vmail' };
const accounts: Record<string, Account> = {
  alice: { name: 'alice', uid: 1001, gid: 1001, home: '/home/alice' },
  bob: { name: 'bob', uid: 1002, gid: 1002, home: '/home/bob' },
  root,
};

function config(users: Record<string, UserConfig>, over: { domains?: readonly string[]; delimiter?: string } = {}): Config {
  const c = defaultConfig();
  c.users = Object.assign(Object.create(null) as Record<string, UserConfig>, users);
  c.recipients = { domains: [...(over.domains ?? c.recipients.domains)], delimiter: over.delimiter ?? c.recipients.delimiter };
  return c;
}

/** A scripted account database: names in `accounts` are found, `uncertain` cannot be told, the rest are absent. */
function source(running: Account, uncertain: string[] = []): AccountSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    running,
    asked,
    find: async (name): Promise<AccountLookup> => {
      asked.push(name);
      if (uncertain.includes(name)) return { kind: 'uncertain', why: 'nsswitch source ldap may be unavailable' };
      const a = Object.hasOwn(accounts, name) ? accounts[name] : undefined;
      return a ? { kind: 'found', account: a } : { kind: 'absent' };
    },
  };
}

const USERS: Record<string, UserConfig> = {
  'info@example.org': { maildir: '/srv/vmail/info-org' },
  carol: { maildir: '/srv/vmail/%u' },
  'Dave': { maildir: '/srv/vmail/%u' },
};

describe('resolveAddress (issue 11 order: [users."addr"], then [users.NAME] or the system accounts)', () => {
  it.each([
    ['full address hit', 'info@example.org', {}, vmail, false, { kind: 'user', user: 'info@example.org', matchedBy: 'address', maildir: '/srv/vmail/info-org', uid: 5000 }],
    ['full address hit, domain case-insensitive', 'info@EXAMPLE.org', {}, vmail, false, { kind: 'user', user: 'info@example.org', matchedBy: 'address' }],
    ['full address hit with +extension', 'info+sales@example.org', {}, vmail, false, { kind: 'user', user: 'info@example.org', extension: 'sales' }],
    ['full address counts outside [delivery] domains', 'info@example.org', { domains: ['example.com'] }, vmail, false, { kind: 'user', user: 'info@example.org' }],
    ['local part hit in [users.NAME]', 'carol@example.com', {}, vmail, false, { kind: 'user', user: 'carol', matchedBy: 'users', maildir: '/srv/vmail/carol', uid: 5000 }],
    ['+extension split off', 'carol+lists@example.com', {}, vmail, false, { kind: 'user', user: 'carol', extension: 'lists' }],
    ['delimiter from [delivery] recipient_delimiter', 'carol-lists@example.com', { delimiter: '-' }, vmail, false, { kind: 'user', user: 'carol', extension: 'lists' }],
    ['several delimiters, the first found splits', 'carol-a+b@example.com', { delimiter: '+-' }, vmail, false, { kind: 'user', user: 'carol', extension: 'a+b' }],
    ['local part case folded (Dovecot %Lu)', 'CAROL@example.com', {}, vmail, false, { kind: 'user', user: 'carol' }],
    ['a [users] key with capitals matches folded, reported as written', 'dave@example.com', {}, vmail, false, { kind: 'user', user: 'Dave', maildir: '/srv/vmail/Dave' }],
    ['virtual mode: a [users] entry', 'carol@example.com', {}, vmail, true, { kind: 'user', user: 'carol', uid: 5000, switchTo: undefined }],
    ['system account as root: switch to it', 'alice@example.com', {}, root, false, { kind: 'user', user: 'alice', matchedBy: 'account', uid: 1001, maildir: '/home/alice/Maildir', switchTo: accounts.alice }],
    ['system account with +extension', 'Alice+Work@example.com', {}, root, false, { kind: 'user', user: 'alice', extension: 'Work', uid: 1001 }],
    ['a domain in [delivery] domains', 'alice@Example.COM', { domains: ['example.com'] }, root, false, { kind: 'user', user: 'alice' }],
    ['no domain at all is local', 'alice', { domains: ['example.com'] }, root, false, { kind: 'user', user: 'alice' }],
    ['the server delivering as itself', 'alice@example.com', {}, accounts.alice!, false, { kind: 'user', user: 'alice', uid: 1001, switchTo: undefined }],
  ] as const)('%s', async (_n, address, over, running, virtualOnly, want) => {
    const rules = recipientRules(config(USERS, over), { virtualOnly });
    expect(await resolveAddress(address, rules, source(running))).toMatchObject(want);
  });

  it.each([
    ['not found anywhere', 'nobody-here@example.com', {}, root, false, 'unknown'],
    ['another domain while [delivery] domains is set', 'alice@elsewhere.example', { domains: ['example.com'] }, root, false, 'unknown'],
    ['virtual mode: a system account is nobody', 'alice@example.com', {}, vmail, true, 'unknown'],
    ['the null path', '', {}, root, false, 'unknown'],
    ['RFC 5321 §4.5.1: postmaster is resolved upstream (Postfix aliases); unmatched here it is unknown', 'postmaster@example.com', {}, root, false, 'unknown'],
    ['the lookup cannot tell not-found from failed', 'ldapuser@example.com', {}, root, false, 'temp'],
    ['root: mda never delivers as uid 0', 'root@example.com', {}, root, false, 'temp'],
    ['as root, a [users] entry without an account has no uid', 'carol@example.com', {}, root, false, 'temp'],
    ['another uid while not root', 'bob@example.com', {}, accounts.alice!, false, 'temp'],
  ] as const)('%s → %s', async (_n, address, over, running, virtualOnly, kind) => {
    const rules = recipientRules(config(USERS, over), { virtualOnly });
    const r = await resolveAddress(address, rules, source(running, ['ldapuser']));
    expect(r.kind).toBe(kind);
  });

  it('virtual mode never asks the account database', async () => {
    const s = source(vmail);
    const rules = recipientRules(config(USERS), { virtualOnly: true });
    await resolveAddress('carol@example.com', rules, s);
    await resolveAddress('alice@example.com', rules, s);
    expect(s.asked).toEqual([]);
  });

  it('the domain check comes before the account lookup', async () => {
    const s = source(root);
    await resolveAddress('alice@elsewhere.example', recipientRules(config(USERS, { domains: ['example.com'] }), { virtualOnly: false }), s);
    expect(s.asked).toEqual([]);
  });

  it('a lookup that throws (deadline) is temp, never unknown', async () => {
    const s: AccountSource = { running: root, find: () => Promise.reject(new Error('aborted')) };
    expect(await resolveAddress('alice@example.com', recipientRules(config(USERS), { virtualOnly: false }), s)).toMatchObject({ kind: 'temp' });
  });

  it('the Maildir is the one mda deliver computes ([users.NAME] maildir over [delivery] maildir)', async () => {
    const c = config({ alice: { maildir: '~/mail/%u' } });
    const r = await resolveAddress('alice@example.com', recipientRules(c, { virtualOnly: false }), source(root));
    expect(r).toMatchObject({ kind: 'user', maildir: '/home/alice/mail/alice', uid: 1001 });
  });
});

describe('refusalOutcome', () => {
  it.each([
    [{ kind: 'unknown', why: 'no such user: x' }, { kind: 'reject', cause: 'unknown-user' }],
    [{ kind: 'temp', why: 'ldap down' }, { kind: 'temp', cause: 'system' }],
  ] as const)('RFC 3463: %j → %j (5.1.1 / 4.3.0 through toLmtpReply)', (r, want) => {
    expect(refusalOutcome(r)).toMatchObject({ ...want, detail: r.why });
  });
});
