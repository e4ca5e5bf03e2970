/**
 * include (RFC 6609) through the built `mda deliver`, set up as a Dovecot user has it: scripts in
 * ~/sieve/, ~/.dovecot.sieve a symlink to the active one (what ManageSieve maintains), a main script
 * including Roundcube's "roundcube" script. Runtime errors (missing, recursive, unreadable include)
 * keep the message in INBOX with exit 0; `mda sieve check` checks one script alone. Pigeonhole-only
 * vnd.dovecot.* requires keep the mail too. Run `npm run build` first.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDir, runCli, runMda, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let home: string;
let md: string;
let log: string;

beforeEach(() => {
  t = tempDir('mda-sieve-include-');
  home = join(t.dir, 'home');
  md = join(home, 'Maildir');
  log = join(t.dir, 'mda.log');
  mkdirSync(join(home, 'sieve'), { recursive: true });
  mkdirSync(join(t.dir, 'global'));
  // ManageSieve's layout: the active script is a relative symlink into ~/sieve/.
  symlinkSync('sieve/main.sieve', join(home, '.dovecot.sieve'));
});
afterEach(() => t.cleanup());

const personal = (name: string, text: string) => writeFileSync(join(home, 'sieve', `${name}.sieve`), text);

function config(): string {
  const cfg = join(t.dir, 'mda.toml');
  // In production these are "~/.dovecot.sieve" and "~/sieve"; ~ is the account's home from the
  // password database, which a test cannot point at a temporary directory.
  writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n[sieve]\nscript = "${home}/.dovecot.sieve"\ndir = "${home}/sieve"\nglobal_dir = "${join(t.dir, 'global')}"\nstate_dir = "${home}/.mda"\n`);
  return cfg;
}

function message(subject = 'Hello', extra: string[] = [], body = 'Hi Bob.'): string {
  return ['Return-Path: <alice@example.org>', 'From: Alice <alice@example.org>', 'To: bob@example.test', `Subject: ${subject}`, `Message-ID: <${Math.random()}@example.org>`, ...extra, '', body, ''].join('\n');
}

async function deliver(msg = message()) {
  return runMda(['deliver', '--config', config(), '--maildir', md], { input: msg, env: { PATH: process.env.PATH, HOME: home, USER: process.env.USER ?? 'root' } });
}

/** Folder → number of messages, for every folder holding one. */
function stored(): Record<string, number> {
  const out: Record<string, number> = {};
  const count = (dir: string) => listDir(join(dir, 'new')).length + listDir(join(dir, 'cur')).length;
  if (count(md) > 0) out['INBOX'] = count(md);
  for (const d of readdirSync(md)) if (d.startsWith('.') && count(join(md, d)) > 0) out[d.slice(1)] = count(join(md, d));
  return out;
}

const logText = () => { try { return readFileSync(log, 'utf8'); } catch { return ''; } };

// What Roundcube's managesieve plugin writes (its "# rule:[...]" comments included).
const ROUNDCUBE = [
  'require ["fileinto","body"];',
  '# rule:[Lists]',
  'if header :contains "list-id" "dev.lists.example.org"',
  '{',
  '\tfileinto "Lists";',
  '\tstop;',
  '}',
  '# rule:[Invoices]',
  'if body :text :contains "invoice"',
  '{',
  '\tfileinto "Invoices";',
  '}',
  '',
].join('\r\n');

describe('Roundcube / Dovecot layout', () => {
  it('RFC 6609 §3.2: ~/.dovecot.sieve (a symlink) includes "roundcube" from ~/sieve; the included script sees header and body', async () => {
    personal('main', 'require ["include"];\ninclude :personal "roundcube";\n');
    personal('roundcube', ROUNDCUBE);
    expect(await deliver(message('x', ['List-Id: <dev.lists.example.org>']))).toMatchObject({ code: 0, output: '' });
    expect(await deliver(message('y', [], 'Your invoice is attached.'))).toMatchObject({ code: 0, output: '' });
    expect(await deliver(message('z'))).toMatchObject({ code: 0, output: '' });
    expect(stored()).toEqual({ Lists: 1, Invoices: 1, INBOX: 1 });
  });

  it('the included script is compile-cached, and an edit to it is seen at once', async () => {
    personal('main', 'require ["include"];\ninclude "roundcube";\n');
    personal('roundcube', 'require "fileinto";\nfileinto "One";\n');
    expect((await deliver()).code).toBe(0);
    expect(readdirSync(join(home, '.mda')).filter((f) => f.startsWith('sieve-cache-include-'))).toHaveLength(1);
    expect((await deliver()).code).toBe(0);
    personal('roundcube', 'require "fileinto";\nfileinto "Two";\n');
    expect((await deliver()).code).toBe(0);
    expect(stored()).toEqual({ One: 2, Two: 1 });
  });

  it('RFC 6609 §3.2: :global scripts come from [sieve] global_dir', async () => {
    personal('main', 'require ["include", "fileinto"];\ninclude :global "spam";\nfileinto "After";\n');
    writeFileSync(join(t.dir, 'global', 'spam.sieve'), 'require "fileinto";\nfileinto "Seen-By-Global";\n');
    expect((await deliver()).code).toBe(0);
    expect(stored()).toEqual({ 'Seen-By-Global': 1, After: 1 });
  });

  it('RFC 6609 §3.3, §3.4: return and global variables across scripts', async () => {
    personal('main', 'require ["include", "variables", "fileinto"];\nglobal "box";\nset "box" "Start";\ninclude "lib";\nfileinto "${box}";\n');
    personal('lib', 'require ["include", "variables"];\nglobal "box";\nset "box" "${box}-Lib";\nreturn;\nset "box" "never";\n');
    expect((await deliver()).code).toBe(0);
    expect(stored()).toEqual({ 'Start-Lib': 1 });
  });
});

describe('runtime errors keep the message (RFC 6609 §3.2, RFC 5228 §2.10.6)', () => {
  it.each([
    ['a missing include', { main: 'require ["include", "fileinto"];\nfileinto "Before";\ninclude "gone";\n' }, /the personal script "gone" does not exist/],
    ['a recursive include', { main: 'require ["include", "fileinto"];\nfileinto "Before";\ninclude "a";\n', a: 'require "include";\ninclude "b";\n', b: 'require "include";\ninclude "a";\n' }, /recursive include/],
    ['an included script that does not compile', { main: 'require ["include", "fileinto"];\nfileinto "Before";\ninclude "bad";\n', bad: 'fileinto "X";\n' }, /bad\.sieve:1:1: the fileinto command needs require "fileinto"/],
  ])('%s: INBOX only, exit 0, the error logged', async (_name, files, logged) => {
    for (const [name, text] of Object.entries(files)) personal(name, text);
    const r = await deliver();
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored()).toEqual({ INBOX: 1 });
    expect(logText()).toMatch(logged);
  });

  it('RFC 6609 §3.2: 10 nested includes run; an 11th level is a runtime error naming the depth (Pigeonhole max_include_depth)', async () => {
    const chain = (n: number) => {
      for (let i = 1; i <= n; i++) personal(`s${i}`, i < n ? `require "include";\ninclude "s${i + 1}";\n` : 'require "fileinto";\nfileinto "Deep";\n');
    };
    personal('main', 'require "include";\ninclude "s1";\n');
    chain(10);
    expect((await deliver()).code).toBe(0);
    expect(stored()).toEqual({ Deep: 1 });
    chain(11);
    expect((await deliver()).code).toBe(0);
    expect(stored()).toEqual({ Deep: 1, INBOX: 1 });
    expect(logText()).toMatch(/includes nested more than 10 deep/);
  });

  it('an included script that is a FIFO is refused, not waited on', async () => {
    personal('main', 'require ["include", "fileinto"];\nfileinto "Before";\ninclude "pipe";\n');
    execFileSync('mkfifo', [join(home, 'sieve', 'pipe.sieve')]);
    const r = await deliver();
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored()).toEqual({ INBOX: 1 });
    expect(logText()).toMatch(/not a regular file \(a FIFO\)/);
  });

  it('an included script larger than [sieve] max_script_size is refused', async () => {
    personal('main', 'require ["include", "fileinto"];\nfileinto "Before";\ninclude "big";\n');
    personal('big', `# ${'x'.repeat(2 * 1024 * 1024)}\nkeep;\n`);
    const r = await deliver();
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored()).toEqual({ INBOX: 1 });
    expect(logText()).toMatch(/script is too large/);
  });

  it('a Pigeonhole-only require (vnd.dovecot.pipe) compiles to an error naming it; the mail is kept', async () => {
    personal('main', 'require ["fileinto", "vnd.dovecot.pipe"];\nfileinto "X";\n');
    const r = await deliver();
    expect([r.code, r.output]).toEqual([0, '']);
    expect(stored()).toEqual({ INBOX: 1 });
    expect(logText()).toMatch(/"vnd\.dovecot\.pipe" is a Pigeonhole-only extension/);
  });
});

describe('mda sieve check checks one script alone (as a ManageSieve upload)', () => {
  it('RFC 6609 §3.2: a missing include is not a compile error', async () => {
    personal('main', 'require ["include"];\ninclude "not-uploaded-yet";\n');
    const r = await runCli(['sieve', 'check', join(home, '.dovecot.sieve')]);
    expect([r.code, r.stderr]).toEqual([0, '']);
  });

  it('RFC 6609 §3.2: a name with "/" is a compile error at file:line:col', async () => {
    personal('main', 'require ["include"];\ninclude "../x";\n');
    const r = await runCli(['sieve', 'check', join(home, '.dovecot.sieve')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\.dovecot\.sieve:2:9: invalid script name "\.\.\/x"/);
  });
});
