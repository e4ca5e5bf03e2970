import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { duration, formatConfig, size, str } from '../../../src/config/format-toml.js';
import { defaultConfig, type Config } from '../../../src/config/schema.js';
import { validateConfig } from '../../../src/config/validate.js';

/** validates TOML text as load.ts does (BigInt integers), failing the test on any issue. */
function validate(text: string): Config {
  const result = validateConfig(parse(text, { integersAsBigInt: true }), 'test.toml', text);
  if ('errors' in result) throw new Error(result.errors.map((e) => `${e.key}: ${e.message}`).join('\n'));
  return result.config;
}

const withoutSource = (c: Config): Omit<Config, 'source'> => {
  const { source: _source, ...rest } = c;
  return JSON.parse(JSON.stringify(rest)) as Omit<Config, 'source'>;
};

/** Every setting differs from its default, so a key the formatter forgets cannot round-trip. */
const EVERYTHING = `
[delivery]
maildir = "/srv/mail/%u/Maildir"
deadline = "90s"
max_message_size = "20M"
autocreate_folders = false
sendmail = "/usr/lib/sendmail"
domains = ["Example.ORG", "example.net"]
recipient_delimiter = "+-"
mbox = "/var/mail/%u"
mbox_folders = "~/mail"

[quota]
storage = "1G"
messages = 10000
grace = "10M"
over_quota = "defer"
ignore_folders = ["Trash", "Junk"]

[locks]
timeout = "2500ms"
stale = "2m"
mbox_locks = ["fcntl", "flock"]
mbox_dotlock_stale = "10m"
dotlockfile = "/usr/local/bin/dotlockfile"

[log]
target = "file:/var/log/mda \\"x\\".log"

[scanning]
breaker_failures = 3
breaker_cooldown = "30s"
state_dir = "/var/lib/mda"
commit_reserve = "20s"

[spam]
folder = "Junk"

[virus]
action = "discard"
folder = "Virus"

[sieve]
script = "~/.dovecot.sieve"
state_dir = "~/.mda-state"
dir = "/srv/sieve/%u"
global_dir = "/etc/mda/sieve-global"
before = ["/etc/mda/before.sieve"]
after = ["/etc/mda/after1.sieve", "/etc/mda/after2.sieve"]
max_redirects = 2
vacation_min_days = 0
vacation_max_days = 30
trust_scan_headers = true
max_script_size = "512K"
max_cpu_steps = 100000

[lmtp]
user = "vmail"
max_connections = 50
max_recipients = 200
idle_timeout = "10m"
shutdown_grace = "0s"
socket_mode = "0600"
socket_owner = "postfix"
socket_group = "mail"
max_line_length = 8192
spool_dir = "/var/spool/mda"

[policy]
user = "nobody"
max_connections = 20
idle_timeout = "20m"
socket_mode = "0666"
socket_owner = "postfix"
socket_group = "postfix"
aliases = []
request_timeout = "1500ms"
cache_ttl = "0s"
unknown_text = "No such mailbox"
over_quota_text = "Over quota"

[users.alice]
maildir = "/srv/alice"
mbox = "/srv/mbox/alice"
quota = { storage = "2G", messages = 0 }

[users."bob.smith"]
quota = { grace = "1234" }

[users.carol]

[[scanner]]
type = "spamd"
hosts = ["127.0.0.1:783", "/run/spamd.sock"]
order = "shuffle"
mode = "check"
user = "spam"
timeout = "45s"
max_size = "1M"
on_failure = "defer"

[[scanner]]
type = "clamd"
name = "av"
hosts = ["[::1]:3310"]

[[scanner]]
type = "filter"
command = ["/usr/bin/bogofilter", "-p"]
mode = "verdict"
`;

describe('formatConfig', () => {
  it('the embedded defaults round-trip to themselves', () => {
    const text = formatConfig(defaultConfig());
    expect(withoutSource(validate(text))).toEqual(withoutSource(defaultConfig()));
  });

  it('a config where every setting differs round-trips exactly (a forgotten key fails here)', () => {
    const config = validate(EVERYTHING);
    const text = formatConfig(config);
    expect(withoutSource(validate(text))).toEqual(withoutSource(config));
    // show → file → show again gives the same text
    expect(formatConfig(validate(text))).toBe(text);
  });

  it('every leaf setting of EVERYTHING differs from its default (so the round trip above proves every row)', () => {
    const config = withoutSource(validate(EVERYTHING)) as unknown as Record<string, unknown>;
    const defaults = withoutSource(defaultConfig()) as unknown as Record<string, unknown>;
    for (const section of Object.keys(defaults)) {
      if (section === 'users' || section === 'scanners') continue;
      const d = defaults[section] as Record<string, unknown>;
      const c = config[section] as Record<string, unknown>;
      for (const k of Object.keys(d)) expect([section, k, c[k]]).not.toEqual([section, k, d[k]]);
    }
  });

  it('changed: only the settings that differ, and they still validate to the same config', () => {
    const config = validate('[delivery]\ndeadline = "60s"\n[quota]\nstorage = "1G"\n[users.alice]\nmaildir = "/srv/a"\n');
    const text = formatConfig(config, 'changed');
    expect(text).toBe('[delivery]\ndeadline = "1m"\n\n[quota]\nstorage = "1G"\n\n[users.alice]\nmaildir = "/srv/a"\n');
    expect(withoutSource(validate(text))).toEqual(withoutSource(config));
  });

  it('changed: the defaults print nothing; a setting written but equal to its default is not a change', () => {
    expect(formatConfig(defaultConfig(), 'changed')).toBe('');
    expect(formatConfig(validate('[delivery]\ndeadline = "240s"\n'), 'changed')).toBe('');
  });

  it('changed: EVERYTHING round-trips through its changed-only text as well', () => {
    const config = validate(EVERYTHING);
    expect(withoutSource(validate(formatConfig(config, 'changed')))).toEqual(withoutSource(config));
  });

  it('writes [users.*] with quoted names when needed and [[scanner]] with defaulted names and only its type\'s keys', () => {
    const text = formatConfig(validate(EVERYTHING));
    expect(text).toContain('[users."bob.smith"]\nquota = { grace = "1234" }\n');
    expect(text).toContain('[users.carol]\n');
    expect(text).toContain('[[scanner]]\ntype = "filter"\nname = "filter"\ncommand = ["/usr/bin/bogofilter", "-p"]\nmode = "verdict"\ntimeout = "30s"\nmax_size = "20M"\non_failure = "deliver"\n');
    expect(text).toContain('[[scanner]]\ntype = "clamd"\nname = "av"\nhosts = ["[::1]:3310"]\norder = "ordered"\ntimeout = "30s"\nmax_size = "25M"\non_failure = "deliver"\n');
  });
});

describe('units as the config writes them', () => {
  it.each([
    [0, '"0s"'],
    [250, '"250ms"'],
    [1_500, '"1500ms"'],
    [30_000, '"30s"'],
    [90_000, '"90s"'],
    [240_000, '"4m"'],
    [3_600_000, '"1h"'],
    [86_400_000, '"1d"'],
    [90_061_001, '"90061001ms"'],
  ])('duration(%d) = %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });

  it.each([
    [0, '"0"'],
    [1, '"1"'],
    [1_234, '"1234"'],
    [1_536, '"1536"'],
    [512_000, '"500K"'],
    [50 * 2 ** 20, '"50M"'],
    [2 ** 30, '"1G"'],
    [3 * 2 ** 40, '"3T"'],
    [Number.MAX_SAFE_INTEGER, `"${Number.MAX_SAFE_INTEGER}"`],
  ])('size(%d) = %s', (bytes, text) => {
    expect(size(bytes)).toBe(text);
  });

  it.each([
    ['plain', '"plain"'],
    ['', '""'],
    ['a "q" \\ b', '"a \\"q\\" \\\\ b"'],
    ['tab\there\nnl', '"tab\\there\\nnl"'],
    ['del\u007f nul\u0000 esc\u001b', '"del\\u007f nul\\u0000 esc\\u001b"'],
    ['Ärger ✓', '"Ärger ✓"'],
  ])('str(%j) = %s, which TOML reads back', (s, text) => {
    expect(str(s)).toBe(text);
    expect(parse(`k = ${text}`)['k']).toBe(s);
  });
});
