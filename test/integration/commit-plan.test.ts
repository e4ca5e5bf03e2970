/**
 * The one commit executor through the real `mda deliver`: a folder that
 * cannot be used falls back to INBOX (as Pigeonhole and dovecot-lda do), the
 * [virus] quarantine never does (4.2.0), and a plan's copies commit all or
 * nothing. Issue 9, finding 2. Run `npm run build` first (npm test does).
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDir, runMda, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let home: string;
let md: string;
let log: string;
beforeEach(() => {
  t = tempDir('mda-commit-');
  home = join(t.dir, 'home');
  md = join(home, 'Maildir');
  log = join(t.dir, 'mda.log');
  mkdirSync(join(home, '.mda'), { recursive: true });
  for (const d of ['tmp', 'new', 'cur']) mkdirSync(join(md, d), { recursive: true, mode: 0o700 });
});
afterEach(() => t.cleanup());

const MESSAGE = 'From alice@example.org  Sat Nov 21 23:21:04 2026\nReturn-Path: <alice@example.org>\nDelivered-To: bob@example.test\nSubject: plan\n\nbody\n';
const STORED = MESSAGE.slice(MESSAGE.indexOf('\n') + 1);

function config(extra = ''): string {
  const cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n[sieve]\nscript = "${join(home, '.mda', 'filter.sieve')}"\nstate_dir = "${join(home, '.mda')}"\n${extra}`);
  return cfg;
}
const script = (text: string) => writeFileSync(join(home, '.mda', 'filter.sieve'), text);
const deliver = (cfg = config(), args: string[] = []) =>
  runMda(['deliver', '--config', cfg, '--maildir', md, ...args], { input: MESSAGE, env: { PATH: process.env.PATH, HOME: home, USER: process.env.USER ?? 'root' } });
const files = (folder: string, sub = 'new') => listDir(join(md, folder, sub));
const logged = () => readFileSync(log, 'utf8');

describe('a folder that cannot be used falls back to INBOX (Pigeonhole, dovecot-lda -m; RFC 5228 §2.10.6: never lose the message)', () => {
  it.each<[string, () => void]>([
    ['.Foo is a plain file (touch Maildir/.Foo)', () => writeFileSync(join(md, '.Foo'), '')],
    ['.Foo/ is world-writable', () => (mkdirSync(join(md, '.Foo')), chmodSync(join(md, '.Foo'), 0o777))],
    ['.Foo/new is a plain file', () => (mkdirSync(join(md, '.Foo', 'tmp'), { recursive: true }), writeFileSync(join(md, '.Foo', 'new'), ''))],
  ])('fileinto "Foo" when %s: stored in INBOX, exit 0, the log says why', async (_, setup) => {
    setup();
    script('require "fileinto"; fileinto "Foo";');
    const r = await deliver();
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(files('')).toHaveLength(1);
    expect(readFileSync(join(md, 'new', files('')[0]!), 'utf8')).toBe(STORED);
    expect(logged()).toMatch(/"Foo" .*storing in INBOX instead/);
    expect(logged()).toMatch(/folder=INBOX status=delivered/);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
  });

  it('--folder Foo when .Foo is a plain file: INBOX too', async () => {
    writeFileSync(join(md, '.Foo'), '');
    const r = await deliver(config(), ['--folder', 'Foo']);
    expect(r.code).toBe(0);
    expect(files('')).toHaveLength(1);
  });

  it('two folders that both fall back leave one copy in INBOX, with the flags of both', async () => {
    writeFileSync(join(md, '.A'), '');
    writeFileSync(join(md, '.B'), '');
    script('require ["fileinto", "imap4flags"]; fileinto :flags "\\\\Seen" "A"; fileinto :flags "\\\\Flagged" "B";');
    const r = await deliver();
    expect(r.code).toBe(0);
    expect(files('')).toEqual([]);
    expect(files('', 'cur')).toHaveLength(1);
    expect(files('', 'cur')[0]).toMatch(/:2,FS$/);
  });
});

describe('the [virus] quarantine never falls back to INBOX', () => {
  function infected(): string {
    const path = join(t.dir, 'verdict-infected.sh');
    writeFileSync(path, '#!/bin/sh\ncat >/dev/null\nexit 2\n', { mode: 0o755 });
    return `[[scanner]]\ntype = "filter"\ncommand = ["${path}"]\nmode = "verdict"\n`;
  }
  it('an unusable Quarantine folder defers infected mail with 4.2.0; nothing reaches INBOX', async () => {
    writeFileSync(join(md, '.Quarantine'), '');
    const r = await deliver(config(infected()));
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.2\.0 /);
    expect(files('')).toEqual([]);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
  });
  it('a usable one receives it', async () => {
    const r = await deliver(config(infected()));
    expect(r.code).toBe(0);
    expect(files('.Quarantine')).toHaveLength(1);
    expect(files('')).toEqual([]);
  });
});

describe("a plan's copies commit all or nothing", () => {
  it('when INBOX cannot take the fallback copy, the copy already stored is undone and the delivery defers', async () => {
    // --folder Work is the keep target and is stored first; the copy for "Other" cannot be linked
    // (its new/ is a file), and its INBOX fallback cannot either (INBOX's new/ is a file too).
    mkdirSync(join(md, '.Other', 'tmp'), { recursive: true });
    writeFileSync(join(md, '.Other', 'new'), '');
    script('require ["fileinto", "copy"]; fileinto :copy "Other";');
    rmSync(join(md, 'new'), { recursive: true });
    writeFileSync(join(md, 'new'), '');
    const r = await deliver(config(), ['--folder', 'Work']);
    expect(r.code).toBe(75);
    expect(r.output).toMatch(/^4\.2\.0 /);
    expect(files('.Work')).toEqual([]);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
    expect(logged()).toMatch(/status=deferred/);
  });
});
