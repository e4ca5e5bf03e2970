/**
 * Evaluation and validation of date/currentdate and index (RFC 5260), environment (RFC 5183),
 * ihave and error (RFC 5463). The clock is test/helpers/sieve.ts's fixed instant
 * (2026-12-24 09:30:15 UTC, a Thursday) and the local zone is UTC unless a test injects another.
 */
import { describe, expect, it } from 'vitest';
import { compileSieve } from '../../../src/sieve/compile.js';
import type { SieveEnv } from '../../../src/sieve/evaluate.js';
import { run, targets } from '../../helpers/sieve.js';

const REQ = 'require ["date", "index", "relational", "comparator-i;ascii-numeric", "variables", "fileinto", "environment", "ihave", "vacation"];\n';

const MSG = [
  'Return-Path: <alice@example.org>',
  'Received: from mx2 by mx1.example.test; Tue, 6 Jan 2009 03:04:05 +0100',
  'Received: from c by mx2; Mon, 5 Jan 2009 01:02:03 -0500',
  'From: Alice <alice@example.org>',
  'To: bob@example.test, carol@example.net',
  'Cc: dave@example.com',
  'To: erin@example.org',
  'Date: Fri, 23 Jan 2009 13:20:34 +0100 (CET)',
  'X-Bad-Date: Fri, 32 Jan 2009 13:20:34 +0100',
  'Subject: one',
  'Subject: two',
  'Subject: three',
  '',
  'Hi.',
  '',
].join('\n');

/** true when the test holds for MSG. */
function holds(test: string, e: Partial<SieveEnv> = {}): boolean {
  const p = run(`${REQ}if ${test} { discard; }`, MSG, e);
  if (p.errors.length) throw new Error(p.errors.join('\n'));
  return p.keep === null;
}

/** ${1} after `test :matches ... "*"`: the value the test saw. */
function seen(test: string, e: Partial<SieveEnv> = {}): string | null {
  const p = run(`${REQ}if ${test} { fileinto "\${1}"; }`, MSG, e);
  if (p.errors.length) throw new Error(p.errors.join('\n'));
  return p.fileinto[0]?.mailbox ?? null;
}

function errs(text: string): string[] {
  const r = compileSieve(text, 't.sieve');
  return 'errors' in r ? r.errors.map((e) => `${e.line}:${e.column} ${e.message}`) : [];
}

describe('RFC 5260 §4: the date test', () => {
  it.each<[string, boolean]>([
    ['date :originalzone "date" "date" "2009-01-23"', true],
    ['date :originalzone "date" "hour" "13"', true],
    ['date :zone "+0000" "date" "hour" "12"', true], // converted to UTC
    ['date :zone "-1200" "date" "date" "2009-01-23"', true],
    ['date :zone "+1200" "date" "date" "2009-01-24"', true],
    ['date "date" "hour" "12"', true], // no zone tag: the local zone (UTC here)
    ['date :originalzone "date" "zone" "+0100"', true],
    ['date :originalzone "DATE" "Weekday" "5"', true], // header and part names are case-insensitive
    ['date :originalzone :value "ge" "date" "date" "2009-01-01"', true], // RFC 5231 relational on a date
    ['date :originalzone :value "lt" "date" "date" "2009-01-23"', false],
    ['date :originalzone :value "gt" :comparator "i;ascii-numeric" "date" "year" "2008"', true],
    ['date :originalzone :matches "date" "iso8601" "2009-01-23T13:*+01:00"', true],
    ['date :originalzone :contains "date" "std11" "Jan 2009"', true],
    ['date :originalzone "x-bad-date" "year" "2009"', false], // §4: an invalid date makes the test false
    ['date :originalzone :matches "x-bad-date" "year" "*"', false],
    ['date :originalzone :matches "subject" "year" "*"', false], // not a date at all
    ['date :originalzone :matches "x-absent" "year" "*"', false],
    ['date :originalzone :matches "date" "fortnight" "*"', false], // unknown part: false (Pigeonhole warns only)
    ['date :zone "bogus" "date" "hour" "12"', true], // invalid zone: the local zone, as Pigeonhole
    ['date :count "eq" :comparator "i;ascii-numeric" "date" "year" "1"', true], // §4: one valid date counts 1
    ['date :count "eq" :comparator "i;ascii-numeric" "x-bad-date" "year" "0"', true],
    ['date :count "eq" :comparator "i;ascii-numeric" "x-absent" "year" "0"', true],
  ])('%s → %s', (t, want) => expect(holds(t)).toBe(want));

  it('RFC 5260 §4: only the first field of the name is used; a Received date follows the last semicolon', () => {
    expect(seen('date :originalzone :matches "received" "iso8601" "*"')).toBe('2009-01-06T03:04:05+01:00');
    expect(holds('date :originalzone "received" "day" "05"')).toBe(false);
  });

  it('RFC 5260 §4.1: with no :zone the local zone of the instant is used (injected)', () => {
    // a zone that is +0200 in summer and +0100 in winter: the offset at the header's instant counts
    const localOffset = (ms: number): number => (new Date(ms).getUTCMonth() >= 3 && new Date(ms).getUTCMonth() <= 9 ? 120 : 60);
    const clock = { nowMs: Date.UTC(2026, 6, 1, 12), localOffset };
    expect(seen('date :matches "date" "iso8601" "*"', { clock })).toBe('2009-01-23T13:20:34+01:00');
    expect(seen('currentdate :matches "iso8601" "*"', { clock })).toBe('2026-07-01T14:00:00+02:00');
  });

  it('RFC 5229 §3.2: :matches on a date sets the match variables', () => {
    expect(seen('date :originalzone :matches "date" "date" "*"')).toBe('2009-01-23');
  });
});

describe('RFC 5260 §5: the currentdate test', () => {
  it.each<[string, boolean]>([
    ['currentdate "date" "2026-12-24"', true],
    ['currentdate "weekday" "4"', true],
    ['currentdate "julian" "61398"', true],
    ['currentdate :zone "+1500" "date" "2026-12-25"', true],
    ['currentdate :zone "-1000" "time" "23:30:15"', true],
    ['currentdate "iso8601" "2026-12-24T09:30:15Z"', true],
    ['currentdate "std11" "Thu, 24 Dec 2026 09:30:15 +0000"', true],
    // Roundcube's vacation with a date range
    ['allof(currentdate :value "ge" "date" "2026-12-01", currentdate :value "le" "date" "2026-12-31")', true],
    ['allof(currentdate :value "ge" "date" "2027-01-01", currentdate :value "le" "date" "2027-01-31")', false],
    ['currentdate :value "ge" "iso8601" "2026-12-24T09:30:16Z"', false],
    ['currentdate :matches "hour" "1?"', false],
    ['currentdate "fortnight" "1"', false],
  ])('%s → %s', (t, want) => expect(holds(t)).toBe(want));

  it('RFC 5260 §5: every currentdate of one run sees the same instant (the one clock reading)', () => {
    let reads = 0;
    const clock = { get nowMs(): number { reads++; return Date.UTC(2026, 11, 24, 23, 59, 59); }, localOffset: () => 0 };
    const p = run(`${REQ}if currentdate "time" "23:59:59" { fileinto "A"; } if currentdate "date" "2026-12-24" { fileinto "B"; }`, MSG, { clock });
    expect(targets(p)).toEqual(['fileinto A', 'fileinto B']);
    expect(reads).toBe(2); // read from the run's clock, never from Date.now()
  });

  it('RFC 5260 §5: the vacation of a date range is planned inside the range only', () => {
    const script = `${REQ}if allof(currentdate :value "ge" "date" "2026-12-20", currentdate :value "le" "date" "2026-12-31") { vacation :days 1 "Away until January"; }`;
    expect(run(script, MSG).vacation?.to).toBe('alice@example.org');
    expect(run(script, MSG, { clock: { nowMs: Date.UTC(2027, 0, 1), localOffset: () => 0 } }).vacation).toBeNull();
  });
});

describe('RFC 5260 §6: :index and :last', () => {
  it.each<[string, boolean]>([
    ['header :index 2 :is "subject" "two"', true],
    ['header :index 2 :is "subject" "one"', false],
    ['header :index 1 :last :is "subject" "three"', true],
    ['header :index 3 :last :is "subject" "one"', true],
    ['header :index 4 :is "subject" "one"', false], // no 4th field: false
    ['header :index 4 :last :matches "subject" "*"', false],
    // counted over the named headers in the order named (as Pigeonhole does)
    ['header :index 4 :is ["subject", "from"] "Alice <alice@example.org>"', true],
    ['header :index 1 :last :is ["subject", "from"] "Alice <alice@example.org>"', true],
    ['header :index 1 :count "eq" :comparator "i;ascii-numeric" "subject" "1"', true],
    ['address :index 2 :is "to" "erin@example.org"', true],
    ['address :index 1 :is "to" "carol@example.net"', true], // every address of that one field
    ['address :index 1 :is "to" "erin@example.org"', false],
    ['address :index 1 :last :domain :is "to" "example.org"', true],
    ['date :index 2 :originalzone "received" "date" "2009-01-05"', true],
    ['date :index 1 :last :originalzone "received" "zone" "-0500"', true],
    ['date :index 3 :originalzone :matches "received" "date" "*"', false],
  ])('%s → %s', (t, want) => expect(holds(t)).toBe(want));

  it('RFC 5260 §6: :last needs :index, :index counts from 1, and both need require "index"', () => {
    expect(errs('require ["index"];\nif header :last :is "subject" "x" { stop; }')).toEqual([expect.stringMatching(/^2:4 :last needs :index/)]);
    expect(errs('require ["index"];\nif header :index 0 :is "subject" "x" { stop; }')).toEqual([expect.stringMatching(/^2:18 :index counts fields from 1/)]);
    expect(errs('if header :index 1 :is "subject" "x" { stop; }')).toEqual([expect.stringMatching(/tag :index of the header test needs require "index"/)]);
  });
});

describe('RFC 5260: date validation', () => {
  it.each<[string, RegExp]>([
    ['if date "date" "year" "2009" { stop; }', /the date test needs require "date"/],
    ['require "date";\nif currentdate :originalzone "year" "2009" { stop; }', /unknown tag :originalzone for the currentdate test/],
    ['require "date";\nif date :zone "+0100" :originalzone "date" "year" "2009" { stop; }', /conflicts with :zone/],
    ['require "date";\nif date ["date", "received"] "year" "2009" { stop; }', /needs a string as argument 1 \(header name\)/],
    ['require "date";\nif date "date" "year" { stop; }', /needs 3 positional arguments/],
  ])('%j → %s', (text, want) => expect(errs(text).join('\n')).toMatch(want));

  it('unknown date-parts and zones compile (Pigeonhole only warns)', () => {
    expect(errs('require "date";\nif date :zone "bogus" "date" "fortnight" "1" { stop; }')).toEqual([]);
  });
});

describe('RFC 5183 §4: the environment test', () => {
  it.each<[string, boolean]>([
    ['environment "location" "MDA"', true],
    ['environment "phase" "during"', true],
    ['environment "name" "mda"', true],
    ['environment "version" "0.1.0"', true],
    ['environment "host" "mx1.example.test"', true],
    ['environment "domain" "example.test"', true],
    ['environment "NAME" "MDA"', true], // i;ascii-casemap, and item names case-insensitive
    ['environment :matches "remote-host" "*"', false], // unknown items make the test false
    ['environment :count "eq" :comparator "i;ascii-numeric" "nothing" "0"', false],
  ])('%s → %s', (t, want) => expect(holds(t)).toBe(want));

  it('RFC 5183 §4: "domain" is the host itself when its name has no dot', () => {
    expect(holds('environment "domain" "mailhost"', { site: { host: 'mailhost', version: '1' } })).toBe(true);
  });

  it('RFC 5183: environment needs require "environment"', () => {
    expect(errs('if environment "name" "mda" { stop; }').join('\n')).toMatch(/the environment test needs require "environment"/);
  });
});

describe('RFC 5463 §4: ihave', () => {
  it('is true when every capability is supported, false otherwise', () => {
    expect(holds('ihave "date"')).toBe(true);
    expect(holds('ihave ["date", "relational", "comparator-i;ascii-numeric"]')).toBe(true);
    expect(holds('ihave ["date", "vnd.dovecot.nope"]')).toBe(false);
    expect(holds('ihave "reject"')).toBe(false);
  });

  it('RFC 5463 §4: an unknown capability inside an ihave block is not a compile error, and the block never runs', () => {
    const script = 'require ["ihave", "fileinto"];\nif ihave "x-unknown" { xunknowncommand :tag 1 2; fileinto "never"; } else { fileinto "Else"; }';
    expect(errs(script)).toEqual([]);
    expect(targets(run(script, MSG))).toEqual(['fileinto Else']);
    const inAllof = 'require ["ihave", "fileinto"];\nif allof(true, ihave "x-unknown") { xunknowncommand; } elsif true { fileinto "E"; }';
    expect(targets(run(inAllof, MSG))).toEqual(['fileinto E']);
  });

  it('RFC 5463 §4: a supported capability named by ihave is usable inside its block without require', () => {
    const script = 'require ["ihave", "fileinto"];\nif ihave "date" { if currentdate "year" "2026" { fileinto "Y"; } }';
    expect(errs(script)).toEqual([]);
    expect(targets(run(script, MSG))).toEqual(['fileinto Y']);
    // ...but only inside it
    expect(errs('require "ihave";\nif ihave "date" { stop; }\nif currentdate "year" "2026" { stop; }').join('\n')).toMatch(/^3:4 the currentdate test needs require "date"/);
  });

  it('RFC 5463 §4: errors outside a guarded block are still errors', () => {
    expect(errs('require "ihave";\nif anyof(ihave "x-unknown", true) { xunknowncommand; }').join('\n')).toMatch(/unknown command 'xunknowncommand'/);
    expect(errs('require "ihave";\nif ihave "x-unknown" { stop; } else { xunknowncommand; }').join('\n')).toMatch(/unknown command/);
  });

  it('RFC 5463 §4: capability names must be constant', () => {
    expect(errs('require ["ihave", "variables"];\nif ihave "${x}" { stop; }').join('\n')).toMatch(/constant capability names/);
    expect(errs('if ihave "date" { stop; }').join('\n')).toMatch(/the ihave test needs require "ihave"/);
  });
});

describe('RFC 5463 §5: the error command', () => {
  it('is a runtime error: every action is cancelled, the message kept, the text kept', () => {
    const p = run('require ["ihave", "fileinto"];\nfileinto "A";\nerror "no rules for ${x} today";\nfileinto "B";', MSG);
    expect(targets(p)).toEqual(['keep (implicit)']);
    expect(p.errors).toEqual(['s0.sieve:3:1: error: no rules for ${x} today']);
  });

  it('expands variables in its message (RFC 5229 §3)', () => {
    const p = run('require ["ihave", "variables"];\nset "x" "Mondays";\nerror "no rules for ${x}";', MSG);
    expect(p.errors).toEqual(['s0.sieve:3:1: error: no rules for Mondays']);
  });

  it('needs require "ihave" and one string', () => {
    expect(errs('error "x";').join('\n')).toMatch(/the error command needs require "ihave"/);
    expect(errs('require "ihave";\nerror;').join('\n')).toMatch(/needs 1 positional argument/);
  });
});
