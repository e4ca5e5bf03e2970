/**
 * date and index (RFC 5260), environment (RFC 5183) and ihave (RFC 5463) in mda and in
 * Pigeonhole's `sieve-test` (dovecot-sieve): the same scripts on messages with many date forms,
 * filing into a folder named after what each test saw, and the folders compared. Deliberate
 * differences are in DIFFERENT and checked to stay different. Skipped loudly when sieve-test is
 * not installed, except in CI (CI=true), where that fails. Run `npm run build` first.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MDA, tempDir } from '../helpers/run-mda.js';

const SIEVE_TEST = '/usr/bin/sieve-test';
const missing = !existsSync(SIEVE_TEST);
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (missing && !required) console.warn('\n*** SKIPPED test/e2e/sieve-date-pigeonhole.test.ts: sieve-test (dovecot-sieve) is not installed ***\n');

const REQ = 'require ["date", "index", "relational", "comparator-i;ascii-numeric", "variables", "fileinto", "environment", "ihave"];\n';
/** Files into "<what the :matches "*" saw>" or "F" when the test is false. */
const show = (test: string) => `${REQ}if ${test} { fileinto "\${1}"; } else { fileinto "F"; }`;
const yes = (test: string) => `${REQ}if ${test} { fileinto "T"; } else { fileinto "F"; }`;

/** [name, Date field value, script]. Folder names avoid "/" and ".": the parts used here contain neither. */
const CASES: Array<[string, string, string]> = [
  ['RFC 5260 §4.2 date', 'Fri, 23 Jan 2009 13:20:34 +0100', show('date :originalzone :matches "date" "date" "*"')],
  ['RFC 5260 §4.2 time', 'Fri, 23 Jan 2009 13:20:34 +0100', show('date :originalzone :matches "date" "time" "*"')],
  ['RFC 5260 §4.2 julian', 'Fri, 23 Jan 2009 13:20:34 +0100', show('date :originalzone :matches "date" "julian" "*"')],
  ['RFC 5260 §4.2 weekday', 'Fri, 23 Jan 2009 13:20:34 +0100', show('date :originalzone :matches "date" "weekday" "*"')],
  ['RFC 5260 §4.2 zone', 'Fri, 23 Jan 2009 13:20:34 -0530', show('date :originalzone :matches "date" "zone" "*"')],
  ['RFC 5260 §4.2 iso8601 with :zone', 'Fri, 23 Jan 2009 13:20:34 +0100', show('date :zone "-0030" :matches "date" "iso8601" "*"')],
  ['RFC 5260 §4.2 std11', 'Mon, 5 Jan 2009 01:02:03 -0500', show('date :originalzone :matches "date" "std11" "*"')],
  ['RFC 5260 §4.1 :zone crosses midnight', 'Fri, 23 Jan 2009 23:20:34 +0000', show('date :zone "+0100" :matches "date" "date" "*"')],
  ['RFC 5260 §4.1 no :zone: local (UTC here)', 'Fri, 23 Jan 2009 13:20:34 +0100', show('date :matches "date" "hour" "*"')],
  ['RFC 5322 §4.3 2-digit year', 'Fri, 23 Jan 09 13:20:34 +0100', show('date :originalzone :matches "date" "year" "*"')],
  ['RFC 5322 §4.3 no seconds', 'Fri, 23 Jan 2009 13:20 +0100', show('date :originalzone :matches "date" "time" "*"')],
  ['RFC 5322 §4.3 EST', 'Fri, 23 Jan 2009 13:20:34 EST', show('date :originalzone :matches "date" "zone" "*"')],
  ['RFC 5322 §4.3 comments', '(x) Fri, 23 (y) Jan 2009 13:20:34 +0100 (CET)', show('date :originalzone :matches "date" "date" "*"')],
  ['RFC 5260 §4 Feb 30 is false', 'Mon, 30 Feb 2009 13:20:34 +0100', yes('date :originalzone :matches "date" "year" "*"')],
  ['RFC 5260 §4 garbage is false', 'yesterday', yes('date :originalzone :matches "date" "year" "*"')],
  ['RFC 5231 :value ge on a date', 'Fri, 23 Jan 2009 13:20:34 +0100', yes('date :originalzone :value "ge" "date" "date" "2009-01-23"')],
  ['RFC 5260 §4 :count of a date', 'Fri, 23 Jan 2009 13:20:34 +0100', yes('date :count "eq" :comparator "i;ascii-numeric" "date" "year" "1"')],
  ['RFC 5260 §5 currentdate range', 'x', yes('allof(currentdate :value "ge" "date" "2000-01-01", currentdate :value "le" "date" "2999-12-31")')],
  ['RFC 5260 §6 header :index', 'x', show('header :index 2 :matches "subject" "*"')],
  ['RFC 5260 §6 header :index :last over two names', 'x', show('header :index 1 :last :matches ["subject", "to"] "*"')],
  ['RFC 5260 §6 address :index', 'x', show('address :index 2 :localpart :matches "to" "*"')],
  ['RFC 5260 §6 date :index on Received', 'x', show('date :index 2 :originalzone :matches "received" "date" "*"')],
  ['RFC 5183 environment unknown item', 'x', yes('environment :matches "no-such-item" "*"')],
  ['RFC 5463 ihave', 'x', yes('allof(ihave "date", not ihave "vnd.example.none")')],
  ['RFC 5463 §4 unknown capability in an ihave block', 'x', `${REQ}if ihave "vnd.example.none" { magic "x"; } else { fileinto "Else"; }`],
  ['RFC 5322 §4.3 military zone', 'Fri, 23 Jan 2009 13:20:34 A', show('date :originalzone :matches "date" "zone" "*"')],
  ['RFC 5322 §4.3 3-digit year', 'Fri, 23 Jan 109 13:20:34 +0100', show('date :originalzone :matches "date" "year" "*"')],
  ['RFC 5183 environment location', 'x', show('environment :matches "location" "*"')],
];

/**
 * Deliberate differences. Military zones: RFC 5322 §4.3 says to read them as -0000, Pigeonhole
 * reads them as RFC 822 defined them (A = +0100). Three-digit years: RFC 5322 §4.3 adds 1900,
 * Pigeonhole refuses the date. :index on date: Pigeonhole 0.5.19 tests the first Received field
 * whatever the index; RFC 5260 §6 says the Nth. environment "location": mda is an MDA ("MDA"),
 * sieve-test says "MS".
 */
const DIFFERENT = new Set([
  'RFC 5322 §4.3 military zone', 'RFC 5322 §4.3 3-digit year', 'RFC 5260 §6 date :index on Received', 'RFC 5183 environment location',
]);

let t: ReturnType<typeof tempDir>;
beforeAll(() => {
  t = tempDir('mda-sieve-date-pig-');
  chmodSync(t.dir, 0o755);
  mkdirSync(join(t.dir, 'w'), { mode: 0o777 });
  chmodSync(join(t.dir, 'w'), 0o777);
  writeFileSync(join(t.dir, 'dovecot.conf'), `mail_uid = nobody\nmail_gid = nogroup\nmail_location = maildir:${join(t.dir, 'w', 'Maildir')}\n`, { mode: 0o644 });
});
afterAll(() => t?.cleanup());

const message = (date: string) => [
  'Received: from b by a; Tue, 6 Jan 2009 03:04:05 +0100',
  'Received: from c by b; Mon, 5 Jan 2009 01:02:03 -0500',
  'From: Alice <alice@example.org>',
  'To: bob@example.test, carol@example.net',
  'To: erin@example.org',
  `Date: ${date}`,
  'Subject: one',
  'Subject: two',
  '',
  'body',
  '',
].join('\n');

function pigeonhole(script: string, msg: string): string[] {
  // TZ=UTC: both sides see the same local zone
  const r = spawnSync(SIEVE_TEST, ['-c', join(t.dir, 'dovecot.conf'), script, msg], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, TZ: 'UTC' } });
  return [...r.stdout.matchAll(/store message in folder: (.+)/g)].map((m) => m[1]!.trim()).sort();
}

function mda(script: string, text: string): string[] {
  const r = spawnSync(process.execPath, [MDA, 'sieve', 'test', '--script', script], { input: text, encoding: 'utf8', timeout: 20_000, env: { ...process.env, TZ: 'UTC' } });
  const result = r.stdout.split(/^result:$/m)[1] ?? '';
  return [...result.matchAll(/store in (.+?)(?: flags .*)?$/gm)].map((m) => m[1]!.trim()).sort();
}

describe.skipIf(missing && !required)('Sieve dates: mda against Pigeonhole sieve-test', () => {
  it.each(CASES)('%s', (name, date, text) => {
    if (missing) throw new Error('sieve-test is required here (CI=true): apt-get install dovecot-sieve');
    const base = join(t.dir, name.replace(/\W+/g, '_'));
    writeFileSync(`${base}.sieve`, `${text}\n`, { mode: 0o644 });
    const msg = message(date);
    writeFileSync(`${base}.eml`, msg, { mode: 0o644 });
    const ours = mda(`${base}.sieve`, msg);
    const theirs = pigeonhole(`${base}.sieve`, `${base}.eml`);
    expect(ours.length).toBeGreaterThan(0);
    if (DIFFERENT.has(name)) expect(ours).not.toEqual(theirs);
    else expect(ours).toEqual(theirs);
  });
});
