/**
 * The evaluator's tests, one table per test command or extension: header,
 * address, envelope, exists, size (RFC 5228 §5), body (RFC 5173), string and
 * match variables (RFC 5229), hasflag (RFC 5232), spamtest/virustest (RFC
 * 5235), duplicate (RFC 7352), mailboxexists (RFC 5490).
 */
import { describe, expect, it } from 'vitest';
import { duplicateKey } from '../../../src/sieve/evaluate-tests.js';
import { DEFAULT_MESSAGE, run, targets } from '../../helpers/sieve.js';

const REQ = 'require ["envelope", "subaddress", "relational", "comparator-i;ascii-numeric", "regex", "variables", "body", "imap4flags", "spamtestplus", "virustest", "duplicate", "mailbox", "fileinto"];\n';

/** true when the test matches the message. */
function holds(test: string, msg = DEFAULT_MESSAGE, e = {}): boolean {
  const p = run(`${REQ}if ${test} { discard; }`, msg, e);
  if (p.errors.length) throw new Error(p.errors.join('\n'));
  return p.keep === null;
}

const MSG = [
  'Return-Path: <alice@example.org>',
  'From: "Alice A." <Alice@Example.ORG>',
  'To: bob+lists@example.test, "Carol" <carol@example.net>',
  'Cc: undisclosed-recipients:;',
  'Subject: =?UTF-8?B?R3LDvMOfZQ==?= from the list',
  'X-Folded: part one',
  '\tpart two',
  'Received: from a',
  'Received: from b',
  'Message-ID: <m1@example.org>',
  '',
  'Body line one.',
  'Second line mentions money.',
  '',
].join('\n');

describe('header (RFC 5228 §5.7)', () => {
  it.each<[string, boolean]>([
    ['header :is "subject" "Grüße from the list"', true], // RFC 2047 decoded
    ['header :contains "Subject" "GRÜSSE"', false], // casemap folds ASCII only
    ['header :contains "subject" "FROM THE"', true],
    ['header :comparator "i;octet" :contains "subject" "FROM THE"', false],
    ['header :matches "subject" "Gr*e from*"', true],
    ['header :matches "subject" "?r??e*"', true],
    ['header :is "x-folded" "part one\tpart two"', true], // unfolding keeps the WSP
    ['header :is ["received"] ["from b"]', true],
    ['header :count "eq" :comparator "i;ascii-numeric" "received" "2"', true],
    ['header :count "eq" :comparator "i;ascii-numeric" ["received", "x-none"] "2"', true],
    ['header :is "x-none" ""', false], // absent header never matches
    ['header :regex "subject" "^Gr.+list$"', true],
    ['header :value "gt" :comparator "i;ascii-numeric" "x-none" "0"', false],
    ['not header :is "subject" "nope"', true],
    ['anyof (false, header :contains "from" "alice")', true],
    ['allof (true, header :contains "from" "alice", false)', false],
  ])('%s → %s', (t, want) => expect(holds(t, MSG)).toBe(want));
});

describe('address (RFC 5228 §5.1, RFC 5233)', () => {
  it.each<[string, boolean]>([
    ['address :is "from" "alice@example.org"', true],
    ['address :comparator "i;octet" :is "from" "alice@example.org"', false], // case kept
    ['address :localpart :is "from" "alice"', true],
    ['address :domain :is "to" "example.net"', true],
    ['address :all :is "to" "carol@example.net"', true],
    ['address :user :is "to" "bob"', true],
    ['address :detail :is "to" "lists"', true],
    ['address :detail :is "to" ""', false], // carol has no detail: not matched
    ['address :is "from" "Alice A."', false], // display names are not addresses
    ['address :count "eq" :comparator "i;ascii-numeric" "to" "2"', true],
    ['address :count "eq" :comparator "i;ascii-numeric" "cc" "0"', true],
    ['address :matches :domain "to" "*.test"', true],
  ])('%s → %s', (t, want) => expect(holds(t, MSG)).toBe(want));
});

describe('envelope (RFC 5228 §5.4)', () => {
  const e = { sender: 'alice@example.org', recipient: 'bob+lists@example.test' };
  it.each<[string, Record<string, string>, boolean]>([
    ['envelope :is "from" "alice@example.org"', e, true],
    ['envelope :is "to" "bob+lists@example.test"', e, true],
    ['envelope :detail "to" "lists"', e, true],
    ['envelope :user "to" "bob"', e, true],
    ['envelope :domain "from" "example.org"', e, true],
    ['envelope :is "from" ""', { ...e, sender: '' }, true], // the null sender
    ['envelope :localpart :is "from" ""', { ...e, sender: '' }, true], // "" for every part, as in Pigeonhole
    ['envelope :matches "from" "*"', { ...e, sender: '' }, true],
  ])('%s (%j) → %s', (t, env, want) => expect(holds(t, MSG, env)).toBe(want));
});

describe('exists and size (RFC 5228 §5.5, §5.9)', () => {
  it.each<[string, boolean]>([
    ['exists "from"', true],
    ['exists ["from", "to", "message-id"]', true],
    ['exists ["from", "x-none"]', false],
  ])('%s → %s', (t, want) => expect(holds(t, MSG)).toBe(want));

  // 19 bytes stored with 5 bare LFs: 24 octets with CRLF line ends.
  const five = 'A: 1\nB: 2\n\nxxx\nyyy\n';
  it.each<[string, boolean]>([
    ['size :over 23', true], ['size :over 24', false], ['size :under 25', true], ['size :under 24', false],
  ])('an LF message of 19 stored bytes is 24 octets: %s → %s', (t, want) => expect(holds(t, five)).toBe(want));
  it('CRLF lines are not counted twice', () => {
    expect(holds('size :under 25', five.replace(/\n/g, '\r\n'))).toBe(true);
    expect(holds('size :over 23', five.replace(/\n/g, '\r\n'))).toBe(true);
  });
  it('K/M suffixes', () => expect(holds('size :under 1K', five)).toBe(true));
});

describe('body (RFC 5173)', () => {
  const mime = [
    'Content-Type: multipart/alternative; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'plain MONEY here', '--b',
    'Content-Type: text/html', 'Content-Transfer-Encoding: base64', '', Buffer.from('<b>html only</b>').toString('base64'), '--b--', '',
  ].join('\n');
  it.each<[string, string, boolean]>([
    ['body :contains "money"', MSG, true],
    ['body :raw :contains "Second line"', MSG, true],
    ['body :contains "html only"', mime, true], // :text = every text/* part, decoded
    ['body :raw :contains "html only"', mime, false], // still base64
    ['body :content "text/html" :contains "money"', mime, false],
    ['body :content "text/plain" :contains "money"', mime, true],
    ['body :content "image" :contains ""', mime, false],
    ['body :contains "Subject"', MSG, false], // the header is not the body
  ])('%s → %s', (t, msg, want) => expect(holds(t, msg)).toBe(want));
});

describe('variables (RFC 5229)', () => {
  it('match variables from :matches feed later strings', () => {
    const p = run(`${REQ}if header :matches "subject" "* from *" { fileinto "Lists.\${2}"; }`, 'Subject: Hello from thelist\n\nx\n');
    expect(targets(p)).toEqual(['fileinto Lists.thelist']);
  });
  it(':regex groups', () => {
    const p = run(`${REQ}if address :regex :localpart "to" "^bob\\\\+(.+)$" { fileinto "\${1}"; }`, MSG);
    expect(targets(p)).toEqual(['fileinto lists']);
  });
  it('set with modifiers and string test', () => {
    const script = `${REQ}set :upperfirst :lower "x" "hELLO"; if string :is "\${x}" "Hello" { fileinto "ok"; }`;
    expect(targets(run(script))).toEqual(['fileinto ok']);
  });
  it('string :count ignores empty strings (§5)', () => {
    expect(holds('string :count "eq" :comparator "i;ascii-numeric" ["a", "", "b"] "2"')).toBe(true);
  });
  it('the plus-address folder recipe', () => {
    const script = `${REQ}if envelope :matches :detail "to" "*" { set :lower "d" "\${1}"; if not string :is "\${d}" "" { fileinto "\${d}"; } }`;
    expect(targets(run(script, MSG, { recipient: 'bob+Shopping@example.test' }))).toEqual(['fileinto shopping']);
    expect(targets(run(script, MSG, { recipient: 'bob@example.test' }))).toEqual(['keep (implicit)']);
  });
});

describe('imap4flags (RFC 5232)', () => {
  it.each<[string, string[]]>([
    ['setflag "\\\\seen"; keep;', ['keep [\\Seen]']],
    ['addflag ["\\\\Seen", "\\\\Flagged"]; removeflag "\\\\SEEN"; fileinto "A";', ['fileinto A [\\Flagged]']],
    ['addflag "a b"; addflag "b c"; fileinto "A";', ['fileinto A [a b c]']],
    ['setflag "\\\\Seen"; fileinto :flags "\\\\Flagged" "A";', ['fileinto A [\\Flagged]']],
    ['setflag "\\\\Seen";', ['keep (implicit) [\\Seen]']],
    ['setflag "v" "\\\\Answered"; fileinto :flags "${v}" "A";', ['fileinto A [\\Answered]']],
  ])('%s', (script, want) => expect(targets(run(REQ + script))).toEqual(want));

  it.each<[string, boolean]>([
    ['hasflag "\\\\Seen"', true],
    ['hasflag "\\\\seen"', true],
    ['hasflag ["x", "\\\\Flagged"]', false],
    ['hasflag :count "eq" :comparator "i;ascii-numeric" "2"', true],
    ['hasflag :contains "own"', true],
  ])('after setflag "\\\\Seen own": %s → %s', (t, want) => {
    const p = run(`${REQ}setflag "\\\\Seen own"; if ${t} { discard; }`);
    expect(p.keep === null).toBe(want);
  });
});

describe('spamtest / virustest (RFC 5235)', () => {
  const scan = (spam: string, spamPercent: string | undefined, virus: string) => ({ scan: { spam, spamPercent, virus } });
  it.each<[string, ReturnType<typeof scan>, boolean]>([
    ['spamtest :value "ge" :comparator "i;ascii-numeric" "5"', scan('7', '70', '0'), true],
    ['spamtest :value "ge" :comparator "i;ascii-numeric" "5"', scan('2', '20', '0'), false],
    ['spamtest :value "eq" :comparator "i;ascii-numeric" "0"', scan('0', undefined, '0'), true],
    ['spamtest :percent :value "gt" :comparator "i;ascii-numeric" "50"', scan('7', '70', '0'), true],
    ['spamtest :percent :value "eq" :comparator "i;ascii-numeric" "0"', scan('0', undefined, '0'), false], // untested: no value
    ['spamtest :percent :count "eq" :comparator "i;ascii-numeric" "0"', scan('0', undefined, '0'), true],
    ['virustest :value "eq" :comparator "i;ascii-numeric" "5"', scan('0', undefined, '5'), true],
    ['virustest :value "ge" :comparator "i;ascii-numeric" "4"', scan('0', undefined, '1'), false],
  ])('%s with %j → %s', (t, e, want) => expect(holds(t, DEFAULT_MESSAGE, e)).toBe(want));
});

describe('duplicate (RFC 7352)', () => {
  it('first sighting: not a duplicate, id recorded; seen: duplicate', () => {
    const p = run(`${REQ}if duplicate { discard; }`);
    expect(targets(p)).toEqual(['keep (implicit)']);
    const key = duplicateKey('', '<m1@example.org>');
    expect(p.duplicates).toEqual([{ id: key, periodSeconds: 7 * 86400 }]);
    const again = run(`${REQ}if duplicate { discard; }`, DEFAULT_MESSAGE, { duplicateSeen: (k) => k === key });
    expect(targets(again)).toEqual([]);
    expect(again.duplicates).toEqual([]); // without :last the first period stands
  });
  it(':last restarts the period; :handle and :seconds', () => {
    const key = duplicateKey('h', '<m1@example.org>');
    const p = run(`${REQ}if duplicate :last :handle "h" :seconds 60 { discard; }`, DEFAULT_MESSAGE, { duplicateSeen: (k) => k === key });
    expect(targets(p)).toEqual([]);
    expect(p.duplicates).toEqual([{ id: key, periodSeconds: 60 }]);
  });
  it(':uniqueid and :header', () => {
    expect(run(`${REQ}if duplicate :uniqueid "abc" { discard; }`).duplicates[0]!.id).toBe(duplicateKey('', 'abc'));
    expect(run(`${REQ}if duplicate :header "subject" { discard; }`).duplicates[0]!.id).toBe(duplicateKey('', 'Hello there'));
  });
  it('no Message-ID: never a duplicate, nothing recorded', () => {
    const p = run(`${REQ}if duplicate { discard; }`, 'Subject: x\n\nx\n', { duplicateSeen: () => true });
    expect(targets(p)).toEqual(['keep (implicit)']);
    expect(p.duplicates).toEqual([]);
  });
  it('a runtime error later records nothing', () => {
    expect(run(`${REQ}if duplicate { keep; } fileinto "../x";`).duplicates).toEqual([]);
  });
});

describe('mailboxexists (RFC 5490)', () => {
  it.each<[string, boolean]>([['mailboxexists "Lists"', true], ['mailboxexists ["Lists", "Nope"]', false]])('%s → %s', (t, want) => {
    expect(holds(t, DEFAULT_MESSAGE, { mailboxExists: (m: string) => m === 'Lists' })).toBe(want);
  });
});
