import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../../src/config/schema.js';
import { formatIssue, validateConfig, type ConfigIssue } from '../../../src/config/validate.js';

const FILE = '/etc/mda/mda.toml';

/** check parses TOML the way load.ts does and validates it. */
function check(text: string): { config: Config } | { errors: ConfigIssue[] } {
  return validateConfig(parse(text, { integersAsBigInt: true }), FILE, text);
}

function configOf(text: string): Config {
  const r = check(text);
  if ('errors' in r) throw new Error(`unexpected errors:\n${r.errors.map(formatIssue).join('\n')}`);
  return r.config;
}

function errorsOf(text: string): string[] {
  const r = check(text);
  if (!('errors' in r)) throw new Error('expected errors, got a config');
  return r.errors.map(formatIssue);
}

describe('validateConfig: valid files', () => {
  it('an empty file gives the defaults, with the source set', () => {
    expect(configOf('')).toEqual({ ...defaultConfig(), source: FILE });
  });

  it('reads every supported key', () => {
    const c = configOf(`
[delivery]
maildir = "/var/mail/%u/Maildir"
deadline = "120s"
max_message_size = "10M"
[log]
target = "file:/var/log/mda.log"
[users.alice]
maildir = "/srv/mail/alice/Maildir"
[users."bob smith"]
[users.carol]
maildir = "~/Mail"
`);
    expect(c.delivery).toEqual({ maildir: '/var/mail/%u/Maildir', deadlineMs: 120_000, maxMessageSize: 10 * 1024 * 1024, autocreateFolders: true, sendmail: '/usr/sbin/sendmail', mbox: '', mboxFolders: '' });
    expect(c.log.target).toEqual({ kind: 'file', path: '/var/log/mda.log' });
    expect({ ...c.users }).toEqual({
      alice: { maildir: '/srv/mail/alice/Maildir' },
      'bob smith': {},
      carol: { maildir: '~/Mail' },
    });
  });

  it.each([
    ['deadline = "240s"', 240_000],
    ['deadline = 240', 240_000], // integer = seconds
    ['deadline = "1s"', 1_000],
    ['deadline = "1000ms"', 1_000],
    ['deadline = 1', 1_000],
    ['deadline = "900s"', 900_000],
    ['deadline = "15m"', 900_000],
    ['deadline = 900', 900_000],
    ['deadline = "1.5s"', 1_500],
    ['deadline = 240.0', 240_000], // a whole number of seconds, even written as a float
  ])('[delivery] %s → %d ms', (line, ms) => {
    expect(configOf(`[delivery]\n${line}`).delivery.deadlineMs).toBe(ms);
  });

  it.each([
    ['max_message_size = "50M"', 50 * 1024 * 1024],
    ['max_message_size = "50MB"', 50 * 1024 * 1024],
    ['max_message_size = 1', 1],
    ['max_message_size = 1048576', 1048576],
    ['max_message_size = "2T"', 2 * 1024 ** 4],
  ])('[delivery] %s → %d bytes', (line, bytes) => {
    expect(configOf(`[delivery]\n${line}`).delivery.maxMessageSize).toBe(bytes);
  });

  it.each([
    ['syslog', { kind: 'syslog' }],
    ['stderr', { kind: 'stderr' }],
    ['none', { kind: 'none' }],
    ['file:/var/log/mda.log', { kind: 'file', path: '/var/log/mda.log' }],
  ])('log target %s', (target, expected) => {
    expect(configOf(`[log]\ntarget = "${target}"`).log.target).toEqual(expected);
  });

  it.each(['~', '~/Maildir', '/srv/%u/Maildir', '~/Maildir/%u'])('maildir %j is accepted', (m) => {
    expect(configOf(`[delivery]\nmaildir = "${m}"`).delivery.maildir).toBe(m);
  });

  it('dotted top-level keys and inline tables work like tables', () => {
    const c = configOf('delivery.deadline = "30s"\nusers = { alice = { maildir = "/a" } }');
    expect(c.delivery.deadlineMs).toBe(30_000);
    expect(c.users['alice']).toEqual({ maildir: '/a' });
  });

  it('user names cannot reach Object.prototype', () => {
    const c = configOf('[users.alice]');
    expect(c.users['constructor']).toBeUndefined();
    expect(c.users['toString']).toBeUndefined();
  });

  it('accepts plain numbers as integers (callers that do not use BigInt)', () => {
    const r = validateConfig({ delivery: { deadline: 60, max_message_size: 1024 } }, FILE, '');
    expect(r).toHaveProperty('config.delivery.deadlineMs', 60_000);
    expect(r).toHaveProperty('config.delivery.maxMessageSize', 1024);
  });
});

describe('validateConfig: [quota], [locks] and per-user quota', () => {
  const G = 1024 ** 3;
  const M = 1024 ** 2;

  it('defaults: unlimited quota, bounce, 10s lock timeout, 60s stale', () => {
    const c = configOf('');
    expect(c.quota).toEqual({ storage: 0, messages: 0, grace: 0, overQuota: 'bounce', ignoreFolders: [] });
    expect(c.locks).toEqual({ timeoutMs: 10_000, staleMs: 60_000, mboxLocks: ['dotlock', 'fcntl'], mboxDotlockStaleMs: 300_000, dotlockfile: '/usr/bin/dotlockfile' });
  });

  it('reads the mbox keys', () => {
    const c = configOf(`
[delivery]
mbox = "/var/mail/%u"
mbox_folders = "~/mail"
[locks]
mbox_locks = ["dotlock", "flock"]
mbox_dotlock_stale = "10m"
dotlockfile = "/opt/bin/dotlockfile"
[users.dave]
mbox = "~/inbox.mbox"
`);
    expect(c.delivery).toMatchObject({ mbox: '/var/mail/%u', mboxFolders: '~/mail' });
    expect(c.locks).toMatchObject({ mboxLocks: ['dotlock', 'flock'], mboxDotlockStaleMs: 600_000, dotlockfile: '/opt/bin/dotlockfile' });
    expect(c.users['dave']).toEqual({ mbox: '~/inbox.mbox' });
  });

  it.each([
    ['[locks]\nmbox_locks = []', /:2: locks\.mbox_locks: must be a non-empty array of "dotlock", "fcntl", "flock", in that order, got an empty array/],
    ['[locks]\nmbox_locks = ["fcntl", "dotlock"]', /:2: locks\.mbox_locks: .*element 2 "dotlock" is out of order or repeated/],
    ['[locks]\nmbox_locks = ["fcntl", "fcntl"]', /:2: locks\.mbox_locks: .*element 2 "fcntl" is out of order or repeated/],
    ['[locks]\nmbox_locks = ["lockf"]', /:2: locks\.mbox_locks: .*element 1 is "lockf"/],
    ['[locks]\nmbox_locks = "fcntl"', /:2: locks\.mbox_locks: .*got a string/],
    ['[locks]\nmbox_dotlock_stale = "10ms"', /:2: locks\.mbox_dotlock_stale: must be at least 1s/],
    ['[locks]\ndotlockfile = "dotlockfile"', /:2: locks\.dotlockfile: must be an absolute path/],
    ['\n[delivery]\nmbox = "mail/%u"', /:3: delivery\.mbox: must be an absolute path or start with ~\//],
    ['[delivery]\nmbox_folders = 3', /:2: delivery\.mbox_folders: must be a string/],
    ['[users.x]\nmbox = "%h/mbox"', /:2: users\.x\.mbox: must be an absolute path/],
  ])('rejects %j', (text, want) => {
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(want);
  });

  it('reads every quota and lock key', () => {
    const c = configOf(`
[quota]
storage = "1G"
messages = 10000
grace = "10M"
over_quota = "defer"
ignore_folders = ["Trash", "Junk"]
[locks]
timeout = "5s"
stale = "2m"
[users.alice]
quota = { storage = "2G", messages = 1000, grace = "1M" }
[users.bob.quota]
messages = 50
[users.carol]
maildir = "/srv/carol"
`);
    expect(c.quota).toEqual({ storage: G, messages: 10000, grace: 10 * M, overQuota: 'defer', ignoreFolders: ['Trash', 'Junk'] });
    expect(c.locks).toMatchObject({ timeoutMs: 5_000, staleMs: 120_000 });
    expect(c.users['alice']).toEqual({ quota: { storage: 2 * G, messages: 1000, grace: M } });
    expect(c.users['bob']).toEqual({ quota: { messages: 50 } });
    expect(c.users['carol']).toEqual({ maildir: '/srv/carol' });
  });

  it.each([
    ['storage = "0"', { storage: 0 }],
    ['storage = 0', { storage: 0 }],
    ['storage = "0M"', { storage: 0 }],
    ['storage = 1', { storage: 1 }],
    ['storage = "512K"', { storage: 512 * 1024 }],
    ['storage = "1.5G"', { storage: 1.5 * G }],
    ['storage = "8191T"', { storage: 8191 * 1024 ** 4 }],
    ['storage = 9007199254740991', { storage: Number.MAX_SAFE_INTEGER }],
    ['messages = 0', { messages: 0 }],
    ['messages = 1', { messages: 1 }],
    ['messages = 1000.0', { messages: 1000 }],
    ['messages = 9007199254740991', { messages: Number.MAX_SAFE_INTEGER }],
    ['grace = "0"', { grace: 0 }],
    ['grace = "10M"', { grace: 10 * M }],
    ['over_quota = "bounce"', { overQuota: 'bounce' }],
    ['over_quota = "defer"', { overQuota: 'defer' }],
    ['ignore_folders = []', { ignoreFolders: [] }],
    ['ignore_folders = ["Trash"]', { ignoreFolders: ['Trash'] }],
  ])('[quota] %s', (line, want) => {
    expect(configOf(`[quota]\n${line}`).quota).toMatchObject(want);
  });

  it.each([
    ['timeout = "100ms"', { timeoutMs: 100 }],
    ['timeout = "10s"', { timeoutMs: 10_000 }],
    ['timeout = 30', { timeoutMs: 30_000 }],
    ['timeout = "600s"', { timeoutMs: 600_000 }],
    ['timeout = "10m"', { timeoutMs: 600_000 }],
    ['stale = "1s"', { staleMs: 1_000 }],
    ['stale = 1', { staleMs: 1_000 }],
    ['stale = "1d"', { staleMs: 86_400_000 }],
    ['stale = "1000ms"', { staleMs: 1_000 }],
  ])('[locks] %s', (line, want) => {
    expect(configOf(`[locks]\n${line}`).locks).toMatchObject(want);
  });

  it.each([
    ['[users.a]\nquota = { storage = "2G" }', { storage: 2 * G }],
    ['[users.a]\nquota = { messages = 0 }', { messages: 0 }],
    ['[users.a]\nquota = {}', {}],
    ['[users.a.quota]\ngrace = "10M"\nstorage = 0', { grace: 10 * M, storage: 0 }],
    ['[users.a]\nquota.storage = "1M"', { storage: M }],
    ['users.a.quota.messages = 3', { messages: 3 }],
  ])('per-user %j', (text, want) => {
    expect(configOf(text).users['a']).toEqual({ quota: want });
  });
});

describe('validateConfig: one error each, with line and key', () => {
  it.each([
    // unknown tables and keys, at every level
    ['foo = 1', `${FILE}:1: foo: unknown key (known: delivery, quota, locks, log, users, scanner, scanning, spam, virus, sieve, lmtp, policy)`],
    ['\n[deliver]', `${FILE}:2: deliver: unknown table (known: delivery, quota, locks, log, users, scanner, scanning, spam, virus, sieve, lmtp, policy)`],
    ['[delivery]\n\ndeadlin = "30s"', `${FILE}:3: delivery.deadlin: unknown key (known: maildir, deadline, max_message_size, autocreate_folders, sendmail, domains, recipient_delimiter, mbox, mbox_folders)`],
    ['[delivery.sub]', `${FILE}:1: delivery.sub: unknown table (known: maildir, deadline, max_message_size, autocreate_folders, sendmail, domains, recipient_delimiter, mbox, mbox_folders)`],
    ['[log]\nlevel = "debug"', `${FILE}:2: log.level: unknown key (known: target)`],
    ['[users.alice]\nmaildir = "/a"\nhome = "/h"', `${FILE}:3: users.alice.home: unknown key (known: maildir, quota, mbox)`],
    ['[users."bob smith"]\nquota = 1', `${FILE}:2: users."bob smith".quota: must be a table, got an integer`],
    ['delivery.deadlin = 30', `${FILE}:1: delivery.deadlin: unknown key (known: maildir, deadline, max_message_size, autocreate_folders, sendmail, domains, recipient_delimiter, mbox, mbox_folders)`],
    // wrong shapes
    ['delivery = 5', `${FILE}:1: delivery: must be a table, got an integer`],
    ['log = "syslog"', `${FILE}:1: log: must be a table, got a string`],
    ['users = ["alice"]', `${FILE}:1: users: must be a table, got an array`],
    ['[users]\nalice = "/srv/alice"', `${FILE}:2: users.alice: must be a table, got a string`],
    // delivery.maildir
    ['[delivery]\nmaildir = 1', `${FILE}:2: delivery.maildir: must be a string, got an integer`],
    ['[delivery]\nmaildir = true', `${FILE}:2: delivery.maildir: must be a string, got a boolean`],
    ['[delivery]\nmaildir = "Maildir"', /:2: delivery\.maildir: must be an absolute path or start with ~\/.*"Maildir"/],
    ['[delivery]\nmaildir = ""', /:2: delivery\.maildir: must be an absolute path/],
    ['[delivery]\nmaildir = "~alice/Maildir"', /:2: delivery\.maildir: must be an absolute path/],
    ['[delivery]\nmaildir = "/srv/%d/Maildir"', /:2: delivery\.maildir: only %u/],
    ['[delivery]\nmaildir = "/srv/%"', /:2: delivery\.maildir: only %u/],
    ['[delivery]\nmaildir = "/srv/a\\u0000b"', /:2: delivery\.maildir: must not contain a NUL byte/],
    // delivery.deadline
    ['[delivery]\ndeadline = "0s"', /:2: delivery\.deadline: must be between 1s and 900s .*command_time_limit.*got "0s"/],
    ['[delivery]\ndeadline = "999ms"', /:2: delivery\.deadline: must be between 1s and 900s/],
    ['[delivery]\ndeadline = "901s"', /:2: delivery\.deadline: must be between 1s and 900s/],
    ['[delivery]\ndeadline = "1000s"', /:2: delivery\.deadline: must be between 1s and 900s/],
    ['[delivery]\ndeadline = "1h"', /:2: delivery\.deadline: must be between 1s and 900s/],
    ['[delivery]\ndeadline = 0', /:2: delivery\.deadline: must be between 1s and 900s.*got 0$/],
    ['[delivery]\ndeadline = 901', /:2: delivery\.deadline: must be between 1s and 900s/],
    ['[delivery]\ndeadline = -5', /:2: delivery\.deadline: must not be negative, got -5/],
    ['[delivery]\ndeadline = 9223372036854775807', /:2: delivery\.deadline: is too large/],
    ['[delivery]\ndeadline = 9007199254740991', /:2: delivery\.deadline: is too large/], // ×1000 overflows
    ['[delivery]\ndeadline = 2.5', /:2: delivery\.deadline: must be a duration string like "240s" or an integer number of seconds, got a float/],
    ['[delivery]\ndeadline = true', /:2: delivery\.deadline: must be a duration .*got a boolean/],
    ['[delivery]\ndeadline = 1979-05-27', /:2: delivery\.deadline: must be a duration .*got a date\/time/],
    ['[delivery]\ndeadline = ["30s"]', /:2: delivery\.deadline: must be a duration .*got an array/],
    ['[delivery]\ndeadline = { s = 30 }', /:2: delivery\.deadline: must be a duration .*got a table/],
    ['[delivery]\ndeadline = "5x"', /:2: delivery\.deadline: "5x" is not a duration \(use e\.g\./],
    ['[delivery]\ndeadline = ""', /:2: delivery\.deadline: an empty string is not a duration/],
    ['[delivery]\ndeadline = "-30s"', /:2: delivery\.deadline: "-30s" is negative/],
    // delivery.max_message_size
    ['[delivery]\nmax_message_size = 0', /:2: delivery\.max_message_size: must be greater than 0, got 0$/],
    ['[delivery]\nmax_message_size = "0M"', /:2: delivery\.max_message_size: must be greater than 0, got "0M"/],
    ['[delivery]\nmax_message_size = -1', /:2: delivery\.max_message_size: must not be negative/],
    ['[delivery]\nmax_message_size = "50X"', /:2: delivery\.max_message_size: "50X" is not a size/],
    ['[delivery]\nmax_message_size = "0.1K"', /:2: delivery\.max_message_size: .*not a whole number of bytes/],
    ['[delivery]\nmax_message_size = "8192T"', /:2: delivery\.max_message_size: .*too large/],
    ['[delivery]\nmax_message_size = 1.5', /:2: delivery\.max_message_size: must be a size string like "50M" or an integer number of bytes, got a float/],
    ['[delivery]\nmax_message_size = false', /:2: delivery\.max_message_size: must be a size .*got a boolean/],
    // log.target
    ['[log]\ntarget = "file:var/log/mda.log"', /:2: log\.target: a log file must be an absolute path, got "file:var\/log\/mda\.log"/],
    ['[log]\ntarget = "file:"', /:2: log\.target: a log file must be an absolute path/],
    ['[log]\ntarget = "journald"', /:2: log\.target: must be "syslog", "stderr", "none" or "file:\/absolute\/path", got "journald"/],
    ['[log]\ntarget = "SYSLOG"', /:2: log\.target: must be "syslog"/],
    ['[log]\ntarget = ""', /:2: log\.target: must be "syslog"/],
    ['[log]\ntarget = 1', /:2: log\.target: must be "syslog".*got an integer/],
    // [quota]
    ['quota = 1', /:1: quota: must be a table, got an integer/],
    ['[quota]\nsize = "1G"', `${FILE}:2: quota.size: unknown key (known: storage, messages, grace, over_quota, ignore_folders)`],
    ['[quota.alice]', /:1: quota\.alice: unknown table \(known: storage, messages, grace, over_quota, ignore_folders\)/],
    ['[quota]\nstorage = -1', /:2: quota\.storage: must not be negative, got -1/],
    ['[quota]\nstorage = "-1G"', /:2: quota\.storage: "-1G" is negative/],
    ['[quota]\nstorage = "lots"', /:2: quota\.storage: "lots" is not a size/],
    ['[quota]\nstorage = "8192T"', /:2: quota\.storage: .*too large/],
    ['[quota]\nstorage = 9007199254740992', /:2: quota\.storage: is too large/],
    ['[quota]\nstorage = 1.5', /:2: quota\.storage: must be a size string .*got a float/],
    ['[quota]\nstorage = true', /:2: quota\.storage: must be a size .*got a boolean/],
    ['[quota]\nmessages = "1000"', /:2: quota\.messages: must be an integer number of messages, got a string/],
    ['[quota]\nmessages = 1.5', /:2: quota\.messages: must be an integer number of messages, got a float/],
    ['[quota]\nmessages = -1', /:2: quota\.messages: must not be negative, got -1/],
    ['[quota]\nmessages = 9007199254740992', /:2: quota\.messages: is too large/],
    ['[quota]\ngrace = "-5M"', /:2: quota\.grace: "-5M" is negative/],
    ['[quota]\ngrace = "5X"', /:2: quota\.grace: "5X" is not a size/],
    ['[quota]\nover_quota = "reject"', /:2: quota\.over_quota: must be "bounce" \(5\.2\.2\) or "defer" \(4\.2\.2\), got "reject"/],
    ['[quota]\nover_quota = "Bounce"', /:2: quota\.over_quota: must be "bounce"/],
    ['[quota]\nover_quota = true', /:2: quota\.over_quota: must be "bounce".*got a boolean/],
    ['[quota]\nignore_folders = "Trash"', /:2: quota\.ignore_folders: must be an array of folder names, got a string/],
    ['[quota]\nignore_folders = [1]', /:2: quota\.ignore_folders: must be an array of folder names, element 1 is an integer/],
    ['[quota]\nignore_folders = ["INBOX"]', /:2: quota\.ignore_folders: element 1: INBOX always counts/],
    ['[quota]\nignore_folders = ["a/b"]', /:2: quota\.ignore_folders: element 1 "a\/b": folder name contains '\/'/],
    // [locks]
    ['locks = "10s"', /:1: locks: must be a table, got a string/],
    ['[locks]\nwait = "10s"', `${FILE}:2: locks.wait: unknown key (known: timeout, stale, mbox_locks, mbox_dotlock_stale, dotlockfile)`],
    ['[locks]\ntimeout = "99ms"', /:2: locks\.timeout: must be between 100ms and 600s, got "99ms"/],
    ['[locks]\ntimeout = 0', /:2: locks\.timeout: must be between 100ms and 600s, got 0$/],
    ['[locks]\ntimeout = "601s"', /:2: locks\.timeout: must be between 100ms and 600s/],
    ['[locks]\ntimeout = "1h"', /:2: locks\.timeout: must be between 100ms and 600s/],
    ['[locks]\ntimeout = "soon"', /:2: locks\.timeout: "soon" is not a duration/],
    ['[locks]\ntimeout = -1', /:2: locks\.timeout: must not be negative/],
    ['[locks]\ntimeout = 0.5', /:2: locks\.timeout: must be a duration string like "10s" .*got a float/],
    ['[locks]\nstale = "999ms"', /:2: locks\.stale: must be at least 1s, got "999ms"/],
    ['[locks]\nstale = 0', /:2: locks\.stale: must be at least 1s, got 0$/],
    ['[locks]\nstale = "0s"', /:2: locks\.stale: must be at least 1s/],
    ['[locks]\nstale = false', /:2: locks\.stale: must be a duration string like "60s" .*got a boolean/],
    // per-user quota
    ['[users.alice]\nquota = "2G"', /:2: users\.alice\.quota: must be a table, got a string/],
    ['[users.alice]\nquota = { storage = "2G", over_quota = "defer" }', /:2: users\.alice\.quota\.over_quota: unknown key \(known: storage, messages, grace\)/],
    ['[users.alice]\nquota = { storage = "big" }', /:2: users\.alice\.quota\.storage: "big" is not a size/],
    ['[users.alice]\nquota = { messages = -3 }', /:2: users\.alice\.quota\.messages: must not be negative/],
    ['[users.alice.quota]\n\ngrace = "x"', /:3: users\.alice\.quota\.grace: "x" is not a size/],
    ['[users.alice.quota]\nmessages = "5"', /:2: users\.alice\.quota\.messages: must be an integer number of messages/],
    ['[users.alice.quota]\nstorage = "1G"\nfiles = 5', /:3: users\.alice\.quota\.files: unknown key/],
    // user names and per-user keys
    ['[users.""]\nmaildir = "/x"', /:1: users\."": a user name must be non-empty, must not contain "\/"/],
    ['[users."a/b"]', /:1: users\."a\/b": a user name must be non-empty/],
    ['[users."../etc"]', /:1: users\."\.\.\/etc": a user name must be non-empty/],
    ['[users.".."]', /:1: users\."\.\.": .*must not be "\." or "\.\."/],
    ['[users."."]', /:1: users\."\.": .*must not be "\." or "\.\."/],
    ['[users.alice]\nmaildir = "Maildir"', /:2: users\.alice\.maildir: must be an absolute path/],
    ['[users."bob smith"]\nmaildir = 7', /:2: users\."bob smith"\.maildir: must be a string, got an integer/],
    ['[users.alice]\nmaildir = { path = "/x" }', /:2: users\.alice\.maildir: must be a string, got a table/],
    ['users = { alice = { maildir = "rel" } }', /:1: users\.alice\.maildir: must be an absolute path/],
  ])('%j', (text, expected) => {
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    if (typeof expected === 'string') expect(errors[0]).toBe(expected);
    else expect(errors[0]).toMatch(expected);
  });
});

describe('validateConfig: collects every error', () => {
  it('reports all problems in file order with their own lines', () => {
    const text = [
      'bogus = 1', //                    1
      '[delivery]', //                   2
      'maildir = "relative"', //         3
      'deadline = "2000s"', //           4
      'max_message_size = "lots"', //    5
      'deadlin = "5s"', //               6
      '[log]', //                        7
      'target = "file:rel.log"', //      8
      '[users.alice]', //                9
      'maildir = 5', //                  10
      'shell = "/bin/sh"', //            11
      '[users."x/y"]', //                12
      '[extra]', //                      13
    ].join('\n');
    const r = check(text);
    expect('errors' in r).toBe(true);
    const issues = 'errors' in r ? r.errors : [];
    expect(issues.map((i) => [i.line, i.key])).toEqual([
      [1, 'bogus'],
      [3, 'delivery.maildir'],
      [4, 'delivery.deadline'],
      [5, 'delivery.max_message_size'],
      [6, 'delivery.deadlin'],
      [8, 'log.target'],
      [10, 'users.alice.maildir'],
      [11, 'users.alice.shell'],
      [12, 'users."x/y"'],
      [13, 'extra'],
    ]);
    expect(issues.every((i) => i.file === FILE && i.message.length > 0)).toBe(true);
  });

  it('keeps checking other users after a bad one', () => {
    const errors = errorsOf('[users."a/b"]\n[users.ok]\nmaildir = "x"\n[users.""]');
    expect(errors).toEqual([
      expect.stringMatching(/:1: users\."a\/b": /),
      expect.stringMatching(/:3: users\.ok\.maildir: /),
      expect.stringMatching(/:4: users\."": /),
    ]);
  });

  it('rejects a non-table document at line 1 with an empty key', () => {
    const r = validateConfig('not a table', FILE, '');
    expect(r).toEqual({ errors: [{ file: FILE, line: 1, key: '', message: 'must be a table, got a string' }] });
  });
});

describe('formatIssue', () => {
  it.each([
    [{ file: 'f.toml', line: 3, key: 'a.b', message: 'bad' }, 'f.toml:3: a.b: bad'],
    [{ file: 'f.toml', line: 0, key: '', message: 'cannot read' }, 'f.toml:0: cannot read'],
  ])('%j → %s', (issue, text) => {
    expect(formatIssue(issue)).toBe(text);
  });
});
