import { describe, expect, it } from 'vitest';
import { classifyGetent, notFoundVerdict, parsePasswdSources, passwdFileDecides, type LookupFacts } from '../../../src/privileges/nss-verdict.js';

const src = (name: string, onNotFound: 'return' | 'continue' = 'continue') => ({ name, onNotFound });

describe('parsePasswdSources: the passwd line of nsswitch.conf(5)', () => {
  it.each([
    ['Debian default', 'passwd:         files systemd\ngroup: files\n', [src('files'), src('systemd')]],
    ['RHEL with sss', '# comment\npasswd: files sss systemd\n', [src('files'), src('sss'), src('systemd')]],
    ['NOTFOUND=return', 'passwd: files [NOTFOUND=return] ldap', [src('files', 'return'), src('ldap')]],
    ['negated status: !SUCCESS=return covers NOTFOUND', 'passwd: files [!SUCCESS=return] ldap', [src('files', 'return'), src('ldap')]],
    ['!NOTFOUND=return does not', 'passwd: files [!NOTFOUND=return] ldap', [src('files'), src('ldap')]],
    ['statuses and actions are case-insensitive', 'passwd: files [notfound=RETURN] ldap', [src('files', 'return'), src('ldap')]],
    ['UNAVAIL=return says nothing about NOTFOUND', 'passwd: sss [UNAVAIL=return] files', [src('sss'), src('files')]],
    ['merge counts as continue', 'passwd: files [NOTFOUND=merge] ldap', [src('files'), src('ldap')]],
    ['the last passwd line wins (glibc)', 'passwd: ldap\npasswd: files\n', [src('files')]],
    ['the colon is optional (glibc)', 'passwd files ldap', [src('files'), src('ldap')]],
    ['a trailing comment', 'passwd: files # ldap later', [src('files')]],
    ['passwd_compat is another database', 'passwd_compat: nis\npasswd: compat\n', [src('compat')]],
    ['no passwd line: glibc default files', 'group: files\n', [src('files')]],
    ['an empty passwd line: glibc default files', 'passwd:\n', [src('files')]],
    ['no nsswitch.conf: glibc default files', undefined, [src('files')]],
  ])('%s', (_n, text, want) => expect(parsePasswdSources(text)).toEqual(want));
});

const facts = (over: Partial<LookupFacts> = {}): LookupFacts => ({
  passwdRead: true, passwdHasCompatEntries: false, getentNotFound: true, homed: false, ...over,
});

describe('notFoundVerdict: bounce only on a definite "no such user" (getent(1) exits 2 for NOTFOUND and UNAVAIL alike)', () => {
  it.each([
    ['files, /etc/passwd read', 'passwd: files', facts(), true],
    ['files, /etc/passwd unreadable', 'passwd: files', facts({ passwdRead: false }), false],
    ['files systemd, getent exit 2', 'passwd: files systemd', facts(), true],
    ['files systemd, no getent to ask systemd', 'passwd: files systemd', facts({ getentNotFound: false }), false],
    ['files systemd with systemd-homed running', 'passwd: files systemd', facts({ homed: true }), false],
    ['files ldap: LDAP may have been down', 'passwd: files ldap', facts(), false],
    ['files sss systemd', 'passwd: files sss systemd', facts(), false],
    ['sss first', 'passwd: sss files', facts(), false],
    ['files [NOTFOUND=return] ldap: ldap is never asked', 'passwd: files [NOTFOUND=return] ldap', facts(), true],
    ['files [NOTFOUND=return] ldap, /etc/passwd unreadable', 'passwd: files [NOTFOUND=return] ldap', facts({ passwdRead: false }), false],
    ['compat without +/- entries', 'passwd: compat', facts(), true],
    ['compat with + entries (NIS)', 'passwd: compat', facts({ passwdHasCompatEntries: true }), false],
    ['files with + lines: files ignores NIS', 'passwd: files', facts({ passwdHasCompatEntries: true }), true],
    ['nis', 'passwd: nis', facts(), false],
    ['winbind', 'passwd: files winbind', facts(), false],
  ])('%s → definite %s', (_n, line, f, want) => expect(notFoundVerdict(parsePasswdSources(line), f).definite).toBe(want));

  it('an uncertain verdict says why', () => {
    expect(notFoundVerdict(parsePasswdSources('passwd: files ldap'), facts())).toEqual({ definite: false, why: expect.stringMatching(/ldap/) });
  });

  it.each([
    ['passwd: files', true],
    ['passwd: compat', true],
    ['passwd: files systemd', false], // systemd is only asked through getent
    ['passwd: files [NOTFOUND=return] ldap', true],
    ['passwd: files ldap', false],
  ])('passwdFileDecides(%j) = %s (getent is not run when /etc/passwd decides)', (line, want) =>
    expect(passwdFileDecides(parsePasswdSources(line), { passwdRead: true, passwdHasCompatEntries: false })).toBe(want));
});

describe('classifyGetent: getent(1) exit codes 0 found, 1 bad arguments, 2 not found, 3 no enumeration', () => {
  it.each([
    ['found', 0, 'bob:x:1001:1001::/home/bob:/bin/sh\n', { kind: 'found', line: 'bob:x:1001:1001::/home/bob:/bin/sh' }],
    ['exit 2', 2, '', { kind: 'not-found' }],
    ['another name (a numeric key looked up as a uid)', 0, 'alice:x:1001:1001::/home/alice:/bin/sh\n', { kind: 'not-asked' }],
    ['no getent', 'ENOENT', '', { kind: 'not-asked' }],
    ['exit 0 without an entry', 0, 'garbage\n', { kind: 'failed' }],
    ['exit 0, empty', 0, '', { kind: 'failed' }],
    ['exit 1', 1, '', { kind: 'failed' }],
    ['exit 3', 3, '', { kind: 'failed' }],
    ['killed', null, '', { kind: 'failed' }],
    ['EACCES', 'EACCES', '', { kind: 'failed' }],
  ] as const)('%s', (_n, code, out, want) => expect(classifyGetent('bob', code, out)).toMatchObject(want));
});
