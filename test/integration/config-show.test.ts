/**
 * `mda config show` through the built CLI: the effective settings as TOML that
 * `mda config check` accepts back, and that shows again as the same text.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir('mda-config-show-')));
afterEach(() => t.cleanup());

function file(name: string, text: string): string {
  const f = join(t.dir, name);
  writeFileSync(f, text);
  chmodSync(f, 0o600);
  return f;
}

const CONFIG = `
[delivery]
deadline = "60s"
max_message_size = "20M"
[quota]
storage = "1G"
[log]
target = "none"
[users.alice]
maildir = "/srv/mail/alice"
quota = { messages = 5000 }
[[scanner]]
type = "spamd"
hosts = ["127.0.0.1:783"]
`;

describe('mda config show', () => {
  it('round trip: show → file → config check → show again gives the same text', async () => {
    const first = await runCli(['config', 'show', '--config', file('mda.toml', CONFIG)]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('[delivery]\nmaildir = "~/Maildir"\ndeadline = "1m"\nmax_message_size = "20M"\n');
    expect(first.stdout).toContain('[users.alice]\nmaildir = "/srv/mail/alice"\nquota = { messages = 5000 }\n');
    expect(first.stdout).toContain('[[scanner]]\ntype = "spamd"\nname = "spamd"\nhosts = ["127.0.0.1:783"]\n');
    const shown = file('shown.toml', first.stdout);
    const check = await runCli(['config', 'check', '--config', shown]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    const again = await runCli(['config', 'show', '--config', shown]);
    expect(again.stdout).toBe(first.stdout);
  });

  it('--changed prints only what differs from the defaults, and that text validates too', async () => {
    const r = await runCli(['config', 'show', '--changed', '--config', file('mda.toml', CONFIG)]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('[delivery]\ndeadline = "1m"\nmax_message_size = "20M"\n\n[quota]\nstorage = "1G"\n\n[log]\ntarget = "none"\n\n[users.alice]\n')).toBe(true);
    expect(r.stdout).not.toContain('maildir = "~/Maildir"');
    const check = await runCli(['config', 'check', '--config', file('changed.toml', r.stdout)]);
    expect(check.code).toBe(0);
  });

  it('--defaults prints the embedded defaults: the same as an empty config file', async () => {
    const defaults = await runCli(['config', 'show', '--defaults']);
    const empty = await runCli(['config', 'show', '--config', file('empty.toml', '')]);
    expect(defaults.code).toBe(0);
    expect(defaults.stdout).toContain('[sieve]\nscript = "~/.mda/filter.sieve"\n');
    expect(defaults.stdout).toBe(empty.stdout);
    expect((await runCli(['config', 'show', '--changed', '--config', file('empty2.toml', '')])).stdout).toBe('');
  });

  it('a bad config: every problem on stderr, nothing on stdout, exit 1; --defaults with --changed is a usage error', async () => {
    const bad = await runCli(['config', 'show', '--config', file('bad.toml', '[delivery]\ndeadline = "2h"\n')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/bad\.toml:2: delivery\.deadline: must be between 1s and 900s/);
    const usage = await runCli(['config', 'show', '--defaults', '--changed']);
    expect(usage.code).toBe(64);
  });
});
