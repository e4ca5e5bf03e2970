/**
 * Interop with Courier's own quota tools (Debian package maildrop: maildirmake,
 * deliverquota), run for real on temp Maildirs:
 *  - a quota Courier set (`maildirmake -q`) is the quota when mda has none:
 *    `mda deliver` enforces it, `mda quota report` shows it and writes nothing,
 *    and Courier still enforces it afterwards (issue 9 finding 11);
 *  - Courier leaves `.Trash` out of its count; with `[quota] ignore_folders =
 *    ["Trash"]` mda counts exactly what Courier counts (finding 12).
 * Skipped, with the reason, where the Courier binaries are not installed.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMaildirsize } from '../../src/quota/maildirsize.js';
import { QUIET_CONFIG, listDir, runCli, runMda, tempDir } from '../helpers/run-mda.js';

const which = (bin: string): string | undefined => {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']) if (existsSync(join(dir, bin))) return join(dir, bin);
  return undefined;
};
const MAILDIRMAKE = which('maildirmake');
const DELIVERQUOTA = which('deliverquota');
const missing = !MAILDIRMAKE || !DELIVERQUOTA;
if (missing) console.warn('quota-courier: skipped, maildirmake/deliverquota not installed (Debian package maildrop)');

let t: ReturnType<typeof tempDir>;
let md: string;
let bare: string;
beforeEach(() => {
  t = tempDir('mda-courier-');
  md = join(t.dir, 'users', 'carol', 'Maildir');
  mkdirSync(join(t.dir, 'users', 'carol'), { recursive: true });
  bare = join(t.dir, 'bare.toml');
  writeFileSync(bare, QUIET_CONFIG); // no mda quota at all
});
afterEach(() => t.cleanup());

const MSG = 'From: a@example.org\nSubject: courier\n\nhello\n';
/** run: a Courier tool with a hard timeout (maildirmake -q on a missing Maildir retries for ever). */
function run(bin: string, args: string[], input = ''): number | null {
  const r = spawnSync(bin, args, { input, timeout: 10_000, stdio: ['pipe', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  return r.status;
}
const deliverquota = (dir: string, ...quota: string[]) => run(DELIVERQUOTA!, [dir, ...quota], MSG);
const mdaDeliver = (cfg: string) =>
  runMda(['deliver', '--config', cfg, '--maildir', md], { input: `From a@example.org  Sat Nov 21 23:21:04 2026\n${MSG}` });
const report = (cfg: string) => runCli(['quota', 'report', '--config', cfg, '--maildir-glob', join(t.dir, 'users', '*', 'Maildir'), '--format', 'json']);
const sizeFile = () => readFileSync(join(md, 'maildirsize'), 'latin1');
/** EX_NOPERM: deliverquota "Mail quota exceeded" in the maildrop build (deliverquota.sgml RETURN CODE). */
const COURIER_OVER = 77;

describe.skipIf(missing)('Courier maildirmake -q / deliverquota', () => {
  beforeEach(() => {
    expect(run(MAILDIRMAKE!, [md])).toBe(0);
    expect(run(MAILDIRMAKE!, ['-q', '1000S,3C', md])).toBe(0);
    expect(deliverquota(md)).toBe(0);
    expect(deliverquota(md)).toBe(0);
  });

  it('Maildir++: mda quota report (no mda quota) shows the Courier quota, writes nothing, Courier still enforces it', async () => {
    const before = sizeFile();
    const r = await report(bare);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject([{ user: 'carol', storageLimit: 1000, messageLimit: 3, messages: 2 }]);
    expect(sizeFile()).toBe(before);
    expect(sizeFile().split('\n')[0]).toBe('1000S,3C');
    expect(deliverquota(md)).toBe(0); // the third of 3C
    expect(deliverquota(md)).toBe(COURIER_OVER);
  });

  it('Maildir++: mda deliver enforces the Courier quota when it has none, and leaves the header to Courier', async () => {
    const third = await mdaDeliver(bare);
    expect(third.output).toBe('');
    expect(third.code).toBe(0);
    const fourth = await mdaDeliver(bare);
    expect(fourth.code).toBe(77);
    expect(fourth.output).toMatch(/^5\.2\.2 /);
    expect(sizeFile().split('\n')[0]).toBe('1000S,3C');
    expect(parseMaildirsize(sizeFile())).toMatchObject({ count: 3 });
    expect(deliverquota(md)).toBe(COURIER_OVER); // Courier agrees: full
    expect(listDir(join(md, 'new'))).toHaveLength(3);
  });
});

describe.skipIf(missing)('Courier leaves .Trash out; [quota] ignore_folders = ["Trash"] agrees', () => {
  it('mda counts what Courier counts with ignore_folders = ["Trash"], and .Trash too (as Dovecot) without it', async () => {
    expect(run(MAILDIRMAKE!, [md])).toBe(0);
    expect(run(MAILDIRMAKE!, ['-f', 'Trash', md])).toBe(0);
    expect(run(MAILDIRMAKE!, ['-f', 'Sent', md])).toBe(0);
    for (const dir of [md, md, join(md, '.Sent'), join(md, '.Trash'), join(md, '.Trash')]) expect(deliverquota(dir)).toBe(0);
    // No maildirsize yet: Courier counts the folders itself, then appends this delivery's line.
    expect(deliverquota(md, '100000S,30C')).toBe(0);
    const courier = parseMaildirsize(sizeFile());
    if ('corrupt' in courier) throw new Error(courier.corrupt);
    expect(courier.count).toBe(4); // INBOX 3 + Sent 1; .Trash's 2 are not counted

    const count = async (extra: string): Promise<string> => {
      const copy = join(t.dir, `copy-${extra === '' ? 'all' : 'ignore'}`, 'carol', 'Maildir');
      cpSync(md, copy, { recursive: true });
      const cfg = join(t.dir, `${extra === '' ? 'all' : 'ignore'}.toml`);
      writeFileSync(cfg, `${QUIET_CONFIG}[quota]\nstorage = 100000\nmessages = 30\n${extra}`);
      const r = await runCli(['quota', 'recalc', '--config', cfg, '--maildir-glob', join(copy, '..', '..', '*', 'Maildir')]);
      expect(r.stderr).toBe('');
      return r.stdout;
    };
    const trash = MSG.length * 2;
    expect(await count('ignore_folders = ["Trash"]\n')).toBe(`carol ${courier.bytes} ${courier.count}\n`);
    expect(await count('')).toBe(`carol ${courier.bytes + trash} ${courier.count + 2}\n`);
  });
});
