import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configCheck, describe as checkDescribe } from '../../src/cli/commands/config-check.js';
import { ConfigError, findConfigPath, loadConfig } from '../../src/config/load.js';
import { defaultConfig, EMBEDDED_SOURCE, SYSTEM_CONFIG_PATH } from '../../src/config/schema.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mda-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** write creates a config file with a safe mode regardless of the umask. */
function write(name: string, text: string, mode = 0o644): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

/** configErrorOf runs loadConfig and returns the ConfigError it must throw. */
function configErrorOf(path: string): ConfigError {
  try {
    loadConfig(path);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const isRoot = process.getuid?.() === 0;

describe('loadConfig', () => {
  it('returns the embedded defaults when no file is given', () => {
    expect(loadConfig(undefined)).toEqual(defaultConfig());
    expect(loadConfig(undefined).source).toBe(EMBEDDED_SOURCE);
  });

  it('loads a valid file', () => {
    const path = write(
      'mda.toml',
      `# test config
[delivery]
maildir = "/srv/mail/%u/Maildir"
deadline = "60s"
max_message_size = 1048576
[log]
target = "stderr"
[users."bob smith"]
maildir = "~/Mail"
`,
    );
    const c = loadConfig(path);
    expect(c.source).toBe(path);
    expect(c.delivery).toEqual({ maildir: '/srv/mail/%u/Maildir', deadlineMs: 60_000, maxMessageSize: 1_048_576, autocreateFolders: true, sendmail: '/usr/sbin/sendmail', mbox: '', mboxFolders: '' });
    expect(c.log.target).toEqual({ kind: 'stderr' });
    expect(c.users['bob smith']).toEqual({ maildir: '~/Mail' });
  });

  it('loads an empty file as the defaults, with the file as source', () => {
    const path = write('empty.toml', '');
    expect(loadConfig(path)).toEqual({ ...defaultConfig(), source: path });
  });

  it.each([
    ['a missing value', '[delivery]\nmaildir = "/m"\ndeadline = \n', 3],
    ['an unclosed header', '\n\n\n[delivery\n', 4],
    ['a duplicate key', '[log]\ntarget = "none"\ntarget = "stderr"\n', 3],
    ['an unterminated string', 'a = 1\nb = "oops\n', 2],
  ])('reports a TOML syntax error (%s) with its line and column', (_name, text, line) => {
    const path = write('bad.toml', text);
    const err = configErrorOf(path);
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({ file: path, line, key: '' });
    expect(err.issues[0]!.message).toMatch(/^TOML syntax error at column \d+: \S/);
    expect(err.issues[0]!.message).not.toContain('\n');
    expect(err.message).toMatch(new RegExp(`^${path}:${line}: TOML syntax error`));
  });

  it('reports every validation error in the message, one per line', () => {
    const path = write('invalid.toml', '[delivery]\ndeadlin = "30s"\ndeadline = "2000s"\n\n[log]\ntarget = "file:rel"\n');
    const err = configErrorOf(path);
    expect(err.name).toBe('ConfigError');
    expect(err.message.split('\n')).toEqual([
      `${path}:2: delivery.deadlin: unknown key (known: maildir, deadline, max_message_size, autocreate_folders, sendmail, domains, recipient_delimiter, mbox, mbox_folders)`,
      expect.stringMatching(new RegExp(`^${path}:3: delivery\\.deadline: must be between 1s and 900s`)),
      expect.stringMatching(new RegExp(`^${path}:6: log\\.target: a log file must be an absolute path`)),
    ]);
    expect(err.issues.map((i) => i.line)).toEqual([2, 3, 6]);
  });

  it('reports a too-large integer under its key, not as a syntax error', () => {
    const err = configErrorOf(write('big.toml', '[delivery]\nmax_message_size = 99999999999999999999\n'));
    expect(err.issues).toMatchObject([{ line: 2, key: 'delivery.max_message_size', message: expect.stringMatching(/too large/) }]);
  });

  it.each([
    ['a missing file', () => join(dir, 'nope.toml'), /ENOENT/],
    ['a path through a regular file', () => join(write('f', ''), 'mda.toml'), /ENOTDIR/],
  ])('reports %s at line 0 with an empty key', (_name, pathOf, code) => {
    const path = pathOf();
    const err = configErrorOf(path);
    expect(err.issues).toEqual([{ file: path, line: 0, key: '', message: expect.stringMatching(/^cannot read config file: /) }]);
    expect(err.issues[0]!.message).toMatch(code);
    expect(err.message).toMatch(new RegExp(`^${path}:0: cannot read config file`));
  });

  it.skipIf(isRoot)('reports an unreadable file (EACCES) at line 0', () => {
    const path = write('secret.toml', '[log]\ntarget = "none"\n', 0o000);
    const err = configErrorOf(path);
    expect(err.issues).toEqual([{ file: path, line: 0, key: '', message: expect.stringMatching(/EACCES/) }]);
  });

  it('refuses a directory', () => {
    const path = join(dir, 'conf.d');
    mkdirSync(path);
    expect(configErrorOf(path).issues).toEqual([{ file: path, line: 0, key: '', message: 'not a regular file' }]);
  });

  it.each([0o666, 0o602, 0o646, 0o777])('refuses a world-writable file (mode %o)', (mode) => {
    const path = write('open.toml', '[log]\ntarget = "none"\n', mode);
    const err = configErrorOf(path);
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({ file: path, line: 0, key: '' });
    expect(err.issues[0]!.message).toMatch(/world-writable/);
    expect(err.issues[0]!.message).toContain(`mode ${mode.toString(8).padStart(4, '0')}`);
  });

  it.each([0o600, 0o640])('accepts a file that is not world-writable (mode %o)', (mode) => {
    const path = write('ok.toml', '[log]\ntarget = "none"\n', mode);
    expect(loadConfig(path).log.target).toEqual({ kind: 'none' });
  });

  // Root reads only what only root can change (issue 10 #3; test/hostile/root-config.test.ts).
  it('a group-writable file (mode 664): accepted by a user, refused by root', () => {
    const path = write('ok.toml', '[log]\ntarget = "none"\n', 0o664);
    if (process.geteuid?.() === 0) expect(configErrorOf(path).issues[0]!.message).toMatch(/refused while running as root: .*writable by group/);
    else expect(loadConfig(path).log.target).toEqual({ kind: 'none' });
  });
});

describe('findConfigPath', () => {
  const systemDefault = existsSync(SYSTEM_CONFIG_PATH) ? SYSTEM_CONFIG_PATH : undefined;

  it.each<[string, string | undefined, NodeJS.ProcessEnv, string | undefined]>([
    ['--config wins over $MDA_CONFIG', '/a.toml', { MDA_CONFIG: '/b.toml' }, '/a.toml'],
    ['--config alone', '/a.toml', {}, '/a.toml'],
    ['--config "" is kept (and fails to load loudly)', '', { MDA_CONFIG: '/b.toml' }, ''],
    ['$MDA_CONFIG without --config', undefined, { MDA_CONFIG: '/b.toml' }, '/b.toml'],
    ['an empty $MDA_CONFIG counts as unset', undefined, { MDA_CONFIG: '' }, systemDefault],
    ['neither: the system file if it exists', undefined, {}, systemDefault],
  ])('%s', (_name, flag, env, expected) => {
    expect(findConfigPath(flag, env)).toBe(expected);
  });

  it('a file named by $MDA_CONFIG is the one loaded', () => {
    const path = write('env.toml', '[delivery]\ndeadline = "45s"\n');
    const c = loadConfig(findConfigPath(undefined, { MDA_CONFIG: path }));
    expect(c.source).toBe(path);
    expect(c.delivery.deadlineMs).toBe(45_000);
  });

  it('a missing file named by $MDA_CONFIG is an error, not a silent fallback to defaults', () => {
    const path = join(dir, 'missing.toml');
    expect(() => loadConfig(findConfigPath(undefined, { MDA_CONFIG: path }))).toThrow(ConfigError);
  });
});

describe('configCheck', () => {
  function run(args: { config?: string }, env: NodeJS.ProcessEnv = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: { write: (s: string) => out.push(s) }, err: { write: (s: string) => err.push(s) }, env };
    return configCheck(args, io).then((code) => ({ code, out: out.join(''), err: err.join('') }));
  }

  it('has a describe string for yargs', () => {
    expect(checkDescribe).toMatch(/config/i);
  });

  it('prints OK and the source for a valid file', async () => {
    const path = write('ok.toml', '[log]\ntarget = "none"\n');
    expect(await run({ config: path })).toEqual({ code: 0, out: `OK: ${path}; compiled to ${join(dirname(path), '.' + basename(path) + '.compiled.json')}\n`, err: '' });
  });

  it('uses $MDA_CONFIG like deliver does', async () => {
    const path = write('env.toml', '');
    expect(await run({}, { MDA_CONFIG: path })).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^OK: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; compiled to `)) });
  });

  it('says when it checked the embedded defaults', async (ctx) => {
    // test/package/deb.test.ts installs /etc/mda/mda.toml for a while: checked before and after the run
    if (existsSync(SYSTEM_CONFIG_PATH)) return ctx.skip();
    const r = await run({});
    if (existsSync(SYSTEM_CONFIG_PATH)) return ctx.skip();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK: \(embedded defaults\) \(no --config, \$MDA_CONFIG or \/etc\/mda\/mda\.toml/);
  });

  it('prints every issue to stderr and returns 1', async () => {
    const path = write('bad.toml', 'x = 1\n[delivery]\ndeadline = "0s"\n');
    const r = await run({ config: path });
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trimEnd().split('\n')).toEqual([
      `${path}:1: x: unknown key (known: delivery, quota, locks, log, users, scanner, scanning, spam, virus, sieve, lmtp, policy)`,
      expect.stringMatching(new RegExp(`^${path}:3: delivery\\.deadline: must be between`)),
    ]);
  });

  it('returns 1 for a missing file', async () => {
    const r = await run({ config: join(dir, 'nope.toml') });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nope\.toml:0: cannot read config file: .*ENOENT/);
  });
});

describe('startup cost', () => {
  // Postfix runs mda once per message: nothing on the no-file path may pull in
  // the TOML parser statically. Walk load.ts's relative static imports.
  it('load.ts and its imports do not statically import smol-toml', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      expect(src, file).not.toMatch(/^\s*import\s+(?!type\s)[^;]*?from\s+['"]smol-toml['"]/m);
      expect(src, file).not.toMatch(/^\s*import\s+['"]smol-toml['"]/m);
      for (const m of src.matchAll(/^\s*import\s+(?!type\s)[^;]*?from\s+['"](\.[^'"]+)\.js['"]/gm)) {
        visit(resolve(dirname(file), `${m[1]}.ts`));
      }
    };
    visit(resolve(here, '../../src/config/load.ts'));
    expect([...seen].map((f) => f.replace(/.*\/src\//, ''))).toEqual(
      expect.arrayContaining(['config/load.ts', 'config/validate.ts', 'config/units.ts', 'config/key-lines.ts', 'config/schema.ts']),
    );
  });
});
