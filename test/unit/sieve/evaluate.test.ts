/**
 * The evaluator's core: control (if/elsif/else, stop), keep/discard/fileinto/
 * redirect and their implicit-keep rules (RFC 5228 §2.10, §3, §4), RFC
 * examples, the multiscript chain (Pigeonhole rules) and runtime-error atomicity.
 */
import { describe, expect, it } from 'vitest';
import { run, targets } from '../../helpers/sieve.js';

const R = 'require ["fileinto", "copy", "imap4flags", "mailbox"];\n';

describe('actions and implicit keep (RFC 5228 §2.10.2, §4)', () => {
  it.each<[string, string, string[]]>([
    ['empty script', '', ['keep (implicit)']],
    ['keep', 'keep;', ['keep']],
    ['discard', 'discard;', []],
    ['fileinto cancels implicit keep', R + 'fileinto "Lists";', ['fileinto Lists']],
    ['fileinto :copy keeps it', R + 'fileinto :copy "Lists";', ['keep (implicit)', 'fileinto Lists']],
    ['redirect cancels implicit keep', 'redirect "carol@example.net";', ['redirect carol@example.net']],
    ['redirect :copy keeps it', R + 'redirect :copy "carol@example.net";', ['keep (implicit)', 'redirect carol@example.net']],
    ['discard then keep: keep stands', 'discard; keep;', ['keep']],
    ['keep then discard: keep stands (discard only cancels the implicit keep)', 'keep; discard;', ['keep']],
    ['two fileintos into one folder are one copy', R + 'fileinto "A"; fileinto "A";', ['fileinto A']],
    ['fileinto "INBOX" + keep are one copy, the last one\'s flags (RFC 5232 §3)', R + 'keep :flags "\\\\Seen"; fileinto :flags "\\\\Flagged" "inbox";', ['keep [\\Flagged]']],
    ['fileinto "INBOX" alone is a fileinto of INBOX', R + 'fileinto "INBOX";', ['fileinto INBOX']],
    ['same redirect twice is one', 'redirect "c@x.org"; redirect "C@x.org";', ['redirect c@x.org']],
    ['fileinto :create', R + 'fileinto :create "New";', ['fileinto New create']],
    ['duplicate fileinto: the last one\'s flags (RFC 5232 §3), :create merged', R + 'fileinto :flags "a" "A"; fileinto :create :flags ["b", "a"] "A";', ['fileinto A [b a] create']],
  ])('%s', (_, script, want) => {
    const p = run(script);
    expect(p.errors).toEqual([]);
    expect(targets(p)).toEqual(want);
  });
});

describe('control (RFC 5228 §3)', () => {
  const chain = R + `if header :is "subject" "a" { fileinto "A"; }
elsif header :is "subject" "b" { fileinto "B"; }
elsif header :is "subject" "c" { fileinto "C"; }
else { fileinto "Other"; }`;
  it.each([['a', 'A'], ['b', 'B'], ['c', 'C'], ['d', 'Other']])('if/elsif/else: subject %s → %s', (subj, folder) => {
    expect(targets(run(chain, `Subject: ${subj}\n\nx\n`))).toEqual([`fileinto ${folder}`]);
  });

  it('a taken if skips every elsif and the else', () => {
    const p = run(R + 'if true { fileinto "A"; } elsif true { fileinto "B"; } else { fileinto "C"; } fileinto :copy "D";');
    expect(targets(p)).toEqual(['fileinto A', 'fileinto D']);
  });

  it('stop ends the script; earlier actions stand', () => {
    expect(targets(run(R + 'fileinto "A"; stop; fileinto "B";'))).toEqual(['fileinto A']);
    expect(targets(run(R + 'stop; discard;'))).toEqual(['keep (implicit)']);
  });

  it('nested blocks', () => {
    const p = run(R + 'if true { if false { discard; } else { if true { fileinto "Deep"; } } }');
    expect(targets(p)).toEqual(['fileinto Deep']);
  });

  it('RFC 5228 §3.1 example', () => {
    const script = `require "fileinto";
if header :contains "from" "coyote" {
   discard;
} elsif header :contains ["subject"] ["$$$"] {
   discard;
} else {
   fileinto "INBOX";
}`;
    expect(targets(run(script, 'From: coyote@desert.example.org\nSubject: x\n\nx\n'))).toEqual([]);
    expect(targets(run(script, 'From: a@b.c\nSubject: make $$$ fast\n\nx\n'))).toEqual([]);
    expect(targets(run(script, 'From: a@b.c\nSubject: hi\n\nx\n'))).toEqual(['fileinto INBOX']);
  });

  it('RFC 5228 §4.2 example: redirect', () => {
    const script = 'if exists "x-spam" { redirect "spam-complaints@example.net"; }';
    expect(targets(run(script, 'X-Spam: yes\n\nx\n'))).toEqual(['redirect spam-complaints@example.net']);
    expect(targets(run(script))).toEqual(['keep (implicit)']);
  });

  it('the trace names matched tests and actions', () => {
    const p = run(R + 'if header :contains "subject" "hello" { fileinto "Greetings"; }');
    expect(p.trace).toEqual(['s0.sieve:2: if header :contains "subject" "hello" → true', 'fileinto "Greetings"']);
  });
});

describe('runtime errors cancel everything (RFC 5228 §2.10.6)', () => {
  it.each<[string, string, RegExp]>([
    ['bad folder name', R + 'fileinto "A"; redirect "c@x.org"; fileinto "../etc";', /s0.sieve:2:\d+: fileinto: cannot file into "..\/etc"/],
    ['folder with a slash', R + 'fileinto "Lists/Debian";', /contains '\/'/],
    ['invalid redirect address (from a variable)', R + 'require "variables"; set "a" "not an address"; fileinto "A"; redirect "${a}";', /redirect: invalid address/],
    ['redirect list injection', 'redirect "a@b.org, evil@x.org";', /single plain address/],
    ['too many redirects', R + 'fileinto "A"; redirect "a@x.org"; redirect "b@x.org"; redirect "c@x.org"; redirect "d@x.org"; redirect "e@x.org";', /too many redirects: at most 4/],
    ['second vacation', 'require "vacation"; vacation "a"; vacation :handle "b" "b";', /only one vacation action per script/],
  ])('%s', (_, script, why) => {
    const p = run(script, 'To: bob@example.test\nSubject: s\n\nx\n');
    expect(targets(p)).toEqual(['keep (implicit)']);
    expect(p.errors).toHaveLength(1);
    expect(p.errors[0]).toMatch(why);
    expect(p.redirects).toEqual([]);
    expect(p.vacation).toBeNull();
    expect(p.duplicates).toEqual([]);
  });

  it('max_redirects = 0 makes any redirect an error', () => {
    const p = run('redirect "a@x.org";', undefined, { limits: { maxRedirects: 0, vacationMinDays: 1, vacationMaxDays: 60, maxCpuSteps: 1e6 } });
    expect(p.errors[0]).toMatch(/too many redirects: at most 0/);
  });

  it('the CPU budget: a script that spends too much is a runtime error, not a hang', () => {
    const rules = Array.from({ length: 200 }, (_, i) => `if header :contains "subject" "word${i}" { fileinto "F${i}"; }`).join('\n');
    const big = `Subject: ${'x'.repeat(20_000)}\n\nbody\n`;
    const p = run(R + rules, big, { limits: { maxRedirects: 4, vacationMinDays: 1, vacationMaxDays: 60, maxCpuSteps: 100_000 } });
    expect(p.errors[0]).toMatch(/too expensive/);
    expect(targets(p)).toEqual(['keep (implicit)']);
  });

  it('a ReDoS-shaped regex on a large header stays inside the budget', () => {
    const script = 'require "regex"; if header :regex "subject" "^(a+)+$" { discard; }';
    const started = Date.now();
    const p = run(script, `Subject: ${'a'.repeat(30_000)}b\n\nx\n`, { limits: { maxRedirects: 4, vacationMinDays: 1, vacationMaxDays: 60, maxCpuSteps: 5_000_000 } });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(targets(p)).toEqual(['keep (implicit)']);
  });
});

describe('multiscript chain (Pigeonhole sieve_before/sieve_after)', () => {
  it('all scripts run while keep is in effect; actions accumulate', () => {
    const p = run([R + 'fileinto :copy "Archive";', R + 'if true { fileinto :copy "User"; }', R + 'addflag "\\\\Seen";']);
    expect(targets(p)).toEqual(['keep (implicit) [\\Seen]', 'fileinto Archive', 'fileinto User']);
  });

  it('a script that cancels keep ends the chain', () => {
    const p = run([R + 'fileinto "Quarantine";', R + 'fileinto "User";']);
    expect(targets(p)).toEqual(['fileinto Quarantine']);
    expect(p.trace).toContain('keep cancelled: the scripts after s0.sieve do not run');
  });

  it('stop ends only its own script', () => {
    const p = run([R + 'stop; discard;', R + 'fileinto "User";']);
    expect(targets(p)).toEqual(['fileinto User']);
  });

  it('an explicit keep in an early script lets the chain go on; the last script decides keep', () => {
    expect(targets(run(['keep;', R + 'fileinto "User";']))).toEqual(['fileinto User']);
    expect(targets(run(['keep;', 'discard;']))).toEqual([]);
  });

  it('a runtime error in any script cancels the actions of every script', () => {
    const p = run([R + 'fileinto :copy "Archive";', R + 'fileinto "../x";']);
    expect(targets(p)).toEqual(['keep (implicit)']);
    expect(p.errors[0]).toMatch(/^s1.sieve:2:1: fileinto: cannot file into/);
  });

  it('a vacation in a later script is ignored, not an error', () => {
    const v = 'require "vacation"; vacation "away";';
    const p = run([v, v], 'From: a@b.org\nTo: bob@example.test\nSubject: s\n\nx\n', { sender: 'a@b.org' });
    expect(p.errors).toEqual([]);
    expect(p.vacation?.to).toBe('a@b.org');
    expect(p.trace.some((l) => l.startsWith('vacation ignored'))).toBe(true);
  });
});
