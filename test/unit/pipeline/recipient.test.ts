import { describe, expect, it } from 'vitest';
import { expandMaildir, planRecipient, type RecipientInput } from '../../../src/pipeline/recipient.js';
import { parsePasswdLine } from '../../../src/privileges/accounts.js';

const alice = { name: 'alice', uid: 1001, gid: 1001, home: '/home/alice' };
const root = { name: 'root', uid: 0, gid: 0, home: '/root' };
const vmail = { name: 'vmail', uid: 2000, gid: 2000, home: '/srv/vmail' };
const base: RecipientInput = {
  user: 'alice',
  account: alice,
  userConfig: undefined,
  running: alice,
  envHome: undefined,
  flagMaildir: undefined,
  configMaildir: '~/Maildir',
  cwd: '/var/spool/postfix',
};

describe('planRecipient', () => {
  it.each([
    ['as the user under Postfix (HOME set)', { envHome: '/home/alice' }, { switchTo: undefined, uid: 1001, maildir: '/home/alice/Maildir' }],
    ['as the user, no HOME: passwd home', {}, { switchTo: undefined, uid: 1001, maildir: '/home/alice/Maildir' }],
    ['root with --user: switch, passwd home (not root HOME)', { running: root, envHome: '/root' }, { switchTo: alice, uid: 1001, maildir: '/home/alice/Maildir' }],
    ['root delivering to root', { user: 'root', account: root, running: root }, { switchTo: undefined, uid: 0, maildir: '/root/Maildir' }],
    ['--maildir relative to cwd', { flagMaildir: 'demo/Maildir', cwd: '/work' }, { maildir: '/work/demo/Maildir' }],
    ['--maildir with ~ and %u', { flagMaildir: '~/mail/%u' }, { maildir: '/home/alice/mail/alice' }],
    ['[users.NAME] maildir', { userConfig: { maildir: '/srv/mail/%u/Maildir' } }, { maildir: '/srv/mail/alice/Maildir' }],
    ['config maildir template', { configMaildir: '/var/mail/%u/' }, { maildir: '/var/mail/alice' }],
    ['virtual user as vmail', { user: 'v1', account: undefined, userConfig: { maildir: '/srv/v/%u' }, running: vmail }, { switchTo: undefined, uid: 2000, maildir: '/srv/v/v1' }],
    ['virtual user as vmail while NSS cannot say ([users.NAME] declares it)', { user: 'v1', account: undefined, lookupFailed: 'ldap down', userConfig: { maildir: '/srv/v/%u' }, running: vmail }, { switchTo: undefined, uid: 2000, maildir: '/srv/v/v1' }],
  ] as const)('%s', (_n, over, want) => {
    expect(planRecipient({ ...base, ...over } as RecipientInput)).toMatchObject(want);
  });

  it.each([
    ['unknown user', { user: 'nobody-here', account: undefined }, { kind: 'reject', cause: 'unknown-user' }],
    // issue 9 finding 4: getent cannot tell "not found" from "NSS source down"; never 5.1.1 then
    ['a lookup that cannot tell (NSS source unavailable)', { user: 'maybe', account: undefined, lookupFailed: 'nsswitch source ldap may be unavailable' }, { kind: 'temp', cause: 'system', detail: expect.stringMatching(/maybe.*ldap/) }],
    ['a lookup that cannot tell, as root', { user: 'maybe', account: undefined, lookupFailed: 'ldap', running: root }, { kind: 'temp', cause: 'system' }],
    ['a lookup that cannot tell, as root with [users.NAME]', { user: 'maybe', account: undefined, lookupFailed: 'ldap', userConfig: {}, running: root }, { kind: 'temp', cause: 'system' }],
    ['virtual user while root', { account: undefined, userConfig: {}, running: root }, { kind: 'temp', cause: 'config' }],
    ['another account without root', { account: vmail, running: alice }, { kind: 'temp', cause: 'system' }],
  ] as const)('%s is refused', (_n, over, want) => {
    expect(planRecipient({ ...base, ...over } as RecipientInput)).toMatchObject(want);
  });
});

describe('expandMaildir', () => {
  it.each([
    ['~', '/h'],
    ['~/Maildir', '/h/Maildir'],
    ['~/Maildir/', '/h/Maildir'],
    ['/abs/%u/x', '/abs/u/x'],
    ['rel', '/base/rel'],
    ['%u', '/base/u'],
  ])('%j', (t, want) => expect(expandMaildir(t, 'u', '/h', '/base')).toBe(want));
});

describe('parsePasswdLine', () => {
  it.each([
    ['alice:x:1001:1001:Alice,,,:/home/alice:/bin/bash', { name: 'alice', uid: 1001, gid: 1001, home: '/home/alice' }],
    ['nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin', { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent' }],
    ['short:x:1', undefined],
    ['bad:x:abc:1::/h:/s', undefined],
    ['empty:x::1::/h:/s', undefined],
    [':x:1:1::/h:/s', undefined],
  ])('%j', (line, want) => expect(parsePasswdLine(line)).toEqual(want));
});
