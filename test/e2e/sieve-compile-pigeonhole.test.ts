/**
 * Differential test: every script below is compiled by mda (compileSieve) and by Pigeonhole's
 * sievec (Dovecot's Sieve compiler, package dovecot-sieve), and both must accept or refuse the
 * same ones. sievec runs with an empty config (-c) and the extensions mda supports that
 * Pigeonhole keeps off by default (-x). Pigeonhole 0.5.19 (Debian 12) was used to write it.
 *
 * Deliberate differences are in DIFFERENCES, each with its reason; the test checks that both
 * still behave as documented there, so a change on either side shows up:
 * - reject/ereject: mda never bounces after acceptance; Pigeonhole supports them.
 * - include, date, and other extensions mda does not implement.
 * - include of a script that does not exist: mda checks one script alone (a runtime error at
 *   delivery, RFC 6609 §3.2); sievec wants the included script to be there.
 * - relational operators: mda takes "GT" as "gt" (ABNF literals are case-insensitive, RFC 5234 §2.3).
 * - :quoteregex (regex draft): mda has it, Pigeonhole 0.5 does not.
 * - a repeated tag is always an error in mda (RFC 5228 §2.6); Pigeonhole lets vacation :handle repeat.
 * - envelope "auth": mda knows only "from" and "to" (RFC 5228 §5.4).
 * - numbers: mda stops at 2^53-1 (exact in JavaScript), Pigeonhole at 2^64-1.
 * - address test headers: mda also accepts Disposition-Notification-To (RFC 8098).
 * - redirect addresses: mda checks only the obvious at compile time ("a b@c" waits for run time).
 * Not compared: error counts and messages, and the exact nesting limit (32 in both, counted
 * one apart), so no row sits on that boundary.
 *
 * Skipped with a warning when sievec is missing (apt-get install dovecot-sieve, which
 * scripts/install-test-deps.sh installs), except in CI (CI=true) or with MDA_E2E_REQUIRED=1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSieve } from '../../src/sieve/compile.js';
import { tempDir } from '../helpers/run-mda.js';

const SIEVEC = ['/usr/bin/sievec', '/usr/local/bin/sievec'].find((p) => existsSync(p));
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
if (!SIEVEC && !required) {
  console.warn('\n*** SKIPPED test/e2e/sieve-compile-pigeonhole.test.ts: sievec is not installed (apt-get install dovecot-sieve) ***\n');
}

let t: ReturnType<typeof tempDir>;
let n = 0;

function pigeonholeAccepts(script: string): boolean {
  const file = join(t.dir, `s${++n}.sieve`);
  writeFileSync(file, script);
  const r = spawnSync(SIEVEC!, ['-c', join(t.dir, 'sievec.conf'), '-x', '+spamtest +spamtestplus +virustest +vacation-seconds', file, `${file}.svbin`], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.error) throw r.error;
  return r.status === 0;
}

const mdaAccepts = (script: string): boolean => !('errors' in compileSieve(script, 'x.sieve'));

/** [name, script, both accept it] */
const AGREE: Array<[string, string, boolean]> = [
  ['empty', '', true],
  ['keep', 'keep;', true],
  ['RFC 5228 §9 example', 'require ["fileinto"];\nif header :is "Sender" "owner-ietf-mta-filters@imc.org" { fileinto "filter"; }\nelsif address :DOMAIN :is ["From", "To"] "example.com" { keep; }\nelsif anyof (NOT address :all :contains ["To", "Cc", "Bcc"] "me@example.com", header :matches "subject" ["*make*money*fast*", "*university*dipl*mas*"]) { fileinto "spam"; }\nelse { fileinto "personal"; }', true],
  ['comments', 'if size :over 100K { /* c\n c */ discard /* c\n */ ;\n} # end', true],
  ['text: with dot-stuffing', 'require "vacation";\nvacation text: # reason\nline\n..dot\n.x\n.\n;', true],
  ['CRLF line breaks', 'if size :over 1 {\r\n  keep;\r\n}\r\n', true],
  ['numbers with suffixes', 'if anyof (size :over 1k, size :under 2M, size :over 3G, size :over 4294967295) { keep; }', true],
  ['escapes', 'if header :is "Subject" ["a\\"b", "c\\\\d", "\\e"] { keep; }', true],
  ['case-insensitive names', 'IF Header :IS "a" "b" { KEEP; } ELSIF TRUE { Stop; }', true],
  ['comparators', 'require "comparator-i;ascii-numeric";\nif header :is :comparator "i;ascii-numeric" "x" "1" { keep; }\nif header :contains :comparator "I;OCTET" "x" "y" { keep; }', true],
  ['15-deep blocks', `${'if true { '.repeat(15)}stop;${' }'.repeat(15)}`, true],
  ['15-deep tests', `if ${'not '.repeat(15)}false { stop; }`, true],
  ['15-deep test lists', `if ${'anyof ('.repeat(15)}true${')'.repeat(15)} { stop; }`, true],
  ['every extension', 'require ["fileinto", "envelope", "encoded-character", "variables", "vacation", "vacation-seconds", "relational", "imap4flags", "subaddress", "body", "copy", "mailbox", "spamtest", "virustest", "duplicate", "regex", "comparator-i;ascii-numeric"];\n' +
    'set :lower "a" "${hex:41}";\nif envelope :user :is "to" "me" { fileinto :copy :create :flags "\\\\Seen" "${a}"; }\n' +
    'if allof (body :text :contains "x", spamtest :value "ge" :comparator "i;ascii-numeric" "5", virustest "1", hasflag :contains "x", string :is "${a}" "a", mailboxexists "b", duplicate :seconds 60 :last) { redirect :copy "a@b.example"; }\n' +
    'if header :regex "subject" "^\\\\[(.*)\\\\]" { addflag "f"; removeflag "f"; setflag "v" "x"; }\nvacation :seconds 3600 :subject "s" :from "a@b.example" :addresses ["c@d.example"] :mime :handle "h" "r";', true],
  ['spamtestplus', 'require "spamtestplus";\nif spamtest :percent "50" { discard; }', true],
  ['address :detail', 'require "subaddress";\nif address :detail "to" "" { keep; }', true],
  ['variables in names are run-time', 'require ["variables", "envelope"];\nif address "${h}" "x" { keep; }\nif envelope "${p}" "x" { keep; }\nredirect "${to}";', true],
  // refused by both
  ['unknown command', 'frop;', false],
  ['unknown test', 'if frop { keep; }', false],
  ['unknown capability', 'require "_frop";', false],
  ['capabilities are case-sensitive', 'require "FILEINTO";', false],
  ['missing semicolon', 'require "fileinto";\nfileinto "frop"\nkeep;', false],
  ['missing semicolon at the end', 'keep', false],
  ['missing }', 'if true { keep; ', false],
  ['extra }', 'if true { keep; }}', false],
  ['empty string list', 'require [];', false],
  ['trailing comma', 'if header ["a", ] "b" { keep; }', false],
  ['empty test list', 'if anyof () { keep; }', false],
  ['require after a command', 'keep;\nrequire "fileinto";', false],
  ['nested require', 'if true { require "fileinto"; }', false],
  ['extension without require', 'fileinto "x";', false],
  ['stop with an argument', 'stop "x";', false],
  ['keep with a test', 'keep true;', false],
  ['discard with a block', 'discard {}', false],
  ['if without a block', 'if true;', false],
  ['if without a test', 'if { keep; }', false],
  ['if with a test list', 'if (true, false) { keep; }', false],
  ['else without if', 'keep; else { keep; }', false],
  ['elsif after else', 'if true { keep; } else { stop; } elsif true { stop; }', false],
  ['else if', 'if true {} else if false {}', false],
  ['if as a test', 'if if true {}', false],
  ['test as a command', 'size :under 23;', false],
  ['unknown tag', 'if envelope :isnot "From" "nico" { discard; }', false],
  ['tag on true', 'if true :comparator "i;ascii-numeric" { keep; }', false],
  ['missing tag colon', 'if address matches "from" "*frop*" { stop; }', false],
  ['two match types', 'if header :is :contains "a" "b" { keep; }', false],
  ['repeated tag', 'if header :comparator "i;octet" :comparator "i;octet" "a" "b" { keep; }', false],
  ['unknown comparator', 'if header :comparator "i;frop" "a" "b" { keep; }', false],
  ['numeric comparator not required', 'if header :comparator "i;ascii-numeric" "a" "b" { keep; }', false],
  [':contains with i;ascii-numeric', 'require "comparator-i;ascii-numeric";\nif header :contains :comparator "i;ascii-numeric" "a" "1" { keep; }', false],
  ['bad relational operator', 'require "relational";\nif header :count "xx" "to" "2" { keep; }', false],
  ['size without :over/:under', 'if size 45 { discard; }', false],
  ['size with both', 'if size :under :over 34 { keep; }', false],
  ['size tag after limit', 'if size 34M :over { stop; }', false],
  ['size with a string', 'if size :over "1" { keep; }', false],
  ['not with a list', 'if not (true) { keep; }', false],
  ['allof without parentheses', 'if allof true { keep; }', false],
  ['address on a non-address header', 'if address :is "frop" "frml" { keep; }', false],
  ['unknown envelope part', 'require "envelope";\nif envelope "frop" "x" { keep; }', false],
  [':user without subaddress', 'if address :user "from" "x" { keep; }', false],
  ['invalid regex', 'require "regex";\nif header :regex "a" "(" { keep; }', false],
  ['set a match variable', 'require "variables";\nset "1" "x";', false],
  ['set a namespace', 'require "variables";\nset "a.b" "x";', false],
  ['set :lower :upper', 'require "variables";\nset :lower :upper "a" "b";', false],
  ['setflag variable without variables', 'require "imap4flags";\nsetflag "v" "x";', false],
  [':seconds without vacation-seconds', 'require "vacation";\nvacation :seconds 10 "x";', false],
  [':days and :seconds', 'require "vacation-seconds";\nvacation :days 1 :seconds 10 "x";', false],
  ['bad vacation :from', 'require "vacation";\nvacation :from "not an address" "x";', false],
  ['duplicate :header and :uniqueid', 'require "duplicate";\nif duplicate :header "a" :uniqueid "b" { keep; }', false],
  ['duplicate :days', 'require "duplicate";\nif duplicate :days 1 { keep; }', false],
  [':percent without spamtestplus', 'require "spamtest";\nif spamtest :percent "1" { keep; }', false],
  ['redirect without @', 'redirect "frop";', false],
  ['fileinto a string list', 'require "fileinto";\nfileinto ["x"];', false],
  ['unicode out of range', 'require ["encoded-character", "fileinto"];\nfileinto "${unicode:200000}";', false],
  ['unterminated string', 'keep; "abc', false],
  ['unterminated comment', '/* abc', false],
  ['unterminated text:', 'require "vacation";\nvacation text:\nline\n', false],
  ['text: ended without a line break', 'require "vacation";\nvacation text:\nline\n.', false],
  ['bracket comment after text:', 'require "vacation";\nvacation text: /* c */\nline\n.\n;', false],
  ['stray CR in a string', 'if header :is "a" "x\ry" { keep; }', false],
  ['bad character', 'keep; @', false],
  ['lone colon', 'if header : "a" "b" { keep; }', false],
  ['number above 2^64', 'if size :over 18446744073709551616 { keep; }', false],
  ['40-deep blocks', `${'if true { '.repeat(40)}stop;${' }'.repeat(40)}`, false],
  ['40-deep tests', `if ${'not '.repeat(40)}false { stop; }`, false],
  ['10,000-deep tests', `if ${'not '.repeat(10_000)}false { stop; }`, false],
  ['10,000-deep blocks', `${'if true { '.repeat(10_000)}stop;${' }'.repeat(10_000)}`, false],
  // date and index (RFC 5260), environment (RFC 5183), ihave and error (RFC 5463)
  ['date and currentdate', 'require ["date", "relational"];\nif allof(date :zone "+0100" "date" "date" "2026-12-01", currentdate :value "ge" "date" "2026-12-01") { keep; }', true],
  ['date :index :last', 'require ["date", "index"];\nif date :index 1 :last :originalzone "received" "year" "2009" { keep; }', true],
  ['header and address :index', 'require "index";\nif anyof(header :index 2 "subject" "x", address :index 1 :last "to" "a@b") { keep; }', true],
  [':last without :index', 'require "index";\nif header :last "subject" "x" { keep; }', false],
  [':index without index', 'if header :index 1 "subject" "x" { keep; }', false],
  ['date :zone and :originalzone', 'require "date";\nif date :zone "+0100" :originalzone "date" "year" "2009" { keep; }', false],
  ['currentdate :originalzone', 'require "date";\nif currentdate :originalzone "year" "2009" { keep; }', false],
  ['date without require', 'if date "date" "year" "2009" { keep; }', false],
  ['environment', 'require "environment";\nif environment :matches "location" "*" { keep; }', true],
  ['ihave with an unknown extension in its block', 'require "ihave";\nif ihave "vnd.example.none" { magic :sparkle "x"; }', true],
  ['ihave enables a known extension in its block', 'require "ihave";\nif ihave "date" { if currentdate "year" "2026" { keep; } }', true],
  ['ihave: unknown command outside the block', 'require "ihave";\nif ihave "vnd.example.none" { keep; }\nmagic;', false],
  ['error', 'require "ihave";\nerror "no";', true],
  ['error without ihave', 'error "no";', false],
  // include (RFC 6609)
  ['include :optional with every tag', 'require "include";\ninclude :global :once :optional "none-here";\ninclude :optional :personal "x";', true],
  ['return', 'require "include";\nif true { return; }\nkeep;', true],
  ['global with variables', 'require ["include", "variables"];\nglobal ["a", "b"];\nset "a" "1";', true],
  ['include without require', 'include :optional "x";', false],
  ['include name with /', 'require "include";\ninclude :optional "a/b";', false],
  ['include name from a variable', 'require ["include", "variables"];\nset "n" "x";\ninclude :optional "${n}";', false],
  ['include :personal :global', 'require "include";\ninclude :personal :global :optional "x";', false],
  ['global without variables', 'require "include";\nglobal "a";', false],
];

/** [name, script, mda accepts, Pigeonhole accepts] — see the header for why. */
const DIFFERENCES: Array<[string, string, boolean, boolean]> = [
  ['reject', 'require "reject";\nreject "no";', false, true],
  // RFC 6609 §3.2: mda checks one script alone, as a ManageSieve upload; sievec wants the included script to exist.
  ['include of a script that does not exist', 'require "include";\ninclude "not-there";', true, false],
  ['upper-case relational operator', 'require "relational";\nif header :value "GT" "a" "b" { keep; }', true, false],
  [':quoteregex', 'require ["variables", "regex"];\nset :quoteregex "a" "b";', true, false],
  ['vacation :handle twice', 'require "vacation";\nvacation :handle "h" :handle "i" "x";', false, true],
  ['envelope "auth"', 'require "envelope";\nif envelope "auth" "x" { keep; }', false, true],
  ['a number above 2^53-1', 'if size :over 9007199254740992 { keep; }', false, true],
  ['address :is "Disposition-Notification-To"', 'if address :is "Disposition-Notification-To" "x" { keep; }', true, false],
  ['redirect "a b@c"', 'redirect "a b@c";', true, false],
];

describe.skipIf(!SIEVEC && !required)('mda and Pigeonhole sievec accept and refuse the same scripts', () => {
  beforeAll(() => {
    if (!SIEVEC) throw new Error('sievec is required here (CI or MDA_E2E_REQUIRED=1): apt-get install dovecot-sieve');
    t = tempDir('mda-sievec-');
    // Empty script locations, so that include :optional compiles as it does for a user (RFC 6609).
    mkdirSync(join(t.dir, 'personal'));
    mkdirSync(join(t.dir, 'global'));
    writeFileSync(join(t.dir, 'sievec.conf'), `plugin {\n  sieve = file:${join(t.dir, 'personal')}\n  sieve_global = ${join(t.dir, 'global')}\n}\n`);
  });
  afterAll(() => t?.cleanup());

  it.each(AGREE)('%s', (_name, script, valid) => {
    expect({ mda: mdaAccepts(script), pigeonhole: pigeonholeAccepts(script) }).toEqual({ mda: valid, pigeonhole: valid });
  });

  it.each(DIFFERENCES)('documented difference: %s', (_name, script, mda, pigeonhole) => {
    expect({ mda: mdaAccepts(script), pigeonhole: pigeonholeAccepts(script) }).toEqual({ mda, pigeonhole });
  });
});
