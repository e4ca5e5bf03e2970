import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { defaultLmtpSettings } from '../../../src/config/schema.js';
import { formatIssue, validateConfig } from '../../../src/config/validate.js';

const FILE = '/etc/mda/mda.toml';
const check = (text: string) => validateConfig(parse(text, { integersAsBigInt: true }), FILE, text);

function lmtpOf(text: string) {
  const r = check(text);
  if ('errors' in r) throw new Error(`unexpected errors:\n${r.errors.map(formatIssue).join('\n')}`);
  return r.config.lmtp;
}

function errorsOf(text: string): string[] {
  const r = check(text);
  if (!('errors' in r)) throw new Error('expected errors, got a config');
  return r.errors.map(formatIssue);
}

describe('[lmtp] config: valid files', () => {
  it('defaults without an [lmtp] table (RFC 5321 §4.5.3.1.8: 100 recipients; §4.5.3.2.7: 5 minutes idle)', () => {
    expect(lmtpOf('')).toEqual({
      user: '', maxConnections: 100, maxRecipients: 100, idleTimeoutMs: 300_000, shutdownGraceMs: 30_000,
      socketMode: 0o660, socketOwner: '', socketGroup: '', maxLineLength: 4096, spoolDir: '',
    });
    expect(lmtpOf('')).toEqual(defaultLmtpSettings());
  });

  it('reads every key', () => {
    expect(lmtpOf(`
[lmtp]
user = "vmail"
max_connections = 20
max_recipients = 50
idle_timeout = "2m"
shutdown_grace = 0
socket_mode = "0600"
socket_owner = "postfix"
socket_group = "125"
max_line_length = 2048
spool_dir = "/var/vmail/.mda-spool"
`)).toEqual({
      user: 'vmail', maxConnections: 20, maxRecipients: 50, idleTimeoutMs: 120_000, shutdownGraceMs: 0,
      socketMode: 0o600, socketOwner: 'postfix', socketGroup: '125', maxLineLength: 2048, spoolDir: '/var/vmail/.mda-spool',
    });
  });

  it.each([
    ['"660"', 0o660],
    ['"0666"', 0o666],
    ['"0000"', 0],
  ])('socket_mode = %s is octal %o', (text, mode) => {
    expect(lmtpOf(`[lmtp]\nsocket_mode = ${text}\n`).socketMode).toBe(mode);
  });
});

describe('[lmtp] config: errors name file:line and key', () => {
  it.each([
    ['max_connections = 0', 'lmtp.max_connections: must be between 1 and 100000, got 0'],
    ['spool_dir = "spool"', 'lmtp.spool_dir: must be an absolute path, got "spool"'],
    ['max_connections = "many"', 'lmtp.max_connections: must be an integer number of connections, got a string'],
    ['max_recipients = 0', 'lmtp.max_recipients: must be between 1 and 100000, got 0'],
    ['idle_timeout = "500ms"', 'lmtp.idle_timeout: must be between 1s and 1h, got "500ms"'],
    ['idle_timeout = "soon"', 'lmtp.idle_timeout: "soon" is not a duration'],
    ['shutdown_grace = "1h"', 'lmtp.shutdown_grace: must be between 0s and 900s, got "1h"'],
    ['socket_mode = 660', 'lmtp.socket_mode: must be an octal string like "0660", got an integer'],
    ['socket_mode = "0968"', 'lmtp.socket_mode: must be an octal string of permission bits like "0660", got "0968"'],
    ['socket_mode = "4755"', 'lmtp.socket_mode: must be an octal string of permission bits like "0660", got "4755"'],
    ['socket_owner = "a:b"', 'lmtp.socket_owner: must be a user or group name or a number, got "a:b"'],
    ['user = 5', 'lmtp.user: must be a string, got an integer'],
    ['max_line_length = 100', 'lmtp.max_line_length: must be between 512 and 1048576, got 100'],
    ['listen = "unix:/x"', 'lmtp.listen: unknown key (known: user,'],
  ])('%s', (line, message) => {
    const errors = errorsOf(`[delivery]\nmaildir = "~/Maildir"\n\n[lmtp]\n${line}\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`${FILE}:5: ${message}`);
  });

  it('[lmtp] that is not a table', () => {
    expect(errorsOf('lmtp = 3\n')).toEqual([`${FILE}:1: lmtp: must be a table, got an integer`]);
  });
});
