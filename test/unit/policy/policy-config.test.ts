import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { defaultPolicySettings } from '../../../src/config/policy-settings.js';
import { formatIssue, validateConfig } from '../../../src/config/validate.js';

const FILE = '/etc/mda/mda.toml';
const check = (text: string) => validateConfig(parse(text, { integersAsBigInt: true }), FILE, text);

function policyOf(text: string) {
  const r = check(text);
  if ('errors' in r) throw new Error(`unexpected errors:\n${r.errors.map(formatIssue).join('\n')}`);
  return r.config.policy;
}
function errorsOf(text: string): string[] {
  const r = check(text);
  if (!('errors' in r)) throw new Error('expected errors, got a config');
  return r.errors.map(formatIssue);
}

describe('[policy] config', () => {
  it('defaults without a [policy] table', () => {
    expect(policyOf('')).toEqual({
      user: '', maxConnections: 200, idleTimeoutMs: 600_000, socketMode: 0o660, socketOwner: '', socketGroup: '',
      aliases: ['/etc/aliases'], requestTimeoutMs: 2_000, cacheTtlMs: 5_000, unknownText: 'User unknown', overQuotaText: 'Mailbox full',
    });
    expect(policyOf('')).toEqual(defaultPolicySettings());
  });

  it('reads every key', () => {
    const p = policyOf(`[policy]
user = "vmail"
max_connections = 50
idle_timeout = "400s"
socket_mode = "0666"
socket_owner = "postfix"
socket_group = "postfix"
aliases = ["/etc/aliases", "/etc/postfix/aliases"]
request_timeout = "500ms"
cache_ttl = 0
unknown_text = "No such user here"
over_quota_text = "Mailbox is full"
`);
    expect(p).toEqual({
      user: 'vmail', maxConnections: 50, idleTimeoutMs: 400_000, socketMode: 0o666, socketOwner: 'postfix', socketGroup: 'postfix',
      aliases: ['/etc/aliases', '/etc/postfix/aliases'], requestTimeoutMs: 500, cacheTtlMs: 0, unknownText: 'No such user here', overQuotaText: 'Mailbox is full',
    });
  });

  it('an empty alias list is allowed', () => {
    expect(policyOf('[policy]\naliases = []\n').aliases).toEqual([]);
  });

  it.each([
    ['[policy]\nmax_connections = 0\n', `${FILE}:2: policy.max_connections: must be between 1 and 100000, got 0`],
    ['[policy]\nrequest_timeout = "2m"\n', `${FILE}:2: policy.request_timeout: must be between 100ms and 60s, got "2m"`],
    ['[policy]\ncache_ttl = "1h"\n', `${FILE}:2: policy.cache_ttl: must be between 0s (no cache) and 300s, got "1h"`],
    ['[policy]\naliases = ["etc/aliases"]\n', `${FILE}:2: policy.aliases: element 1 "etc/aliases" is not an absolute file name`],
    ['[policy]\naliases = "/etc/aliases"\n', `${FILE}:2: policy.aliases: must be an array of absolute file names, got a string`],
    ['[policy]\nunknown_text = "a\\r\\n250 ok"\n', `${FILE}:2: policy.unknown_text: must be 1 to 200 printable ASCII characters on one line, got "a\\r\\n250 ok"`],
    ['[policy]\nover_quota_text = ""\n', `${FILE}:2: policy.over_quota_text: must be 1 to 200 printable ASCII characters on one line, got ""`],
    ['[policy]\nsocket_mode = 660\n', `${FILE}:2: policy.socket_mode: must be an octal string like "0660", got an integer`],
    ['[policy]\nuser = "a b"\n', `${FILE}:2: policy.user: must be a user or group name or a number, got "a b"`],
    ['\n[policy]\nmax_line_length = 10\n', `${FILE}:3: policy.max_line_length: unknown key (known: user, max_connections, idle_timeout, socket_mode, socket_owner, socket_group, aliases, request_timeout, cache_ttl, unknown_text, over_quota_text)`],
  ])('%s', (text, error) => {
    expect(errorsOf(text)).toEqual([error]);
  });
});
