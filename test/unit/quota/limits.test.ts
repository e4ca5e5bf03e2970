import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config, type QuotaSettings } from '../../../src/config/schema.js';
import { ignoredDirs, isUnlimited, quotaFor } from '../../../src/quota/limits.js';

const G = 1024 ** 3;
const M = 1024 ** 2;

function config(global: Partial<QuotaSettings>, users: Record<string, Partial<QuotaSettings> | undefined>): Config {
  const c = defaultConfig();
  Object.assign(c.quota, global);
  c.users = Object.create(null) as Config['users'];
  for (const [name, quota] of Object.entries(users)) c.users[name] = quota === undefined ? {} : { quota };
  return c;
}

describe('quotaFor', () => {
  type Row = [string, Partial<QuotaSettings>, Record<string, Partial<QuotaSettings> | undefined>, string | undefined, [number, number, number]];
  it.each<Row>([
    ['defaults: unlimited', {}, {}, 'alice', [0, 0, 0]],
    ['no user given: global', { storage: G, messages: 10, grace: M }, {}, undefined, [G, 10, M]],
    ['unknown user: global', { storage: G }, { bob: { storage: 1 } }, 'alice', [G, 0, 0]],
    ['user without quota table: global', { storage: G, grace: 5 }, { alice: undefined }, 'alice', [G, 0, 5]],
    ['user with an empty quota table: global', { storage: G }, { alice: {} }, 'alice', [G, 0, 0]],
    ['user overrides storage only', { storage: G, messages: 100, grace: M }, { alice: { storage: 2 * G } }, 'alice', [2 * G, 100, M]],
    ['user overrides messages only', { storage: G, messages: 100 }, { alice: { messages: 5 } }, 'alice', [G, 5, 0]],
    ['user overrides grace only', { storage: G, grace: M }, { alice: { grace: 0 } }, 'alice', [G, 0, 0]],
    ['user overrides everything', { storage: G, messages: 100, grace: M }, { alice: { storage: 1, messages: 2, grace: 3 } }, 'alice', [1, 2, 3]],
    ['user 0 = unlimited overrides a global limit', { storage: G, messages: 100 }, { alice: { storage: 0, messages: 0 } }, 'alice', [0, 0, 0]],
    ['user limit on an unlimited global', {}, { alice: { storage: 10 * M } }, 'alice', [10 * M, 0, 0]],
    ['other users do not leak', { storage: G }, { alice: { storage: 1 }, bob: { messages: 7 } }, 'bob', [G, 7, 0]],
    ['a user named like an Object method', { storage: G }, {}, 'constructor', [G, 0, 0]],
    ['a user named __proto__', { storage: G }, {}, '__proto__', [G, 0, 0]],
  ])('%s', (_name, global, users, user, [storage, messages, grace]) => {
    expect(quotaFor(config(global, users), user)).toEqual({ limits: { storage, messages }, grace, overQuota: 'bounce', ignoreFolders: [] });
  });

  it.each(['bounce', 'defer'] as const)('over_quota %s is global', (overQuota) => {
    const c = config({ storage: 1 }, { alice: { storage: 2 } });
    c.quota.overQuota = overQuota;
    expect(quotaFor(c, 'alice').overQuota).toBe(overQuota);
  });

  it('works on a Config whose users object has a prototype', () => {
    const c = defaultConfig();
    expect(quotaFor(c, 'toString')).toEqual({ limits: { storage: 0, messages: 0 }, grace: 0, overQuota: 'bounce', ignoreFolders: [] });
  });
});

describe('isUnlimited', () => {
  it.each([
    [{ storage: 0, messages: 0 }, true],
    [{ storage: 1, messages: 0 }, false],
    [{ storage: 0, messages: 1 }, false],
    [{ storage: G, messages: 1000 }, false],
  ])('%j → %s', (limits, want) => expect(isUnlimited(limits)).toBe(want));
});

describe('ignoredDirs ([quota] ignore_folders → Maildir++ directories)', () => {
  it.each<[string[], string[]]>([
    [[], []],
    [['Trash'], ['.Trash']], // Courier's default exclusion, spelled as IMAP shows it
    [['Trash', 'Spam'], ['.Trash', '.Spam']],
    [['Archive.2024'], ['.Archive.2024']], // '.' is the Maildir++ hierarchy separator
    [['INBOX.Trash'], ['.Trash']], // the Courier namespace prefix names the same folder
    [['Papierkorb ä'], ['.Papierkorb &AOQ-']], // RFC 3501 modified UTF-7, as stored on disk
  ])('%j → %j', (names, dirs) => {
    expect(ignoredDirs(names)).toEqual(dirs);
  });
});
