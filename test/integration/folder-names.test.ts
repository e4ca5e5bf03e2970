/**
 * Issue 9 finding 10: every source of a folder name (--folder, [spam] folder,
 * [virus] folder, Sieve fileinto) goes through one encoder, so a name written
 * in UTF-8 lands in the Maildir++ directory Dovecot and Courier look for:
 * IMAP modified UTF-7 (RFC 3501 §5.1.3), never raw UTF-8.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAllFakeScanners, startFakeScanner } from '../helpers/fake-scanner.js';
import { listDir, runMda, tempDir } from '../helpers/run-mda.js';

const MSG = 'From a@b  Sat Nov 21 23:21:04 2026\nReturn-Path: <a@b>\nDelivered-To: bob@example.test\nSubject: x\n\nbody\n';

let t: ReturnType<typeof tempDir>;
let md: string;
beforeEach(() => {
  t = tempDir('mda-folders-');
  md = join(t.dir, 'Maildir');
});
afterEach(() => t.cleanup());
afterAll(() => closeAllFakeScanners());

function config(extra = ''): string {
  const path = join(t.dir, 'mda.toml');
  writeFileSync(path, `[log]\ntarget = "none"\n[scanning]\nstate_dir = "${join(t.dir, 'state')}"\n[sieve]\nscript = "${join(t.dir, 'user.sieve')}"\n${extra}\n`);
  return path;
}
const scanner = (type: string, endpoint: string) => `[[scanner]]\ntype = "${type}"\nhosts = ["${endpoint}"]\ntimeout = "2s"\n`;
const deliver = (cfg: string, ...flags: string[]) =>
  runMda(['deliver', '--config', cfg, '--maildir', md, ...flags], { input: MSG, env: { PATH: process.env.PATH, HOME: t.dir, USER: process.env.USER ?? 'root' } });

/** The one message is in `dir`/new and no raw UTF-8 directory was made. */
function storedIn(dir: string): void {
  expect(listDir(join(md, dir, 'new')), `messages in ${dir}/new (Maildir holds ${listDir(md).join(', ')})`).toHaveLength(1);
  expect(existsSync(join(md, dir, 'maildirfolder'))).toBe(true);
  expect(listDir(md).filter((n) => /[^\x00-\x7f]/.test(n))).toEqual([]);
}

describe('UTF-8 folder names are stored in modified UTF-7 (RFC 3501 §5.1.3), whatever names them', () => {
  it('--folder Ärger → .&AMQ-rger', async () => {
    const r = await deliver(config(), '--folder', 'Ärger');
    expect(r.code, r.output).toBe(0);
    storedIn('.&AMQ-rger');
  });

  it('--folder R&D → .R&-D ("&" is written "&-")', async () => {
    const r = await deliver(config(), '--folder', 'R&D');
    expect(r.code, r.output).toBe(0);
    storedIn('.R&-D');
  });

  it('[spam] folder = "Späm" → .Sp&AOQ-m', async () => {
    const fake = await startFakeScanner({ dialect: 'spamd', mode: 'ok-spam' });
    const r = await deliver(config(`[spam]\nfolder = "Späm"\n${scanner('spamd', fake.endpoint)}`));
    expect(r.code, r.output).toBe(0);
    storedIn('.Sp&AOQ-m');
  });

  it('[virus] folder = "Quarantäne" → .Quarant&AOQ-ne', async () => {
    const fake = await startFakeScanner({ dialect: 'clamd', mode: 'ok-infected' });
    const r = await deliver(config(`[virus]\nfolder = "Quarantäne"\n${scanner('clamd', fake.endpoint)}`));
    expect(r.code, r.output).toBe(0);
    storedIn('.Quarant&AOQ-ne');
  });

  it('Sieve fileinto "Entwürfe" → .Entw&APw-rfe', async () => {
    writeFileSync(join(t.dir, 'user.sieve'), 'require "fileinto";\nfileinto "Entwürfe";\n');
    const r = await deliver(config(`[delivery]\nautocreate_folders = true\n`));
    expect(r.code, r.output).toBe(0);
    storedIn('.Entw&APw-rfe');
  });

  it('--folder Ärger with a Sieve script that keeps: the same .&AMQ-rger as without Sieve', async () => {
    writeFileSync(join(t.dir, 'user.sieve'), 'keep;\n');
    const r = await deliver(config(), '--folder', 'Ärger');
    expect(r.code, r.output).toBe(0);
    storedIn('.&AMQ-rger');
  });
});
