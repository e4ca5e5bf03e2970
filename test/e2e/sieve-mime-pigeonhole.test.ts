/**
 * RFC 5703 (mime, foreverypart, break, extracttext): the same scripts and a nested MIME message
 * through `mda sieve test` and Pigeonhole's `sieve-test`, comparing the folders each files into.
 * Skipped loudly when sieve-test is not installed, except in CI (CI=true), where that fails.
 * Deliberate differences are listed in DIFFERENT and checked to stay different.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NESTED } from '../helpers/mime-messages.js';
import { MDA, tempDir } from '../helpers/run-mda.js';

const SIEVE_TEST = '/usr/bin/sieve-test';
const missing = !existsSync(SIEVE_TEST);
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (missing && !required) console.warn('\n*** SKIPPED test/e2e/sieve-mime-pigeonhole.test.ts: sieve-test (dovecot-sieve) is not installed ***\n');

const MSG = `To: bob@example.test\n${NESTED}`;
const REQ = 'require ["foreverypart", "mime", "extracttext", "variables", "fileinto", "relational", "comparator-i;ascii-numeric"];\n';
/** Counts iterations in ${n} so that each part files into its own folder (duplicate fileinto merge). */
const LOOP = (body: string) => `${REQ}set "n" "";\nforeverypart { set "n" "\${n}x";\n${body}\n}`;

const CASES: Array<[string, string]> = [
  ['RFC 5703 §3: every part, depth first', LOOP('if header :mime :contenttype :matches "Content-Type" "*/*" { fileinto "p${n}.${1}-${2}"; }')],
  // (Pigeonhole 0.5.19 fails at run time on a nested loop directly inside an if with a :mime test: not compared)
  ['RFC 5703 §3: nested loop over the inner parts', `${REQ}set "m" ""; foreverypart { set "m" "\${m}x"; set "n" ""; foreverypart { set "n" "\${n}y"; if header :mime :subtype :matches "Content-Type" "*" { fileinto "in\${m}.\${n}.\${1}"; } } }`],
  ['RFC 5703 §3.2: break', `${REQ}foreverypart { if header :mime :subtype "Content-Type" "pdf" { fileinto "attachments"; break; } fileinto "seen"; } fileinto "after";`],
  ['RFC 5703 §3.2: break :name', `${REQ}set "n" ""; foreverypart :name "outer" { set "n" "\${n}o"; foreverypart { if header :mime :subtype "Content-Type" "plain" { break :name "outer"; } } } fileinto "n\${n}";`],
  ['RFC 5703 §4.1: :anychild outside a loop', `${REQ}if header :mime :anychild :subtype "Content-Type" "pdf" { fileinto "pdf"; } if header :mime :anychild :contenttype "Content-Type" "multipart/mixed" { fileinto "top"; }`],
  ['RFC 5703 §4.2: :type of Content-Disposition, :param filename', LOOP('if header :mime :type "Content-Disposition" "attachment" { fileinto "att${n}"; } if header :mime :param "filename" :matches "Content-Disposition" "*.pdf" { fileinto "f${n}.${1}"; }')],
  ['RFC 5703 §4.2: :param charset', LOOP('if header :mime :param "charset" "Content-Type" "iso-8859-1" { fileinto "latin${n}"; }')],
  ['RFC 5703 §4.2: :param absent', LOOP('if header :mime :param "charset" :matches "Content-Type" "*" { fileinto "cs${n}"; }')],
  ['RFC 5703 §4.2: whole value with :mime', LOOP('if header :mime :matches "Subject" "*" { fileinto "s${n}.${1}"; }')],
  ['RFC 5703 §4.3-4.4: address and exists :mime', LOOP('if exists :mime "Content-Disposition" { fileinto "d${n}"; } if address :mime :localpart "From" "c" { fileinto "c${n}"; }')],
  ['RFC 5703 §4.1: :anychild inside a loop', LOOP('if header :mime :anychild :subtype "Content-Type" "pdf" { fileinto "child${n}"; }')],
  ['RFC 5703 §7: extracttext', LOOP('if header :mime :contenttype "Content-Type" "text/plain" { extracttext :upper "u"; fileinto "u${n}.${u}"; }')],
  ['RFC 5703 §7: extracttext of a non-text part', LOOP('if header :mime :subtype "Content-Type" "pdf" { extracttext "u"; fileinto "u${n}.${u}x"; }')],
  ['RFC 5703 §7: extracttext :first', LOOP('extracttext :first 6 "t"; if string :is "${t}" "" { } else { fileinto "t${n}.${t}"; }')],
];

/**
 * Deliberate differences, checked to stay different:
 * - :param absent: Pigeonhole matches "" for a parameter the field lacks; RFC 5703 §4.2 tests the
 *   named parameters, so mda has no value (and `:matches "*"` fails).
 * - :anychild inside a loop: on a leaf part Pigeonhole also looks at the parts after it (here the
 *   text/html part "has" the PDF); RFC 5703 §4.1 names the current part and those nested in it.
 * - extracttext :first: Pigeonhole counts octets ("café " for 6), mda characters ("café a"), as
 *   RFC 5703 §7 says characters.
 * - extracttext of a non-text part: Pigeonhole gives the decoded bytes (the PDF's "%PDF-1.4"), mda
 *   "": only text/* parts have text to extract, and binary bytes make no variable value.
 * Not compared: text/html, which both reduce to text but with different white space.
 */
const DIFFERENT = new Set<string>([
  'RFC 5703 §4.2: :param absent', 'RFC 5703 §4.1: :anychild inside a loop', 'RFC 5703 §7: extracttext :first', 'RFC 5703 §7: extracttext of a non-text part',
]);

let t: ReturnType<typeof tempDir>;
beforeAll(() => {
  t = tempDir('mda-sieve-mime-pig-');
  chmodSync(t.dir, 0o755);
  mkdirSync(join(t.dir, 'w'), { mode: 0o777 });
  chmodSync(join(t.dir, 'w'), 0o777);
  writeFileSync(join(t.dir, 'dovecot.conf'), `mail_uid = nobody\nmail_gid = nogroup\nmail_location = maildir:${join(t.dir, 'w', 'Maildir')}\n`, { mode: 0o644 });
  writeFileSync(join(t.dir, 'm.eml'), MSG, { mode: 0o644 });
});
afterAll(() => t?.cleanup());

function pigeonhole(script: string): string[] {
  const r = spawnSync(SIEVE_TEST, ['-c', join(t.dir, 'dovecot.conf'), script, join(t.dir, 'm.eml')], { encoding: 'utf8', timeout: 20_000 });
  if (!/final result: success/.test(r.stdout + r.stderr)) throw new Error(`sieve-test failed: ${r.stdout}${r.stderr}`);
  return [...r.stdout.matchAll(/store message in folder: (.+)/g)].map((m) => m[1]!.trim()).sort();
}

function mda(script: string): string[] {
  const r = spawnSync(process.execPath, [MDA, 'sieve', 'test', '--script', script], { input: MSG, encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`mda sieve test failed: ${r.stdout}${r.stderr}`);
  const result = r.stdout.split(/^result:$/m)[1] ?? '';
  return [...result.matchAll(/store in (.+?)(?: \[|$)/gm)].map((m) => m[1]!.trim()).sort();
}

describe.skipIf(missing && !required)('RFC 5703: mda against Pigeonhole sieve-test', () => {
  it.each(CASES)('%s', (name, text) => {
    if (missing) throw new Error('sieve-test is required here (CI=true): apt-get install dovecot-sieve');
    const file = join(t.dir, `${name.replace(/\W+/g, '_')}.sieve`);
    writeFileSync(file, `${text}\n`, { mode: 0o644 });
    const ours = mda(file);
    const theirs = pigeonhole(file);
    expect(ours.length).toBeGreaterThan(0);
    if (DIFFERENT.has(name)) expect(ours).not.toEqual(theirs);
    else expect(ours).toEqual(theirs);
  });
});
