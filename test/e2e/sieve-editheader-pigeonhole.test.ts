/**
 * editheader (RFC 5293) behaviour, mda against Pigeonhole's `sieve-test` with `+editheader`
 * enabled (Pigeonhole ships it off; mda has it on: a deliberate difference, checked below):
 * the folders each script files into, where the tests see the edits and the protected fields.
 * Skipped loudly when sieve-test is not installed, except in CI (CI=true), where that fails.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MDA, tempDir } from '../helpers/run-mda.js';

const SIEVE_TEST = '/usr/bin/sieve-test';
const missing = !existsSync(SIEVE_TEST);
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (missing && !required) console.warn('\n*** SKIPPED test/e2e/sieve-editheader-pigeonhole.test.ts: sieve-test (dovecot-sieve) is not installed ***\n');

const MSG = [
  'Received: from a.example.org by mx.example.test',
  'Received: from b.example.org by a.example.org',
  'From: Alice <alice@example.org>',
  'To: Bob <bob@example.test>',
  'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=',
  'X-Spam: yes',
  'X-Spam: maybe',
  'Auto-Submitted: auto-generated',
  'Message-ID: <r1@example.org>',
  '',
  'Numbers: 42',
  '',
].join('\n');

const R = 'require ["editheader", "fileinto", "relational", "comparator-i;ascii-numeric"];';
const CASES: Array<[string, string]> = [
  ['addheader, then header', `${R} addheader "X-A" "1"; if header :is "x-a" "1" { fileinto "yes"; }`],
  ['addheader :last, then exists', `${R} addheader :last "X-A" "1"; if exists "X-A" { fileinto "yes"; }`],
  ['addheader non-ASCII, then header', `${R} addheader "X-A" "Grüße"; if header :is "x-a" "Grüße" { fileinto "yes"; }`],
  ['addheader, then address', `${R} addheader "Reply-To" "carol@example.com"; if address :domain "reply-to" "example.com" { fileinto "yes"; }`],
  ['deleteheader all', `${R} deleteheader "X-Spam"; if not exists "x-spam" { fileinto "gone"; }`],
  ['deleteheader :index 1', `${R} deleteheader :index 1 "X-Spam"; if header :is "x-spam" "yes" { fileinto "yes"; } if header :is "x-spam" "maybe" { fileinto "maybe"; }`],
  ['deleteheader :index 1 :last', `${R} deleteheader :index 1 :last "X-Spam"; if header :is "x-spam" "yes" { fileinto "yes"; } if header :is "x-spam" "maybe" { fileinto "maybe"; }`],
  ['deleteheader :contains', `${R} deleteheader :contains "X-Spam" "ay"; if header :is "x-spam" "yes" { fileinto "yes"; } if header :is "x-spam" "maybe" { fileinto "maybe"; }`],
  ['deleteheader decoded value', `${R} deleteheader :is "subject" "Grüße"; if not exists "subject" { fileinto "gone"; }`],
  ['deleteheader an added field', `${R} addheader "X-A" "1"; addheader :last "X-A" "2"; deleteheader :index 1 "X-A"; if header :is "x-a" "2" { fileinto "two"; } if header :is "x-a" "1" { fileinto "one"; }`],
  ['Received cannot be deleted', `${R} deleteheader "Received"; if header :count "eq" :comparator "i;ascii-numeric" "received" "2" { fileinto "kept"; }`],
  ['Auto-Submitted cannot be deleted', `${R} deleteheader "Auto-Submitted"; if exists "auto-submitted" { fileinto "kept"; }`],
  ['X-Sieve-Redirected-From cannot be added', `${R} addheader "X-Sieve-Redirected-From" "x"; if not exists "X-Sieve-Redirected-From" { fileinto "refused"; }`],
  ['fileinto before and after an edit', `${R} fileinto "before"; addheader "X-A" "1"; fileinto "after";`],
];

let t: ReturnType<typeof tempDir>;
beforeAll(() => {
  t = tempDir('mda-editheader-pig-');
  chmodSync(t.dir, 0o755);
  mkdirSync(join(t.dir, 'w'), { mode: 0o777 });
  chmodSync(join(t.dir, 'w'), 0o777);
  const base = `mail_uid = nobody\nmail_gid = nogroup\nmail_location = maildir:${join(t.dir, 'w', 'Maildir')}\n`;
  writeFileSync(join(t.dir, 'editheader.conf'), `${base}plugin {\n  sieve_extensions = +editheader\n}\n`, { mode: 0o644 });
  writeFileSync(join(t.dir, 'default.conf'), base, { mode: 0o644 });
  writeFileSync(join(t.dir, 'm.eml'), MSG, { mode: 0o644 });
});
afterAll(() => t?.cleanup());

function pigeonhole(script: string, conf = 'editheader.conf'): { ok: boolean; stores: string[] } {
  const r = spawnSync(SIEVE_TEST, ['-c', join(t.dir, conf), script, join(t.dir, 'm.eml')], { encoding: 'utf8', timeout: 20_000 });
  return { ok: r.status === 0, stores: [...r.stdout.matchAll(/store message in folder: (.+)/g)].map((m) => m[1]!.trim()).sort() };
}

function mda(script: string): { ok: boolean; stores: string[] } {
  const r = spawnSync(process.execPath, [MDA, 'sieve', 'test', '--script', script], { input: MSG, encoding: 'utf8', timeout: 20_000 });
  const result = r.stdout.split(/^result:$/m)[1] ?? '';
  return { ok: r.status === 0, stores: [...result.matchAll(/store in (\S+)/g)].map((m) => m[1]!).sort() };
}

const scriptFile = (name: string, text: string): string => {
  const file = join(t.dir, `${name.replace(/\W+/g, '_')}.sieve`);
  writeFileSync(file, `${text}\n`, { mode: 0o644 });
  return file;
};

describe.skipIf(missing && !required)('editheader: mda against Pigeonhole sieve-test (+editheader)', () => {
  it.each(CASES)('RFC 5293: %s', (name, text) => {
    if (missing) throw new Error('sieve-test is required here (CI=true): apt-get install dovecot-sieve');
    const file = scriptFile(name, text);
    const theirs = pigeonhole(file);
    expect(theirs.ok).toBe(true);
    expect(theirs.stores.length).toBeGreaterThan(0); // every case files somewhere: the comparison is never empty
    expect(mda(file)).toEqual(theirs);
  });

  it('deliberate difference: editheader is on by default in mda, off in Pigeonhole', () => {
    const file = scriptFile('default-off', `${R} addheader "X-A" "1";`);
    expect(pigeonhole(file, 'default.conf').ok).toBe(false);
    expect(mda(file).ok).toBe(true);
  });
});
