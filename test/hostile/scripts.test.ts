/**
 * Hostile user Sieve scripts through the real `mda deliver`: catastrophic
 * regexes over megabyte headers, 10,000 rules, absurd nesting, huge
 * variables, redirect storms and folder names that try to escape. Each
 * delivery must end inside its deadline with the mail kept, memory bounded,
 * nothing written outside the Maildir, and at most the configured number of
 * redirects sent.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDir, runMda, tempDir, trackPeakRss } from '../helpers/run-mda.js';

const STUB = fileURLToPath(new URL('../fixtures/sieve/stub-sendmail.sh', import.meta.url));
const DEADLINE_S = 20;
let t: ReturnType<typeof tempDir>;
let home: string;
let md: string;
let sent: string;

beforeEach(() => {
  t = tempDir('mda-hostile-sieve-');
  home = join(t.dir, 'home');
  md = join(home, 'Maildir');
  sent = join(t.dir, 'sent');
  mkdirSync(join(home, '.mda'), { recursive: true });
  mkdirSync(sent);
  writeFileSync(join(t.dir, 'sendmail'), `#!/bin/sh\nexec env STUB_SENDMAIL_DIR='${sent}' ${STUB} "$@"\n`, { mode: 0o755 });
  writeFileSync(join(t.dir, 'mda.toml'), [
    '[log]', `target = "file:${join(t.dir, 'mda.log')}"`,
    '[delivery]', `deadline = "${DEADLINE_S}s"`, `sendmail = "${join(t.dir, 'sendmail')}"`,
    '[sieve]', `script = "${join(home, '.mda', 'filter.sieve')}"`, `state_dir = "${join(home, '.mda')}"`, 'max_redirects = 4',
  ].join('\n'));
});
afterEach(() => t.cleanup());

const script = (text: string) => writeFileSync(join(home, '.mda', 'filter.sieve'), text);
const message = (extraHeaders = '', body = 'Hi Bob.') =>
  `From alice@example.org  Sat Nov 21 23:21:04 2026\nReturn-Path: <alice@example.org>\nDelivered-To: bob@example.test\nFrom: alice@example.org\nTo: bob@example.test\nSubject: hostile\nMessage-ID: <h@example.org>\n${extraHeaders}\n${body}\n`;

/** Delivers, polling peak RSS; returns the result and the peak in MB. */
async function deliver(input: string) {
  let peak = () => 0;
  const r = await runMda(['deliver', '--config', join(t.dir, 'mda.toml'), '--maildir', md], {
    input,
    env: { PATH: process.env.PATH, HOME: home, USER: process.env.USER ?? 'root' },
    hardTimeoutMs: (DEADLINE_S + 15) * 1000,
    onSpawn: (c) => (peak = trackPeakRss(c)),
  });
  return { ...r, peakMb: peak() / 1024 };
}

/** Exactly one stored copy in the whole Maildir (any folder), and nothing outside it. */
function expectStoredOnce(): void {
  const dirs = ['', ...readdirSync(md).filter((d) => d.startsWith('.'))];
  const copies = dirs.reduce((n, d) => n + listDir(join(md, d, 'new')).length + listDir(join(md, d, 'cur')).length, 0);
  expect(copies).toBe(1);
  expect(readdirSync(t.dir).sort()).toEqual(['home', 'mda.log', 'mda.toml', 'sendmail', 'sent']);
}

/** The mail was kept: exactly one copy, in INBOX, and nothing anywhere else under the test dir. */
function expectKeptInInbox(): void {
  expect(listDir(join(md, 'new')).length + listDir(join(md, 'cur')).length).toBe(1);
  const folders = readdirSync(md).filter((d) => d.startsWith('.'));
  for (const f of folders) expect(listDir(join(md, f, 'new')).length + listDir(join(md, f, 'cur')).length, `copy in ${f}`).toBe(0);
  expect(readdirSync(t.dir).sort()).toEqual(['home', 'mda.log', 'mda.toml', 'sendmail', 'sent']);
}

describe('hostile Sieve scripts', () => {
  it.each([
    ['(a+)+$'],
    ['(a|aa)*b'],
    ['(.*a){25}$'],
    ['^(a|a?)+$'],
  ])('a catastrophic regex %s over a 1 MB header finishes fast, the mail stored once', { timeout: 60_000 }, async (re) => {
    // Whether it matches (the header mda keeps for rules is capped) or fails, the point is the time bound.
    script(`require ["regex", "fileinto"];\nif header :regex "x-big" "${re}" { fileinto "Matched"; }\n`);
    const r = await deliver(message(`X-Big: ${'a'.repeat(1024 * 1024)}!`));
    expect(r.code).toBe(0);
    expect(r.elapsedMs).toBeLessThan(DEADLINE_S * 1000);
    expect(r.peakMb).toBeLessThan(200);
    expectStoredOnce();
  });

  it('10,000 rules: refused or run within bounds, the mail kept', { timeout: 60_000 }, async () => {
    const rules = Array.from({ length: 10_000 }, (_, i) => `if header :contains "subject" "nomatch-${i}" { fileinto "F${i}"; }`).join('\n');
    script(`require "fileinto";\n${rules}\n`);
    const r = await deliver(message());
    expect(r.code).toBe(0);
    expect(r.elapsedMs).toBeLessThan(DEADLINE_S * 1000);
    expectKeptInInbox();
  });

  it('nesting 10,000 levels deep is refused cleanly (no stack overflow), the mail kept', async () => {
    script(`${'if true { '.repeat(10_000)}keep;${' }'.repeat(10_000)}\n`);
    const r = await deliver(message());
    expect(r.code).toBe(0);
    expect(r.output).toBe('');
    expectKeptInInbox();
    expect(readFileSync(join(t.dir, 'mda.log'), 'utf8')).toMatch(/filter\.sieve:\d+:\d+/);
  });

  it('a variable doubled 40 times stays bounded', { timeout: 60_000 }, async () => {
    script(`require ["variables", "fileinto"];\nset "a" "xxxxxxxxxxxxxxxx";\n${'set "a" "${a}${a}";\n'.repeat(40)}if string :contains "\${a}" "y" { fileinto "Never"; }\n`);
    const r = await deliver(message());
    expect(r.code).toBe(0);
    expect(r.peakMb).toBeLessThan(200);
    expectKeptInInbox();
  });

  it('a redirect storm sends at most max_redirects (here: the error cancels them all) and keeps the mail', async () => {
    const redirects = Array.from({ length: 100 }, (_, i) => `redirect "victim${i}@example.net";`).join('\n');
    script(`${redirects}\n`);
    const r = await deliver(message());
    expect(r.code).toBe(0);
    const mails = readdirSync(sent).filter((f) => f.endsWith('.args'));
    expect(mails.length).toBeLessThanOrEqual(4);
    expectKeptInInbox();
  });

  it.each([['../../etc'], ['../outside'], ['.hidden'], ['a/b'], ['INBOX/../../x'], ['${hex:00}x']])(
    'fileinto %j cannot leave the Maildir: runtime error → kept in INBOX',
    async (folder) => {
      script(`require ["fileinto", "encoded-character"];\nfileinto "${folder}";\n`);
      const r = await deliver(message());
      expect(r.code).toBe(0);
      expectKeptInInbox();
    },
  );
});
