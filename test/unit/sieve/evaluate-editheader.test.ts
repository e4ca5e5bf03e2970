import { describe, expect, it } from 'vitest';
import { compileSieve } from '../../../src/sieve/compile.js';
import type { HeaderSnapshot } from '../../../src/sieve/header-edits.js';
import { run, targets } from '../../helpers/sieve.js';

const R = 'require ["editheader", "fileinto", "variables", "copy"];\n';
const MSG = [
  'Return-Path: <alice@example.org>',
  'Received: from a by b',
  'Received: from c by d',
  'From: Alice <alice@example.org>',
  'To: Bob <bob@example.test>',
  'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=',
  'X-Spam: yes',
  'X-Spam: maybe',
  'Auto-Submitted: auto-replied',
  'Message-ID: <m1@example.org>',
  '',
  'Hi Bob.',
  '',
].join('\n');

const fields = (h: HeaderSnapshot | undefined) => h?.map((f) => `${f.name}: ${f.value}`);
const errorsOf = (text: string) => {
  const r = compileSieve(text, 't.sieve');
  return 'errors' in r ? r.errors.map((e) => e.message) : [];
};

describe('editheader: later tests see the edits (RFC 5293 §3)', () => {
  it.each([
    ['addheader "X-Hello" "World"; if header :is "x-hello" "World" { fileinto "yes"; }', ['fileinto yes']],
    ['addheader :last "X-Hello" "World"; if exists "X-Hello" { fileinto "yes"; }', ['fileinto yes']],
    ['deleteheader "X-Spam"; if not exists "x-spam" { fileinto "yes"; }', ['fileinto yes']],
    ['deleteheader :index 1 "X-Spam"; if header :is "X-Spam" "maybe" { if not header :is "X-Spam" "yes" { fileinto "yes"; } }', ['fileinto yes']],
    ['deleteheader :index 1 :last "X-Spam"; if header :is "X-Spam" "yes" { if not header :is "X-Spam" "maybe" { fileinto "yes"; } }', ['fileinto yes']],
    ['deleteheader :contains "X-Spam" "ay"; if header :is "X-Spam" "yes" { if not header :is "X-Spam" "maybe" { fileinto "yes"; } }', ['fileinto yes']],
    ['deleteheader :is "subject" "Grüße"; if not exists "subject" { fileinto "yes"; }', ['fileinto yes']],
    ['addheader "Reply-To" "carol@example.com"; if address :domain "reply-to" "example.com" { fileinto "yes"; }', ['fileinto yes']],
    ['addheader "X-Note" "ünïcödé"; if header :is "X-Note" "ünïcödé" { fileinto "yes"; }', ['fileinto yes']],
    ['addheader "X-Big" "${0}"; if size :over 1 { fileinto "yes"; }', ['fileinto yes']],
  ])('RFC 5293 §3: %s', (script, want) => {
    expect(targets(run(R + script, MSG))).toEqual(want);
  });

  it('RFC 5293 §3: the size test sees added and deleted fields', () => {
    const size = MSG.length + MSG.split('\n').length - 1; // RFC 5228 §5.9: as if every line ended in CRLF
    expect(targets(run(`${R}if size :over ${size - 1} { if size :under ${size + 1} { fileinto "exact"; } }`, MSG))).toEqual(['fileinto exact']);
    const grown = run(`${R}addheader "X-Pad" "${'p'.repeat(80)}"; if size :over ${size + 80} { fileinto "big"; }`, MSG);
    expect(targets(grown)).toEqual(['fileinto big']);
    const shrunk = run(`${R}deleteheader "X-Spam"; if size :under ${size - 20} { fileinto "small"; }`, MSG);
    expect(targets(shrunk)).toEqual(['fileinto small']);
  });
});

describe('editheader: each action carries the header as it was when it ran', () => {
  it('RFC 5293 §3: fileinto before an edit stores the unedited header, the implicit keep the edited one', () => {
    const p = run(`${R}fileinto :copy "a"; addheader "X-Tag" "1";`, MSG);
    expect(p.fileinto[0]?.header).toBeUndefined();
    expect(fields(p.keep?.header)?.slice(0, 2)).toEqual(['return-path: <alice@example.org>', 'x-tag: 1']);
  });

  it('RFC 5293 §3: fileinto "a"; addheader; keep → folder a without X, INBOX with it', () => {
    const p = run(`${R}fileinto "a"; addheader "X" "1"; keep;`, MSG);
    expect(p.fileinto[0]?.header).toBeUndefined();
    expect(fields(p.keep?.header)).toContain('x: 1');
    expect(p.keep?.implicit).toBe(false);
  });

  it('RFC 5293 §3: a redirect carries the edits made before it', () => {
    const p = run(`${R}deleteheader "X-Spam"; redirect "carol@example.com"; addheader "X-After" "1";`, MSG);
    const h = fields(p.redirects[0]?.header);
    expect(h).toBeDefined();
    expect(h!.some((f) => f.startsWith('x-spam'))).toBe(false);
    expect(h!.some((f) => f.startsWith('x-after'))).toBe(false);
  });

  it('RFC 5228 §2.10.6: more than 16 differently edited copies is a runtime error (bounded disk use), original kept', () => {
    const pairs = (n: number) => Array.from({ length: n }, (_, i) => `addheader "X" "${i}"; fileinto "f${i}";`).join(' ');
    expect(run(R + pairs(16), MSG).errors).toEqual([]);
    const p = run(R + pairs(17), MSG);
    expect(p.errors[0]).toMatch(/17 differently edited copies/);
    expect(p.keep).toEqual({ flags: [], implicit: true });
    expect(p.fileinto).toEqual([]);
  });

  it('RFC 5228 §2.10.6: after a runtime error the original message is kept', () => {
    const p = run(`${R}addheader "X" "1"; set "n" "bad name"; addheader "\${n}" "v";`, MSG);
    expect(p.errors).toHaveLength(1);
    expect(p.errors[0]).toMatch(/field name/);
    expect(p.keep).toEqual({ flags: [], implicit: true });
  });
});

describe('editheader: other extensions see the edited header (RFC 5293 §3)', () => {
  const V = 'require ["editheader", "vacation", "duplicate"];\n';
  const PLAIN = MSG.replace('Auto-Submitted: auto-replied\n', ''); // an auto-reply is never answered (RFC 3834)
  it('RFC 5293 §3: vacation examines the current header: an added Precedence: bulk stops the reply', () => {
    expect(run(`${V}vacation "away";`, PLAIN).vacation).not.toBeNull();
    expect(run(`${V}addheader "Precedence" "bulk"; vacation "away";`, PLAIN).vacation).toBeNull();
  });

  it('RFC 5293 §3: vacation answers with the subject as edited', () => {
    const p = run(`${V}deleteheader "Subject"; addheader "Subject" "Neu"; vacation "away";`, PLAIN);
    expect(p.vacation?.subject).toBe('Auto: Neu');
  });

  it('RFC 5293 §3 with RFC 7352 §3: duplicate :header reads an added field', () => {
    const p = run(`${V}addheader "X-Id" "abc"; if duplicate :header "X-Id" { discard; }`, MSG);
    expect(p.duplicates).toHaveLength(1);
    expect(run(`${V}if duplicate :header "X-Id" { discard; }`, MSG).duplicates).toHaveLength(0);
  });
});

describe('editheader: refused edits are ignored (Pigeonhole defaults)', () => {
  it.each([
    ['deleteheader "Received"; if header :count "eq" "received" "2" { fileinto "kept"; }', ['fileinto kept']],
    ['deleteheader "Auto-Submitted"; if exists "auto-submitted" { fileinto "kept"; }', ['fileinto kept']],
    ['addheader "X-Sieve-Redirected-From" "<x@example.org>"; if not exists "X-Sieve-Redirected-From" { fileinto "kept"; }', ['fileinto kept']],
  ])('RFC 5293 §6: %s', (script, want) => {
    const p = run(`require "relational"; ${R}${script}`, MSG);
    expect(p.errors).toEqual([]);
    expect(targets(p)).toEqual(want);
    expect(p.trace.some((t) => /protected/.test(t))).toBe(true);
  });

  it('RFC 5293 §4: a value from a variable over 2048 bytes is a runtime error', () => {
    const p = run(`${R}set "v" "${'v'.repeat(1500)}"; addheader "X" "\${v}\${v}";`, MSG);
    expect(p.errors[0]).toMatch(/longer than 2048/);
  });

  it('RFC 5293 §5: deleteheader of a name from a variable that is no field name is a runtime error', () => {
    expect(run(`${R}set "n" "a:b"; deleteheader "\${n}";`, MSG).errors).toHaveLength(1);
  });
});

describe('editheader: compile errors', () => {
  it.each([
    ['addheader "X Bad" "v";', /not a header field name.*RFC 5293 §4/],
    ['addheader "X:Bad" "v";', /not a header field name/],
    ['deleteheader "";', /not a header field name/],
    ['deleteheader :last "X";', /:last needs :index/],
    ['deleteheader :index 0 "X";', /counts from 1/],
    ['addheader "X";', /needs 2 positional arguments/],
  ])('RFC 5293 §4-§5: %s', (script, msg) => {
    expect(errorsOf(R + script).join('\n')).toMatch(msg);
  });

  it('RFC 5293 §4: a literal value over 2048 bytes (Pigeonhole\'s limit) is a compile error', () => {
    expect(errorsOf(`${R}addheader "X" "${'v'.repeat(3000)}";`).join('\n')).toMatch(/longer than 2048/);
  });

  it('RFC 5293 §2: addheader needs require "editheader"', () => {
    expect(errorsOf('addheader "X" "v";').join('\n')).toMatch(/editheader/);
  });

  it.each([
    'deleteheader :index 2 :last :comparator "i;octet" :matches "X-A" ["a*", "b"];',
    'deleteheader "X-A";',
    'addheader :last "X-A" "v";',
    'addheader "${n}" "v";',
  ])('RFC 5293 §4-§5: valid: %s', (script) => {
    expect(errorsOf(R + script)).toEqual([]);
  });
});
