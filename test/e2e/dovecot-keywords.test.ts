/**
 * imap4flags keywords (RFC 5232) against the real Dovecot: what mda stores
 * (letters after `:2,` and each folder's dovecot-keywords) is what Dovecot
 * reports as the message's keywords, also after Dovecot has written the file
 * itself (mda takes the next free letter, Dovecot's own keyword keeps its
 * letter). doveadm runs without a daemon, as in dovecot-folders.test.ts: USER
 * and HOME from the environment, uid/gid from mail_uid/mail_gid; as root the
 * mailbox belongs to nobody (Dovecot refuses mail access as root).
 * Skipped with a warning when doveadm is missing, except in CI or with MDA_E2E_REQUIRED=1.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chownTree as chownTreeTo, runMda, tempDir } from '../helpers/run-mda.js';
import { DOVEADM, doveadmText } from '../helpers/dovecot-tools.js';

const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (!DOVEADM && !required) console.warn('\n*** SKIPPED test/e2e/dovecot-keywords.test.ts: doveadm is not installed ***\n');

const isRoot = process.getuid?.() === 0;
const UID = isRoot ? 65534 : process.getuid!();
const GID = isRoot ? 65534 : process.getgid!();

let t: ReturnType<typeof tempDir>;
let home = '';
let conf = '';
let md = '';

const chownTree = (path: string): void => chownTreeTo(path, UID, GID);

const doveadm = (...args: string[]): string => doveadmText(conf, 'mdatest', home, args);

/** The flags Dovecot reports for each message of a mailbox, one entry per message (without \Recent: the session's, not stored). */
const flagsOf = (mailbox: string): string[][] =>
  doveadm('fetch', 'flags', 'mailbox', mailbox, 'all').split('\n').filter((l) => l.startsWith('flags:')).map((l) => l.slice(6).trim().split(/\s+/).filter((f) => f && f !== '\\Recent').sort());

async function deliver(sieve: string, subject: string): Promise<void> {
  writeFileSync(join(home, '.mda', 'filter.sieve'), `require ["fileinto", "imap4flags"];\n${sieve}`);
  chownTree(home);
  const r = await runMda(['deliver', '--config', join(t.dir, 'mda.toml'), ...(isRoot ? ['--user', 'nobody'] : []), '--maildir', md], {
    input: `From: a@example.org\nSubject: ${subject}\nMessage-ID: <${subject}@example.org>\n\nbody\n`,
    env: { PATH: process.env.PATH, HOME: home, USER: isRoot ? 'root' : (process.env.USER ?? 'mdatest') },
  });
  if (r.code !== 0) throw new Error(`mda deliver exited ${r.code}: ${r.output}`);
}

describe.skipIf(!DOVEADM && !required)('RFC 5232 keywords: what mda stores is what Dovecot reports', () => {
  beforeAll(() => {
    expect(DOVEADM, 'doveadm is required here (CI=true or MDA_E2E_REQUIRED=1)').toBeDefined();
    t = tempDir('mda-dovecot-keywords-');
    chmodSync(t.dir, 0o755);
    home = join(t.dir, 'home');
    md = join(home, 'Maildir');
    mkdirSync(join(home, '.mda'), { recursive: true });
    chownTree(home);
    writeFileSync(join(t.dir, 'mda.toml'), `[log]\ntarget = "none"\n[sieve]\nscript = "${join(home, '.mda', 'filter.sieve')}"\nstate_dir = "${join(home, '.mda')}"\n`, { mode: 0o644 });
    conf = join(t.dir, 'dovecot.conf');
    writeFileSync(conf, [
      `base_dir = ${join(t.dir, 'run')}`, `state_dir = ${join(t.dir, 'state')}`, 'log_path = /dev/stderr', 'ssl = no', 'protocols =',
      'mail_location = maildir:~/Maildir', `mail_uid = ${UID}`, `mail_gid = ${GID}`, `first_valid_uid = ${UID}`, `first_valid_gid = ${GID}`, '',
    ].join('\n'));
  });
  afterAll(() => t?.cleanup());

  it('fileinto :flags "work": Dovecot reports the keyword on the message in the folder', async () => {
    await deliver('fileinto :flags ["work", "\\\\Seen"] "Work";', 'one');
    expect(flagsOf('Work')).toEqual([['\\Seen', 'work']]);
  });

  it('addflag "$Label1" with keep: Dovecot reports it in INBOX', async () => {
    await deliver('addflag "$Label1"; keep;', 'two');
    expect(flagsOf('INBOX')).toEqual([['$Label1']]);
  });

  it("after Dovecot adds a keyword itself, mda's new keyword takes the next letter and both are right", async () => {
    doveadm('flags', 'add', 'Dovecots', 'mailbox', 'INBOX', 'all');
    expect(readFileSync(join(md, 'dovecot-keywords'), 'utf8')).toBe('0 $Label1\n1 Dovecots\n');
    await deliver('addflag ["$label1", "third"]; keep;', 'three');
    expect(readFileSync(join(md, 'dovecot-keywords'), 'utf8')).toBe('0 $Label1\n1 Dovecots\n2 third\n');
    const bySubject = doveadm('fetch', 'hdr.subject flags', 'mailbox', 'INBOX', 'all');
    const three = bySubject.split('\n\f\n').find((m) => m.includes('three'))!;
    expect(three).toMatch(/flags: .*\$Label1/);
    expect(three).toMatch(/flags: .*\bthird\b/);
    expect(three).not.toMatch(/Dovecots|unknown/);
    expect(existsSync(join(md, 'dovecot-uidlist.lock'))).toBe(false);
  });
});
