/**
 * Sieve through the real `mda deliver` on real Maildirs: folders and flags on
 * disk, hard-linked copies and quota per copy, redirects and vacation replies
 * captured by a stub sendmail, vacation and duplicate tracking across
 * deliveries, runtime-error atomicity, a ReDoS regex inside its bound, a
 * compile error → INBOX with exit 0, and spam/virus + Sieve. Run `npm run build` first.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDir, runMda } from '../helpers/run-mda.js';
import { sieveSandbox, type SieveSandbox } from '../helpers/sieve-sandbox.js';

let sb: SieveSandbox;
let t: SieveSandbox['t'];
let home: string;
let md: string;
let sent: string;
beforeEach(() => {
  sb = sieveSandbox('mda-sieve-');
  ({ t, home, md, sent } = sb);
});
afterEach(() => t.cleanup());
const stub = (env: Record<string, string>) => sb.stub(env);
const config = (extra = '') => sb.config(extra);

const script = (text: string) => writeFileSync(join(home, '.mda', 'filter.sieve'), text);

interface Msg { from?: string; to?: string; subject?: string; id?: string; extra?: string; body?: string }
function message(m: Msg = {}): string {
  return [
    'From alice@example.org  Sat Nov 21 23:21:04 2026',
    `Return-Path: <${m.from ?? 'alice@example.org'}>`,
    'Delivered-To: bob@example.test',
    `From: Alice <${m.from ?? 'alice@example.org'}>`,
    `To: ${m.to ?? 'bob@example.test'}`,
    `Subject: ${m.subject ?? 'Hello'}`,
    `Message-ID: <${m.id ?? `${Math.random()}@example.org`}>`,
    ...(m.extra ? [m.extra] : []),
    '',
    m.body ?? 'Hi Bob.',
    '',
  ].join('\n');
}

async function deliver(m: Msg | string = {}, opts: { cfg?: string; args?: string[] } = {}) {
  return runMda(['deliver', '--config', opts.cfg ?? config(), '--maildir', md, ...(opts.args ?? [])], {
    input: typeof m === 'string' ? m : message(m),
    env: { PATH: process.env.PATH, HOME: home, USER: process.env.USER ?? 'root' },
  });
}

const files = (folder: string, sub: 'new' | 'cur' = 'new') => sb.files(folder, sub);
const sentMail = () => sb.sentMail();

describe('filing', () => {
  it('no script file: INBOX, as without Sieve', async () => {
    const r = await deliver();
    expect(r.code).toBe(0);
    expect(files('')).toHaveLength(1);
  });

  it('fileinto by List-Id creates the folder (maildirfolder) and stores there only', async () => {
    script('require "fileinto";\nif header :contains "list-id" "dev.lists.example.org" { fileinto "Lists.Dev"; }');
    const r = await deliver({ extra: 'List-Id: Developers <dev.lists.example.org>' });
    expect([r.code, r.output]).toEqual([0, '']);
    expect(files('.Lists.Dev')).toHaveLength(1);
    expect(existsSync(join(md, '.Lists.Dev', 'maildirfolder'))).toBe(true);
    expect(files('')).toEqual([]);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
  });

  it('flags become Maildir info in cur/ (letters in ASCII order); keywords are Dovecot letters after them', async () => {
    script('require ["fileinto", "imap4flags"];\naddflag ["\\\\Seen", "\\\\Flagged", "$Work"]; fileinto "Work";');
    expect((await deliver()).code).toBe(0);
    const [name] = files('.Work', 'cur');
    expect(name).toMatch(/,S=\d+:2,FSa$/);
    expect(files('.Work')).toEqual([]);
  });

  it('fileinto :copy + keep: one file hard-linked into both folders, quota counted per copy', async () => {
    script('require ["fileinto", "copy"];\nfileinto :copy "Archive";');
    const cfg = config('[quota]\nstorage = "10M"\n');
    const r = await deliver({}, { cfg });
    expect(r.code).toBe(0);
    const a = join(md, '.Archive', 'new', files('.Archive')[0]!);
    const b = join(md, 'new', files('')[0]!);
    expect(statSync(a).ino).toBe(statSync(b).ino);
    const size = statSync(a).size;
    const lines = readFileSync(join(md, 'maildirsize'), 'utf8').trim().split('\n').slice(1);
    expect(lines.slice(-2)).toEqual([`${size} 1`, `${size} 1`]);
  });

  it('over quota counting every copy: refused as a whole (5.2.2), nothing stored', async () => {
    script('require ["fileinto", "copy"];\nfileinto :copy "Archive";');
    const msg = message({ body: 'x'.repeat(700) });
    const cfg = config(`[quota]\nstorage = "${Math.floor(msg.length * 1.5)}"\n`);
    const r = await deliver(msg, { cfg });
    expect(r.code).toBe(77);
    expect(r.output).toMatch(/^5\.2\.2 .*2 copies/);
    expect(files('')).toEqual([]);
    expect(listDir(join(md, 'tmp')).filter((f) => !f.endsWith('maildirsize'))).toEqual([]);
  });

  it('discard: exit 0, nothing stored', async () => {
    script('if header :contains "subject" "win money" { discard; }');
    const r = await deliver({ subject: 'You win money' });
    expect([r.code, r.output]).toEqual([0, '']);
    expect(files('')).toEqual([]);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
  });

  it('autocreate_folders = false: a missing folder means INBOX; :create creates it', async () => {
    const cfg = config();
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('[delivery]\n', '[delivery]\nautocreate_folders = false\n'));
    script('require "fileinto";\nfileinto "Missing";');
    expect((await deliver({}, { cfg })).code).toBe(0);
    expect(files('')).toHaveLength(1);
    expect(existsSync(join(md, '.Missing'))).toBe(false);
    script('require ["fileinto", "mailbox"];\nfileinto :create "Made";');
    expect((await deliver({}, { cfg })).code).toBe(0);
    expect(files('.Made')).toHaveLength(1);
  });

  it('plus-address folders', async () => {
    script('require ["fileinto", "envelope", "subaddress", "variables"];\nif envelope :matches :detail "to" "*" { if not string :is "${1}" "" { fileinto "${1}"; } }');
    expect((await deliver({}, { args: ['--recipient', 'bob+shop@example.test'] })).code).toBe(0);
    expect(files('.shop')).toHaveLength(1);
  });
});

describe('compiled-script cache', () => {
  it('is written to state_dir on first use and a changed script is recompiled', async () => {
    script('require "fileinto";\nfileinto "One";');
    expect((await deliver()).code).toBe(0);
    const cache = join(home, '.mda', 'sieve-cache.json');
    expect(existsSync(cache)).toBe(true);
    expect((await deliver()).code).toBe(0);
    expect(files('.One')).toHaveLength(2);
    script('require "fileinto";\nfileinto "Two";');
    expect((await deliver()).code).toBe(0);
    expect(files('.Two')).toHaveLength(1);
  });

  it('an unwritable state_dir costs only the cache', async () => {
    script('require "fileinto";\nfileinto "One";');
    const cfg = config(`[sieve]\nscript = "${join(home, '.mda', 'filter.sieve')}"\nstate_dir = "/dev/null/x"\n`);
    expect((await deliver({}, { cfg })).code).toBe(0);
    expect(files('.One')).toHaveLength(1);
  });
});

describe('errors never bounce or defer', () => {
  it('a compile error: logged, INBOX, exit 0', async () => {
    script('require "fileinto";\nif header :contains "subject" { fileinto "X"; }');
    const r = await deliver();
    expect([r.code, r.output]).toEqual([0, '']);
    expect(files('')).toHaveLength(1);
  });

  it('a runtime error cancels every action (no redirect sent, no folder): implicit keep only', async () => {
    script('require ["fileinto", "variables"];\nset "bad" "../etc";\nfileinto "A";\nredirect "carol@example.net";\nfileinto "${bad}";');
    const r = await deliver();
    expect(r.code).toBe(0);
    expect(files('')).toHaveLength(1);
    expect(existsSync(join(md, '.A'))).toBe(false);
    expect(sentMail()).toEqual([]);
  });

  it('a ReDoS regex on a large header finishes inside its bound', async () => {
    script('require ["regex", "fileinto"];\nif header :regex "subject" "^(a|aa)+$" { fileinto "Never"; }');
    const r = await deliver({ subject: 'a'.repeat(60_000) + 'b' });
    expect(r.code).toBe(0);
    expect(r.elapsedMs).toBeLessThan(10_000);
    expect(files('')).toHaveLength(1);
  });
});

describe('redirect', () => {
  it('keeps the envelope sender, adds X-Sieve-Redirected-From, drops Return-Path; nothing stored', async () => {
    script('redirect "carol@example.net";');
    const r = await deliver({}, { args: ['--recipient', 'bob@example.test'] });
    expect(r.code).toBe(0);
    const [one] = sentMail();
    expect(one!.args).toEqual(['-i', '-f', 'alice@example.org', '--', 'carol@example.net']);
    expect(one!.msg.startsWith('X-Sieve-Redirected-From: <bob@example.test>\nDelivered-To: bob@example.test\n')).toBe(true);
    expect(one!.msg).not.toMatch(/^Return-Path/m);
    expect(files('')).toEqual([]);
  });

  it('the null sender stays null', async () => {
    script('redirect "carol@example.net";');
    const bounce = message().replace('From alice@example.org ', 'From MAILER-DAEMON ').replace('Return-Path: <alice@example.org>', 'Return-Path: <>');
    expect((await deliver(bounce)).code).toBe(0);
    expect(sentMail()[0]!.args).toEqual(['-i', '-f', '<>', '--', 'carol@example.net']);
  });

  it('a message that already went through our redirect is kept, not redirected again', async () => {
    script('redirect "carol@example.net";');
    const r = await deliver({ extra: 'X-Sieve-Redirected-From: <bob@example.test>' }, { args: ['--recipient', 'bob@example.test'] });
    expect(r.code).toBe(0);
    expect(sentMail()).toEqual([]);
    expect(files('')).toHaveLength(1);
  });

  it('a failing sendmail with no stored copy: the message is kept, exit 0', async () => {
    stub({ STUB_SENDMAIL_EXIT: '75' });
    script('redirect "carol@example.net";');
    const r = await deliver();
    expect(r.code).toBe(0);
    expect(files('')).toHaveLength(1);
  });

  it('max_redirects exceeded: runtime error, implicit keep, nothing sent', async () => {
    script('redirect "a@x.org"; redirect "b@x.org"; redirect "c@x.org";');
    const r = await deliver({}, { cfg: config(`[sieve]\nscript = "${join(home, '.mda', 'filter.sieve')}"\nstate_dir = "${join(home, '.mda')}"\nmax_redirects = 2\n`) });
    expect(r.code).toBe(0);
    expect(sentMail()).toEqual([]);
    expect(files('')).toHaveLength(1);
  });
});

describe('vacation', () => {
  const VAC = 'require "vacation";\nvacation :days 7 :subject "Away" "I am away until Monday.";';

  it('replies once per sender, from <>, with the RFC 3834 fields; tracked across deliveries', async () => {
    script(VAC);
    expect((await deliver({ id: 'v1@example.org' }, { args: ['--recipient', 'bob@example.test'] })).code).toBe(0);
    const [reply] = sentMail();
    expect(reply!.args).toEqual(['-i', '-f', '<>', '--', 'alice@example.org']);
    expect(reply!.msg).toMatch(/^To: <alice@example.org>\r$/m);
    expect(reply!.msg).toMatch(/^From: <bob@example.test>\r$/m);
    expect(reply!.msg).toMatch(/^Subject: Away\r$/m);
    expect(reply!.msg).toMatch(/^In-Reply-To: <v1@example.org>\r$/m);
    expect(reply!.msg).toMatch(/^Auto-Submitted: auto-replied/m);
    expect(reply!.msg).toContain('\r\n\r\nI am away until Monday.\r\n');
    expect(files('')).toHaveLength(1); // vacation does not cancel the implicit keep

    await deliver({}, { args: ['--recipient', 'bob@example.test'] });
    expect(sentMail()).toHaveLength(1); // same sender within 7 days: no second reply
    await deliver({ from: 'carol@example.net' }, { args: ['--recipient', 'bob@example.test'] });
    expect(sentMail()).toHaveLength(2);
    expect(files('')).toHaveLength(3);
    expect(readFileSync(join(home, '.mda', 'sieve-vacation.log'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it.each<[string, Msg]>([
    ['mailing list', { extra: 'List-Id: <dev.example.org>' }],
    ['auto-submitted', { extra: 'Auto-Submitted: auto-replied' }],
    ['bulk', { extra: 'Precedence: bulk' }],
    ['not addressed to the user', { to: 'team@example.test' }],
    ['from a system address', { from: 'MAILER-DAEMON@example.org' }],
  ])('no reply to %s mail', async (_, m) => {
    script(VAC);
    expect((await deliver(m, { args: ['--recipient', 'bob@example.test'] })).code).toBe(0);
    expect(sentMail()).toEqual([]);
    expect(files('')).toHaveLength(1);
  });

  it('a failed reply is not remembered: the next message tries again', async () => {
    stub({ STUB_SENDMAIL_EXIT: '1' });
    script(VAC);
    await deliver({}, { args: ['--recipient', 'bob@example.test'] });
    stub({});
    await deliver({}, { args: ['--recipient', 'bob@example.test'] });
    expect(sentMail()).toHaveLength(2);
    expect(files('')).toHaveLength(2);
  });
});

describe('duplicate (RFC 7352) across deliveries', () => {
  it('the second copy of a Message-ID is discarded', async () => {
    script('require "duplicate";\nif duplicate { discard; }');
    expect((await deliver({ id: 'same@example.org' })).code).toBe(0);
    expect((await deliver({ id: 'same@example.org' })).code).toBe(0);
    expect((await deliver({ id: 'other@example.org' })).code).toBe(0);
    expect(files('')).toHaveLength(2);
  });
});

describe('admin scripts (sieve_before / sieve_after)', () => {
  it('before and after run around the user script; a discard ends the chain', async () => {
    const before = join(t.dir, 'before.sieve');
    const after = join(t.dir, 'after.sieve');
    writeFileSync(before, 'require ["fileinto", "copy"];\nfileinto :copy "Audit";\nif header :contains "subject" "virus-test" { discard; }');
    writeFileSync(after, 'require "imap4flags";\naddflag "\\\\Flagged";');
    script('require ["fileinto", "copy"];\nfileinto :copy "User";');
    const cfg = config(`[sieve]\nscript = "${join(home, '.mda', 'filter.sieve')}"\nstate_dir = "${join(home, '.mda')}"\nbefore = ["${before}"]\nafter = ["${after}"]\n`);
    expect((await deliver({}, { cfg })).code).toBe(0);
    expect(files('.Audit')).toHaveLength(1);
    expect(files('.User')).toHaveLength(1);
    expect(files('', 'cur')[0]).toMatch(/:2,F$/);
    expect((await deliver({ subject: 'virus-test' }, { cfg })).code).toBe(0);
    expect(files('.Audit')).toHaveLength(2);
    expect(files('.User')).toHaveLength(1);
  });
});

describe('spam and virus scanning with Sieve', () => {
  /** A verdict filter: exit 0 clean, 1 spam, 2 infected. */
  function scanner(code: number): string {
    const path = join(t.dir, `verdict-${code}.sh`);
    writeFileSync(path, `#!/bin/sh\ncat >/dev/null\nexit ${code}\n`, { mode: 0o755 });
    return `[[scanner]]\ntype = "filter"\ncommand = ["${path}"]\nmode = "verdict"\n[spam]\nfolder = "Junk"\n`;
  }
  it.each<[string, string, string]>([
    ['implicit keep of spam → the [spam] folder', '', '.Junk'],
    ['an explicit keep wins → INBOX', 'keep;', ''],
    ['fileinto wins', 'require "fileinto"; fileinto "Spamtrap";', '.Spamtrap'],
    ['spamtest sees the verdict', 'require ["spamtest", "fileinto", "relational", "comparator-i;ascii-numeric"]; if spamtest :value "ge" :comparator "i;ascii-numeric" "10" { fileinto "Certain"; }', '.Certain'],
  ])('%s', async (_, text, folder) => {
    script(text);
    const r = await deliver({}, { cfg: config(scanner(1)) });
    expect(r.code).toBe(0);
    expect(files(folder)).toHaveLength(1);
  });

  it('infected mail bypasses Sieve: scan routing quarantines it', async () => {
    script('require "fileinto"; fileinto "Elsewhere";');
    expect((await deliver({}, { cfg: config(scanner(2)) })).code).toBe(0);
    expect(files('.Quarantine')).toHaveLength(1);
    expect(existsSync(join(md, '.Elsewhere'))).toBe(false);
  });

  it('clean mail with a script: spamtest is 1', async () => {
    script('require ["spamtest", "fileinto"]; if spamtest :is "1" { fileinto "Clean"; }');
    expect((await deliver({}, { cfg: config(scanner(0)) })).code).toBe(0);
    expect(files('.Clean')).toHaveLength(1);
  });
});
