/**
 * The seven places where a conformance run found mda departing from the RFCs (issue 13), one
 * table each, every title naming its RFC section: duplicate redirects compared as parsed
 * addresses (RFC 5228 §2.10.3), the last flags of merged stores winning (RFC 5232 §3), body
 * :content "multipart" (RFC 5173 §5.2), a message without a body (RFC 5173 §4), body and match
 * variables (RFC 5173 §6), the vacation default handle with variables (RFC 5230 §4.2) and
 * duplicate tests within one run (RFC 7352 §3). Each case was checked against Pigeonhole's sieve-test.
 */
import { describe, expect, it } from 'vitest';
import { splitMultipartEntity } from '../../../src/sieve/mime.js';
import { DEFAULT_MESSAGE, run, targets } from '../../helpers/sieve.js';

const R = 'require ["fileinto", "copy", "imap4flags", "body", "variables", "regex", "vacation", "duplicate", "mailbox"];\n';

describe('RFC 5228 §2.10.3: duplicate redirects are one, addresses compared after parsing', () => {
  it.each<[string, string, string[]]>([
    ['display-name form and bare form', 'redirect "Carol <carol@example.com>"; redirect "carol@example.com";', ['redirect carol@example.com']],
    ['bare form first, quoted display name second', 'redirect "carol@example.com"; redirect "\\"Carol C.\\" <carol@example.com>";', ['redirect carol@example.com']],
    ['angle brackets only', 'redirect "<carol@example.com>"; redirect "carol@example.com";', ['redirect carol@example.com']],
    ['domain case does not matter', 'redirect "Carol <carol@EXAMPLE.com>"; redirect "carol@example.com";', ['redirect carol@EXAMPLE.com']],
    ['two different addresses stay two', 'redirect "Carol <carol@example.com>"; redirect "Dave <dave@example.com>";', ['redirect carol@example.com', 'redirect dave@example.com']],
  ])('%s', (_, script, want) => {
    const p = run(R + script);
    expect(p.errors).toEqual([]);
    expect(targets(p)).toEqual(want);
  });

  it('RFC 5228 §2.10.3: a duplicate redirect does not count against max_redirects', () => {
    const limits = { maxRedirects: 1, vacationMinDays: 1, vacationMaxDays: 60, maxCpuSteps: 1e6 };
    const p = run(R + 'redirect "Carol <carol@example.com>"; redirect "carol@example.com";', DEFAULT_MESSAGE, { limits });
    expect(p.errors).toEqual([]);
    expect(targets(p)).toEqual(['redirect carol@example.com']);
  });

  it.each<[string, string]>([
    ['a list in display-name form', 'redirect "Carol <carol@example.com>, evil@example.org";'],
    ['a group', 'redirect "team: carol@example.com;";'],
    ['display name around a list', 'redirect "evil@example.org, Carol <carol@example.com>";'],
  ])('RFC 5228 §4.2: still one address only: %s is a runtime error', (_, script) => {
    const p = run(R + script);
    expect(p.errors[0]).toMatch(/redirect: invalid address/);
    expect(p.redirects).toEqual([]);
  });
});

describe('RFC 5232 §3 with RFC 5228 §2.10.3: merged stores take the flags of the last one', () => {
  it.each<[string, string, string[]]>([
    ['fileinto twice: the last :flags win', 'fileinto :flags "\\\\Seen" "A"; fileinto :flags "\\\\Flagged" "A";', ['fileinto A [\\Flagged]']],
    ['the last without :flags uses the (empty) internal variable', 'fileinto :flags "\\\\Seen" "A"; fileinto "A";', ['fileinto A']],
    ['the last without :flags uses the internal variable as it is then', 'fileinto :flags "\\\\Seen" "A"; addflag "\\\\Flagged"; fileinto "A";', ['fileinto A [\\Flagged]']],
    ['names that differ only in INBOX case', 'fileinto :flags "\\\\Seen" "inbox"; fileinto :flags "\\\\Draft" "INBOX";', ['fileinto INBOX [\\Draft]']],
    ['order of flags is the last one\'s; :create still sticks', 'fileinto :flags "a" "A"; fileinto :create :flags ["b", "a"] "A";', ['fileinto A [b a] create']],
    ['keep then fileinto "INBOX"', 'keep :flags "\\\\Seen"; fileinto :flags "\\\\Flagged" "INBOX";', ['keep [\\Flagged]']],
    ['fileinto "INBOX" then keep', 'fileinto :flags "\\\\Flagged" "INBOX"; keep :flags "\\\\Seen";', ['keep [\\Seen]']],
    ['keep twice', 'keep :flags "\\\\Seen"; keep :flags "\\\\Flagged";', ['keep [\\Flagged]']],
    ['fileinto :copy twice', 'fileinto :copy :flags "\\\\Seen" "A"; fileinto :copy :flags "\\\\Answered" "A";', ['keep (implicit)', 'fileinto A [\\Answered]']],
  ])('%s', (_, script, want) => {
    const p = run(R + script);
    expect(p.errors).toEqual([]);
    expect(targets(p)).toEqual(want);
  });
});

const MULTIPART = [
  'Subject: t',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="BND"',
  '',
  'prologue words',
  '--BND',
  'Content-Type: text/plain',
  '',
  'nested words',
  '--BND',
  'Content-Type: multipart/alternative; boundary="IN"',
  '',
  'inner prologue',
  '--IN',
  'Content-Type: text/plain',
  '',
  'deep words',
  '--IN--',
  'inner epilogue',
  '--BND--',
  'epilogue words',
  '',
].join('\n');

/** true when `if <test>` holds for the message. */
function holds(test: string, msg: string): boolean {
  const p = run(`${R}if ${test} { discard; }`, msg);
  if (p.errors.length) throw new Error(p.errors.join('\n'));
  return p.keep === null;
}

describe('RFC 5173 §5.2: body :content "multipart" searches only prologue and epilogue', () => {
  it.each<[string, boolean]>([
    ['body :content "multipart" :contains "prologue words"', true],
    ['body :content "multipart" :contains "epilogue words"', true],
    ['body :content "multipart" :contains "inner prologue"', true], // the nested multipart matches "multipart" too
    ['body :content "multipart" :contains "inner epilogue"', true],
    ['body :content "multipart/mixed" :contains "prologue words"', true],
    ['body :content "multipart/mixed" :contains "inner prologue"', false],
    ['body :content "multipart/alternative" :contains "inner prologue"', true],
    ['body :content "multipart" :is "prologue words"', true], // the CRLF before a boundary belongs to the boundary
    ['body :content "multipart" :contains "nested words"', false],
    ['body :content "multipart" :contains "deep words"', false],
    ['body :content "multipart" :contains "BND"', false],
    ['body :content "multipart" :contains "Content-Type"', false],
    ['body :content "multipart" :matches "*prologue words*epilogue words*"', false], // separate strings
    ['body :content "text" :contains "prologue"', false],
    ['body :content "text" :contains "deep words"', true],
    ['body :content "" :contains "epilogue words"', true], // "" names every part, multiparts included
  ])('%s → %s', (t, want) => expect(holds(t, MULTIPART)).toBe(want));
});

describe('RFC 2046 §5.1.1 / RFC 5173 §5.2: splitMultipartEntity keeps preamble and epilogue, without the delimiters', () => {
  const crlf = (s: string) => s.replace(/\n/g, '\r\n');
  it.each<[string, string, string, string[], string]>([
    ['LF', 'pre\n--b\n\none\n--b--\npost\n', 'pre', ['\none'], 'post\n'],
    ['CRLF', crlf('pre\n--b\n\none\n--b--\npost\n'), 'pre', ['\r\none'], 'post\r\n'],
    ['no preamble', '--b\n\none\n--b--\n', '', ['\none'], ''],
    ['transport padding after the closing delimiter', 'x\n--b\n\none\n--b--  \ntail', 'x', ['\none'], 'tail'],
    ['no closing delimiter: no epilogue', 'x\n--b\n\none\n', 'x', ['\none\n'], ''],
    ['no delimiter at all: all preamble', 'just text\n', 'just text\n', [], ''],
  ])('%s', (_, body, pre, parts, epi) => {
    const r = splitMultipartEntity(Buffer.from(body), 'b');
    expect([r.preamble.toString(), r.parts.map(String), r.epilogue.toString()]).toEqual([pre, parts, epi]);
  });
});

describe('RFC 5173 §4: a message without an empty line after its header has no body', () => {
  const noBody = 'From: alice@example.org\nSubject: no body';
  const noBodyLf = 'From: alice@example.org\nSubject: no body\n';
  it.each<[string, string, string]>([
    ['body :raw :contains ""', 'no final newline', noBody],
    ['body :raw :matches "*"', 'final newline', noBodyLf],
    ['body :text :contains ""', 'no final newline', noBody],
    ['body :contains ""', 'final newline', noBodyLf],
    ['body :content "" :contains ""', 'no final newline', noBody],
    ['body :content "text/plain" :matches "*"', 'final newline', noBodyLf],
    ['body :raw :contains "Subject"', 'final newline', noBodyLf],
  ])('%s is false (%s)', (t, _, msg) => expect(holds(t, msg)).toBe(false));

  it('RFC 5173 §4: not a body test: "not body" is then true', () => {
    expect(holds('not body :raw :contains ""', 'Subject: x\n')).toBe(true);
  });
  it('RFC 5173 §4: an empty line with nothing after it is an empty body, which :text still searches', () => {
    expect(holds('body :text :contains ""', 'Subject: x\n\n')).toBe(true);
  });
});

describe('RFC 5173 §6: body :matches and :regex do not set match variables', () => {
  it.each<[string, string]>([
    [':matches', 'body :matches "*i*"'],
    [':regex', 'body :regex "(H)i"'],
  ])('body %s keeps ${1} from the earlier header match', (_, test) => {
    const p = run(`${R}if header :matches "subject" "*" {}\nif ${test} { fileinto "\${1}"; }`);
    expect(p.errors).toEqual([]);
    expect(targets(p)).toEqual(['fileinto Hello there']);
  });
  it('RFC 5173 §6: without an earlier match, ${1} stays empty', () => {
    const p = run(`${R}if body :matches "*B*" { set "x" "[\${1}]"; fileinto "\${x}"; }`);
    expect(targets(p)).toEqual(['fileinto []']);
  });
});

describe('RFC 5230 §4.2: with variables, the default handle comes from the unexpanded arguments', () => {
  const script = `${R}if header :matches "subject" "*" { set "s" "\${1}"; }
vacation :addresses "bob@example.test" :subject "Re: \${s}" :from "bob+\${s}@example.test" "Away; about \${s}";`;
  const msg = (subject: string) => DEFAULT_MESSAGE.replace('Subject: Hello there', `Subject: ${subject}`);
  it('a changed subject gives the same handle', () => {
    const a = run(script, msg('First'));
    const b = run(script, msg('Second'));
    expect(a.vacation?.subject).toBe('Re: First'); // the reply itself is expanded
    expect(b.vacation?.subject).toBe('Re: Second');
    expect(a.vacation?.handle).toBe(b.vacation?.handle);
  });
  it('RFC 5230 §4.2: a different response text is still a different handle', () => {
    const a = run(script, msg('First'));
    const c = run(script.replace('Away; about', 'Gone; about'), msg('First'));
    expect(a.vacation?.handle).not.toBe(c.vacation?.handle);
  });
  it('RFC 5230 §4.2: an explicit :handle is expanded as written', () => {
    const p = run(`${R}set "x" "1";\nvacation :addresses "bob@example.test" :handle "h-\${x}" "Away";`);
    expect(p.vacation?.handle).toBe('h-1');
  });
});

describe('RFC 7352 §3: duplicate tests in one run see only earlier deliveries', () => {
  const script = `${R}if duplicate { fileinto :copy "A"; }\nif duplicate { fileinto :copy "B"; }`;
  it('RFC 7352 §3: the id not seen before: both tests false, the id recorded once', () => {
    const p = run(script);
    expect(targets(p)).toEqual(['keep (implicit)']);
    expect(p.duplicates).toHaveLength(1);
  });
  it('RFC 7352 §3: the id seen in an earlier delivery: both tests true', () => {
    const p = run(script, DEFAULT_MESSAGE, { duplicateSeen: () => true });
    expect(targets(p)).toEqual(['keep (implicit)', 'fileinto A', 'fileinto B']);
  });
  it('RFC 7352 §3: the same holds with :uniqueid and :handle', () => {
    const s = `${R}if duplicate :handle "h" :uniqueid "x" { fileinto :copy "A"; }\nif duplicate :handle "h" :uniqueid "x" { fileinto :copy "B"; }`;
    expect(targets(run(s))).toEqual(['keep (implicit)']);
  });
});
