/**
 * Issue 9 finding 10 against the real Dovecot: folders that `mda deliver
 * --folder` creates from UTF-8 names are the mailboxes Dovecot lists and
 * fetches under those names (Maildir++ layout, names in modified UTF-7 on disk,
 * RFC 3501 §5.1.3; Dovecot's default mailbox_list_utf8 = no).
 * doveadm runs without -u and without a daemon, as in dovecot-quota.test.ts:
 * USER and HOME from the environment, uid/gid from mail_uid/mail_gid; as root
 * the mailbox belongs to nobody (Dovecot refuses mail access as root).
 * Skipped with a warning when doveadm is missing, except in CI or with MDA_E2E_REQUIRED=1.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chownTree as chownTreeTo, QUIET_CONFIG, runMda, tempDir } from '../helpers/run-mda.js';
import { DOVEADM, doveadmText } from '../helpers/dovecot-tools.js';

const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (!DOVEADM && !required) console.warn('\n*** SKIPPED test/e2e/dovecot-folders.test.ts: doveadm is not installed ***\n');

const isRoot = process.getuid?.() === 0;
const UID = isRoot ? 65534 : process.getuid!();
const GID = isRoot ? 65534 : process.getgid!();
const FOLDERS = ['Ärger', 'Lists.Café', 'R&D', '日本語'];

let t: ReturnType<typeof tempDir>;
let home = '';
let conf = '';

const chownTree = (path: string): void => chownTreeTo(path, UID, GID);

const doveadm = (...args: string[]): string => doveadmText(conf, 'mdatest', home, args);

describe.skipIf(!DOVEADM && !required)('folder names: what mda creates is what Dovecot shows', () => {
  beforeAll(async () => {
    expect(DOVEADM, 'doveadm is required here (CI=true or MDA_E2E_REQUIRED=1)').toBeDefined();
    t = tempDir('mda-dovecot-folders-');
    chmodSync(t.dir, 0o755);
    home = join(t.dir, 'home');
    mkdirSync(home);
    chownTree(home);
    writeFileSync(join(t.dir, 'mda.toml'), QUIET_CONFIG, { mode: 0o644 });
    conf = join(t.dir, 'dovecot.conf');
    writeFileSync(conf, [
      `base_dir = ${join(t.dir, 'run')}`, `state_dir = ${join(t.dir, 'state')}`, 'log_path = /dev/stderr', 'ssl = no', 'protocols =',
      'mail_location = maildir:~/Maildir', `mail_uid = ${UID}`, `mail_gid = ${GID}`, `first_valid_uid = ${UID}`, `first_valid_gid = ${GID}`, '',
    ].join('\n'));
    for (const folder of FOLDERS) {
      const r = await runMda(['deliver', '--config', join(t.dir, 'mda.toml'), ...(isRoot ? ['--user', 'nobody'] : []), '--maildir', join(home, 'Maildir'), '--folder', folder], {
        input: `From: a@example.org\nSubject: in ${folder}\n\nbody\n`,
        env: { PATH: process.env.PATH, HOME: home, USER: isRoot ? 'root' : (process.env.USER ?? 'mdatest') },
      });
      if (r.code !== 0) throw new Error(`mda deliver --folder ${folder} exited ${r.code}: ${r.output}`);
    }
  }, 120_000);
  afterAll(() => t?.cleanup());

  it('doveadm mailbox list shows every folder under its UTF-8 name', () => {
    const listed = doveadm('mailbox', 'list').trim().split('\n');
    for (const f of FOLDERS) expect(listed).toContain(f);
    expect(listed).toContain('Lists');
  });

  it.each(FOLDERS)('doveadm fetch finds the message in %j', (folder) => {
    const out = doveadm('fetch', 'hdr.subject', 'mailbox', folder, 'all');
    expect(out).toContain(`in ${folder}`);
  });
});
