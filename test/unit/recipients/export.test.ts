import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config, type UserConfig } from '../../../src/config/schema.js';
import { parsePasswdListing } from '../../../src/privileges/account-list.js';
import type { Account, AccountLookup } from '../../../src/privileges/accounts.js';
import { normalizeDomain } from '../../../src/recipients/address.js';
import { exportRecipients, formatPostmap, postmapKeyProblem } from '../../../src/recipients/export.js';
import { resolveAddress, type AccountSource } from '../../../src/recipients/resolve.js';
import { recipientRules } from '../../../src/recipients/rules.js';

const acct = (name: string, uid: number): Account => ({ name, uid, gid: uid, home: `/home/${name}` });

function config(users: Record<string, UserConfig>, over: { domains?: readonly string[]; delimiter?: string } = {}): Config {
  const c = defaultConfig();
  c.users = Object.assign(Object.create(null) as Record<string, UserConfig>, users);
  // Normalized, as config/validate-recipients.ts stores them.
  c.recipients = { domains: (over.domains ?? []).map((d) => normalizeDomain(d)!), delimiter: over.delimiter ?? c.recipients.delimiter };
  return c;
}

const V = { maildir: '/srv/vmail/%u' };

function run(users: Record<string, UserConfig>, accounts: Account[], over: { domains?: readonly string[]; delimiter?: string; virtualOnly?: boolean } = {}) {
  return exportRecipients(recipientRules(config(users, over), { virtualOnly: over.virtualOnly ?? false }), accounts);
}

describe('exportRecipients: what goes into the map', () => {
  it.each([
    ['a full-address entry is that address', { 'alice@example.org': V }, [], {}, ['alice@example.org']],
    ['a full-address entry: local part folded, domain lowercased', { 'Alice@Example.ORG': V }, [], {}, ['alice@example.org']],
    ['a full-address entry with an IDN domain becomes an A-label', { 'info@bücher.example': V }, [], {}, ['info@xn--bcher-kva.example']],
    ['a full-address entry counts whatever [delivery] domains says', { 'info@other.example': V }, [], { domains: ['example.com'] }, ['info@other.example']],
    ['[users.NAME] with no domains: the bare name (local_recipient_maps)', { carol: V }, [], {}, ['carol']],
    ['[users.NAME] with domains: NAME@DOMAIN for each', { carol: V }, [], { domains: ['example.com', 'example.net'] }, ['carol@example.com', 'carol@example.net']],
    ['[users.NAME] with an IDN domain: the A-label', { carol: V }, [], { domains: ['bücher.example'] }, ['carol@xn--bcher-kva.example']],
    ['[users.NAME] with capitals: folded as the resolver looks it up', { Dave: V }, [], {}, ['dave']],
    ['two keys folding to one name: one line', { Dave: V, dave: V }, [], {}, ['dave']],
    ['a [users] name that the delimiter splits is unreachable: left out', { 'carol+x': V, bob: V }, [], {}, ['bob']],
    ['the same name as [users.NAME] and as an account: one line', { alice: V }, [acct('alice', 1001)], { domains: ['example.com'] }, ['alice@example.com']],
    ['a full-address entry equal to NAME@DOMAIN: one line', { 'carol@example.com': V, carol: V }, [], { domains: ['example.com'] }, ['carol@example.com']],
  ] as const)('%s', (_n, users, accounts, over, want) => {
    expect(run(users, [...accounts], over)).toEqual({ addresses: want, problems: [] });
  });

  it.each([
    ['uid 1000 is the first person', acct('first', 1000), true],
    ['uid 65533 is still a person', acct('last', 65533), true],
    ['uid 999 is a system account (daemon range)', acct('daemon', 999), false],
    ['root (uid 0) never', acct('root', 0), false],
    ['nobody (uid 65534) never', acct('nobody', 65534), false],
    ['above nobody (4294967294) never', acct('nfsnobody', 4294967294), false],
    ['capitals: the resolver folds the name and never finds this account', acct('Erin', 1005), false],
    ['a name the delimiter splits (+): the resolver looks up another name', acct('john+doe', 1006), false],
  ] as const)('system accounts: %s', (_n, account, exported) => {
    const { addresses } = run({}, [account], { domains: ['example.com'] });
    expect(addresses).toEqual(exported ? [`${account.name}@example.com`] : []);
  });

  it('system accounts without domains: the bare name', () => {
    expect(run({}, [acct('alice', 1001)]).addresses).toEqual(['alice']);
  });

  it('virtual mode ([lmtp] user set, or --virtual-only): system accounts are not recipients', () => {
    expect(run({ carol: V }, [acct('alice', 1001)], { domains: ['example.com'], virtualOnly: true }).addresses).toEqual(['carol@example.com']);
  });

  it('an account shadowed by a folded name outside the range stays out', () => {
    // 'Alice' (1001) folds to 'alice', whose own account (uid 500) is not a person: the resolver
    // would deliver to uid 500, which the map does not list.
    expect(run({}, [acct('Alice', 1001), acct('alice', 500)]).addresses).toEqual([]);
  });

  it('stable order: sorted by UTF-8 bytes, whatever the order of config and accounts', () => {
    const users = { zed: V, 'b@example.com': V, Amy: V, 'ünï@example.com': V };
    const accounts = [acct('mallory', 1003), acct('carl', 1002)];
    const one = run(users, accounts, { domains: ['example.com'] }).addresses;
    const two = run(Object.fromEntries(Object.entries(users).reverse()), [...accounts].reverse(), { domains: ['example.com'] }).addresses;
    expect(one).toEqual(['amy@example.com', 'b@example.com', 'carl@example.com', 'mallory@example.com', 'zed@example.com', 'ünï@example.com']);
    expect(two).toEqual(one);
  });

  it('an address no postmap line can hold is a problem, not a silent omission', () => {
    const r = run({ 'a b@example.com': V, '#x@example.com': V, ok: V }, []);
    expect(r.addresses).toEqual(['ok']);
    expect(r.problems).toHaveLength(2);
    expect(r.problems.join('\n')).toMatch(/"a b@example.com" contains a space/);
    expect(r.problems.join('\n')).toMatch(/"#x@example.com" starts with "#"/);
  });
});

describe('the map agrees with the one resolver (resolve.ts resolveAddress)', () => {
  const root = acct('root', 0);
  const vmail = acct('vmail', 5000);
  const accounts = [acct('alice', 1001), acct('bob', 1002), acct('Erin', 1005), acct('daemon', 1), acct('nobody', 65534), root, vmail];
  const source = (running: Account): AccountSource => ({
    running,
    find: async (name): Promise<AccountLookup> => {
      const a = accounts.find((x) => x.name === name);
      return a ? { kind: 'found', account: a } : { kind: 'absent' };
    },
  });
  const users = { 'info@bücher.example': V, carol: V, Dave: V, 'carol+x': V, 'sales@Example.NET': V };
  const PROBES = ['carol+x', 'erin', 'Erin', 'daemon', 'nobody', 'root', 'mallory', 'info', 'sales'];

  it.each([
    ['no domains', [], false, '+'],
    ['with domains', ['example.com', 'bücher.example'], false, '+'],
    ['virtual mode', ['example.com'], true, '+'],
    ['with "-" as a delimiter too', ['example.com'], false, '+-'],
  ] as const)('%s: every exported address resolves to a user; the rest are unknown or not persons', async (_n, domains, virtualOnly, delimiter) => {
    const rules = recipientRules(config(users, { domains, delimiter }), { virtualOnly });
    const { addresses, problems } = exportRecipients(rules, accounts);
    expect(problems).toEqual([]);
    expect(addresses.length).toBeGreaterThan(0);
    for (const a of addresses) {
      // A [users] entry without an account is delivered by a server running as its owner (vmail),
      // a system account by one running as root: whichever runs, the answer is never "unknown".
      const asRoot = await resolveAddress(a, rules, source(root));
      const asVmail = await resolveAddress(a, rules, source(vmail));
      expect({ a, root: asRoot.kind === 'unknown', vmail: asVmail.kind === 'unknown' }).toEqual({ a, root: false, vmail: false });
      expect({ a, someoneDelivers: asRoot.kind === 'user' || asVmail.kind === 'user' }).toEqual({ a, someoneDelivers: true });
    }
    const suffixes = domains.length === 0 ? [''] : domains.map((d) => `@${normalizeDomain(d)}`);
    for (const probe of PROBES.flatMap((p) => suffixes.map((s) => p + s))) {
      if (addresses.includes(probe.toLowerCase())) continue;
      const r = await resolveAddress(probe, rules, source(root));
      // Left out: unknown to the resolver, or an account outside uid 1000-65533 (the person range).
      const outsideRange = r.kind === 'user' ? r.uid < 1000 || r.uid >= 65534 : r.kind !== 'temp' || /uid 0/.test(r.why);
      expect({ probe, leftOutRightly: r.kind === 'unknown' || outsideRange }).toEqual({ probe, leftOutRightly: true });
    }
  });
});

describe('postmap source format', () => {
  it('one "address OK" line per address, newline-terminated', () => {
    expect(formatPostmap(['a@example.com', 'b'])).toBe('a@example.com OK\nb OK\n');
  });
  it.each([
    ['alice@example.com', undefined],
    ['', 'is empty'],
    ['a\tb', 'contains a space or a control character'],
    ['a\nb', 'contains a space or a control character'],
    ['#alice', 'starts with "#" (a comment in postmap input)'],
    ['al#ice', undefined],
  ])('postmapKeyProblem(%j)', (key, want) => {
    expect(postmapKeyProblem(key)).toBe(want);
  });
});

describe('parsePasswdListing (getent passwd output)', () => {
  it('reads every entry', () => {
    expect(parsePasswdListing('root:x:0:0:root:/root:/bin/bash\nalice:x:1001:1001::/home/alice:/bin/sh\n')).toEqual([
      { name: 'root', uid: 0, gid: 0, home: '/root' },
      { name: 'alice', uid: 1001, gid: 1001, home: '/home/alice' },
    ]);
  });
  it('a malformed line is an error, never a shorter list', () => {
    expect(() => parsePasswdListing('root:x:0:0:root:/root:/bin/bash\nbroken:x:notanumber\n')).toThrow(/line 2 is not a passwd\(5\) entry/);
  });
});
