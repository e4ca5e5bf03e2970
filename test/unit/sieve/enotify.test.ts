/**
 * enotify (RFC 5435) with the mailto method (RFC 5436) in the evaluator: what the plan carries,
 * the send/skip rules (Auto-Submitted, null sender, duplicates, :from, the redirect limit,
 * runtime errors), the two tests, :encodeurl, and the compile-time checks.
 */
import { describe, expect, it } from 'vitest';
import { compileSieve } from '../../../src/sieve/compile.js';
import { run } from '../../helpers/sieve.js';

const R = 'require ["enotify", "variables"];\n';
const msg = (extra: string[] = [], subject = 'Hello there') => [
  'Return-Path: <alice@example.org>', 'From: Alice <alice@example.org>', 'To: Bob <bob@example.test>',
  `Subject: ${subject}`, 'Message-ID: <m1@example.org>', ...extra, '', 'Hi Bob.', '',
].join('\n');
const compileErrors = (text: string): string[] => {
  const r = compileSieve(text, 't.sieve');
  return 'errors' in r ? r.errors.map((e) => `${e.line}:${e.column} ${e.message}`) : [];
};
const recipients = (p: ReturnType<typeof run>) => (p.notifications ?? []).map((n) => n.recipient);

describe('notify :mailto into the plan (RFC 5435 §3, RFC 5436 §2)', () => {
  it('RFC 5435 §3: notify does not cancel the implicit keep; one notification per recipient', () => {
    const p = run(R + 'notify "mailto:carol@example.net?cc=dave@example.net";', msg());
    expect(p.errors).toEqual([]);
    expect(p.keep).toEqual({ flags: [], implicit: true });
    expect(recipients(p)).toEqual(['carol@example.net', 'dave@example.net']);
    expect(p.notifications![0]).toMatchObject({ to: ['carol@example.net'], cc: ['dave@example.net'], sender: 'bob@example.test', from: 'bob@example.test', importance: '2' });
  });

  it.each<[string, string, string]>([
    ['RFC 5436 §2.6: :message is the Subject', 'notify :message "New mail" "mailto:c@example.net?subject=URI";', 'New mail'],
    ['RFC 5436 §2.7: else the URI\'s subject', 'notify "mailto:c@example.net?subject=From%20URI";', 'From URI'],
    ['RFC 5436 §2.6: else a default naming the message\'s subject', 'notify "mailto:c@example.net";', 'Notification: Hello there'],
    ['RFC 5436 §2.6: :message expands variables', 'set "s" "x"; notify :message "got ${s}" "mailto:c@example.net";', 'got x'],
  ])('%s', (_, script, subject) => {
    expect(run(R + script, msg()).notifications?.[0]?.subject).toBe(subject);
  });

  it('RFC 5436 §2.7: the URI\'s From and Auto-Submitted fields never reach the notification', () => {
    const p = run(R + 'notify "mailto:c@example.net?from=evil@example.net&auto-submitted=no&keywords=k";', msg());
    const n = p.notifications![0]!;
    expect(n.from).toBe('bob@example.test');
    expect(n.headers).toEqual([['keywords', 'k']]);
  });

  it('RFC 5436 §2.7: the envelope sender is <> when the triggering message\'s was <>', () => {
    expect(run(R + 'notify "mailto:c@example.net";', msg(), { sender: '' }).notifications?.[0]?.sender).toBe('');
  });

  it.each<[string, string[], number]>([
    ['RFC 5436 §2.7: Auto-Submitted: auto-replied gets no notification', ['Auto-Submitted: auto-replied'], 0],
    ['RFC 5436 §2.7: Auto-Submitted: auto-generated (with a comment) gets none', ['Auto-Submitted: auto-generated (cron)'], 0],
    ['RFC 5436 §2.7: Auto-Submitted: No is notified', ['Auto-Submitted: No'], 1],
    ['RFC 5436 §2.7: list mail is notified', ['List-Id: <dev.lists.example.org>', 'Precedence: list'], 1],
  ])('%s', (_, extra, count) => {
    const p = run(R + 'notify "mailto:c@example.net";', msg(extra));
    expect(p.errors).toEqual([]);
    expect(p.notifications ?? []).toHaveLength(count);
  });

  it('RFC 5435 §3, duplicate notifications: one notification per recipient per run; the first notify wins', () => {
    const p = run(R + 'notify :message "one" "mailto:c@example.net";\nnotify :message "two" "mailto:C@example.net,d@example.net";', msg());
    expect(recipients(p)).toEqual(['c@example.net', 'd@example.net']);
    expect(p.notifications!.map((n) => n.subject)).toEqual(['one', 'two']);
  });

  it.each<[string, string, string, boolean]>([
    ['the user\'s own address', 'bob@example.test', 'bob@example.test', true],
    ['a +detail form of it', 'Bob <bob+alerts@example.test>', 'Bob <bob+alerts@example.test>', true],
    ['another address is ignored', 'boss@example.test', 'bob@example.test', false],
  ])('RFC 5436 §2.3: :from with %s', (_, from, want, honoured) => {
    const n = run(R + `notify :from "${from}" "mailto:c@example.net";`, msg()).notifications![0]!;
    expect(n.from).toBe(want);
    expect(n.note === undefined).toBe(honoured);
  });

  it('RFC 5436 §2.4: :importance is carried', () => {
    expect(run(R + 'notify :importance "1" "mailto:c@example.net";', msg()).notifications?.[0]?.importance).toBe('1');
  });

  it('notifications count against [sieve] max_redirects: over it is a runtime error that keeps only the implicit keep', () => {
    const p = run(R + 'redirect "x@example.net";\nnotify "mailto:c@example.net,d@example.net";', msg(), { limits: { maxRedirects: 2, vacationMinDays: 1, vacationMaxDays: 60, maxCpuSteps: 1e6 } });
    expect(p.errors[0]).toMatch(/too many/);
    expect(p.redirects).toEqual([]);
    expect(p.notifications ?? []).toEqual([]);
    expect(p.keep).toEqual({ flags: [], implicit: true });
  });

  it('RFC 5228 §2.10.6: a runtime error after notify cancels the notification', () => {
    const p = run(R + 'notify "mailto:c@example.net";\nset "a" "not an address"; redirect "${a}";', msg());
    expect(p.errors).toHaveLength(1);
    expect(p.notifications ?? []).toEqual([]);
  });

  it('RFC 5435 §3.1: a method built from variables that is not a valid URI is a runtime error', () => {
    const p = run(R + 'set "m" "mailto:not an address";\nnotify "${m}";', msg());
    expect(p.errors[0]).toMatch(/notify/);
    expect(p.notifications ?? []).toEqual([]);
  });
});

describe('tests valid_notify_method and notify_method_capability (RFC 5435 §4, §5; RFC 5436 §2.2)', () => {
  it.each<[string, boolean]>([
    ['valid_notify_method "mailto:c@example.net"', true],
    ['valid_notify_method ["mailto:c@example.net", "mailto:?to=d@example.net"]', true],
    ['valid_notify_method ["mailto:c@example.net", "xmpp:c@example.net"]', false],
    ['valid_notify_method "mailto:no-domain"', false],
    ['notify_method_capability "mailto:c@example.net" "online" "maybe"', true],
    ['notify_method_capability "mailto:c@example.net" "Online" "MAYBE"', true],
    ['notify_method_capability "mailto:c@example.net" "online" ["yes", "no"]', false],
    ['notify_method_capability "xmpp:c@example.net" "online" "maybe"', false],
    ['notify_method_capability "mailto:c@example.net" "color" "maybe"', false],
  ])('%s → %s', (test, want) => {
    const p = run(R + `if ${test} { discard; }`, msg());
    expect(p.errors).toEqual([]);
    expect(p.keep === null).toBe(want);
  });
});

describe(':encodeurl (RFC 5435 §6)', () => {
  it('percent-encodes everything outside the unreserved set, as UTF-8', () => {
    const p = run(R + 'set :encodeurl "v" "a b&c=é~x.y_z-1";\nnotify :message "${v}" "mailto:c@example.net";', msg());
    expect(p.notifications?.[0]?.subject).toBe('a%20b%26c%3D%C3%A9~x.y_z-1');
  });

  it('RFC 5435 §6: applies after :lower / :upperfirst (precedence 15), before :length', () => {
    const p = run(R + 'set :upper :encodeurl "v" "a b";\nset :length :encodeurl "n" "a b";\nnotify :message "${v} ${n}" "mailto:c@example.net";', msg());
    expect(p.notifications?.[0]?.subject).toBe('A%20B 5');
  });
});

describe('compile-time checks (RFC 5435 §3, RFC 5436 §2.1)', () => {
  it.each<[string, RegExp]>([
    ['notify "mailto:c@example.net";', /needs require "enotify"/],
    ['require "variables"; set :encodeurl "v" "x";', /needs require "enotify"/],
    [R + 'notify "xmpp:c@example.net";', /unsupported notification method "xmpp"/],
    [R + 'notify "mailto:c@example.net?subject=a b";', /invalid notification method/],
    [R + 'notify :importance "4" "mailto:c@example.net";', /:importance must be "1", "2" or "3"/],
    [R + 'notify :from "not an address" "mailto:c@example.net";', /:from/],
    [R + 'notify :options "nonsense" "mailto:c@example.net";', /:options/],
    [R + 'if valid_notify_method :is "mailto:x@y.z" {}', /unknown tag :is/],
  ])('%s', (script, want) => {
    expect(compileErrors(script).join('\n')).toMatch(want);
  });

  it('accepts the notify forms of the Pigeonhole documentation examples', () => {
    expect(compileErrors(R + `notify :importance "1" :message "This is probably very important" "mailto:alm@example.com";
notify :from "bob@example.test" :options ["k=v"] "mailto:a@example.com?cc=b@example.com";
set :encodeurl "body_param" "x";
notify "mailto:c@example.com?body=\${body_param}";
if notify_method_capability "mailto:c@example.com" "online" "maybe" { stop; }`)).toEqual([]);
  });
});
