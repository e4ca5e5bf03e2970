/**
 * `mda deliver --dry-run` and `mda --version` through the built CLI. A dry run prints the
 * plan (recipient, mailbox, folder, Sieve, scanners, quota) and exits 0, and leaves the
 * Maildir exactly as it was: no file created, maildirsize unchanged, no scanner contacted.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MDA, runCli, runMda, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir('mda-dry-run-')));
afterEach(() => t.cleanup());

const MSG = 'From alice@example.org  Sat Nov 21 23:21:04 2026\nReturn-Path: <alice@example.org>\nDelivered-To: bob@example.test\nSubject: weekly report\nMessage-ID: <r1@example.org>\n\nnumbers\n';

/** Every path under dir with its size and mtime: what "nothing changed" means. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      out.push(`${p} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

function setup(extraConfig = ''): { config: string; maildir: string } {
  const maildir = join(t.dir, 'Maildir');
  for (const d of ['tmp', 'new', 'cur']) mkdirSync(join(maildir, d), { recursive: true, mode: 0o700 });
  writeFileSync(join(maildir, 'maildirsize'), '1000000S\n500 5\n');
  const script = join(t.dir, 'filter.sieve');
  writeFileSync(script, 'require "fileinto";\nif header :contains "subject" "report" { fileinto "Reports"; }\n');
  const config = join(t.dir, 'mda.toml');
  writeFileSync(config, `[log]\ntarget = "none"\n[quota]\nstorage = "1000000"\n[sieve]\nscript = "${script}"\nstate_dir = "${join(t.dir, 'state')}"\n${extraConfig}`);
  chmodSync(config, 0o600);
  return { config, maildir };
}

describe('mda deliver --dry-run', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('prints the plan: folder from Sieve, quota from maildirsize, scanners that would run; stores, creates and contacts nothing', async () => {
    let connections = 0;
    server = createServer((sock) => (connections++, sock.destroy()));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const { config, maildir } = setup(`[[scanner]]\ntype = "spamd"\nhosts = ["127.0.0.1:${port}"]\n`);
    const before = snapshot(t.dir);
    const maildirsize = readFileSync(join(maildir, 'maildirsize'), 'utf8');

    const r = await runMda(['deliver', '--dry-run', '--maildir', maildir, '--config', config], { input: MSG });
    expect(r.code, r.output).toBe(0);
    const lines = r.output.split('\n');
    expect(lines[0]).toBe('dry run: nothing is stored, sent or locked');
    expect(lines).toContain(`mailbox: ${maildir} (exists)`);
    expect(lines).toContain('folder: INBOX');
    expect(lines).toContain('envelope: from <alice@example.org> to <bob@example.test>');
    expect(lines).toContain(`  spamd (spamd): would run: 127.0.0.1:${port}; timeout 30000ms, on failure deliver`);
    expect(lines).toContain(`sieve: ${join(t.dir, 'filter.sieve')}`);
    expect(lines).toContain('    store in Reports');
    expect(lines).toContain('  maildirsize: 500 bytes, 5 messages');
    expect(lines).toContain(`  decision: fits (${Buffer.byteLength(MSG) - MSG.indexOf('\n') - 1} bytes × 1)`);
    expect(lines).toContain('outcome: would store in Reports');

    expect(snapshot(t.dir)).toEqual(before); // no .Reports/, nothing in tmp/ or new/, no Sieve state
    expect(readFileSync(join(maildir, 'maildirsize'), 'utf8')).toBe(maildirsize);
    expect(connections).toBe(0);
  });

  it('a missing Maildir stays missing; --folder names the folder; an over-quota message shows the configured bounce', async () => {
    const { config } = setup();
    const maildir = join(t.dir, 'Other');
    mkdirSync(maildir);
    writeFileSync(join(maildir, 'maildirsize'), '1000000S\n999990 5\n');
    const before = snapshot(t.dir);
    const r = await runMda(['deliver', '--folder', 'Lists.Dev', '--maildir', join(maildir, 'sub'), '--config', config, '--dry-run'], { input: MSG });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain(`mailbox: ${join(maildir, 'sub')} (missing: a delivery would create it)`);
    expect(r.output).toContain('folder: Lists.Dev (.Lists.Dev/)');
    expect(snapshot(t.dir)).toEqual(before);

    const over = await runMda(['deliver', '--dry-run', '--maildir', maildir, '--config', config], { input: MSG });
    expect(over.code).toBe(0);
    expect(over.output).toMatch(/decision: would bounce \(exit \d+\): 5\.2\.2 /);
    expect(snapshot(t.dir)).toEqual(before);
  });

  it('an unknown user is a plan too (exit 0, the bounce named); a bad flag is a usage error (64), not a deferral', async () => {
    const { config } = setup();
    const r = await runMda(['deliver', '--dry-run', '--user', 'no-such-user-mda-test', '--config', config], { input: MSG });
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/^outcome: would bounce \(exit 67\): 5\.1\.1 .*no such user: no-such-user-mda-test$/m);
    const bad = await runMda(['deliver', '--dry-run', '--bogus', '--config', config], { input: MSG });
    expect(bad.code).toBe(64);
  });
});

describe('mda --version', () => {
  const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
  const LINE = new RegExp(`^mda ${version.replace(/\./g, '\\.')} \\(build ${version.replace(/\./g, '\\.')}-[0-9a-z]+\\)\\n$`);

  it('prints the version and the build id', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(LINE);
  });

  it('deliver --version under Postfix (stdin not a terminal) defers unread: 75 and a 4.3.0 line', async () => {
    const r = await runMda(['deliver', '--version'], { input: MSG });
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.3\.0 .*--version given while stdin is not a terminal/);
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('deliver --version on a terminal prints the version line and exits 0', () => {
    const r = spawnSync('script', ['-qec', `${process.execPath} ${MDA} deliver --version`, '/dev/null'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.replace(/\r\n/g, '\n')).toMatch(LINE);
  });
});
