import { describe, expect, it } from 'vitest';
import {
  checkVacation, defaultHandle, headerAddresses, isSystemAddress, replySubject, vacationKey, vacationPeriodSeconds,
  type VacationCheckInput,
} from '../../../src/sieve/vacation-rules.js';

const DAY = 86_400;

function input(headers: Record<string, string | string[]>, over: Partial<VacationCheckInput> = {}): VacationCheckInput {
  const h = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]]));
  return {
    sender: 'alice@example.org',
    recipient: 'bob@example.test',
    originalRecipient: 'bob@example.test',
    addresses: [],
    header: (n) => h.get(n) ?? [],
    ...over,
  };
}

const TO_BOB = { to: 'Bob <bob@example.test>' };

describe('checkVacation: replies', () => {
  it.each<[string, Record<string, string | string[]>, Partial<VacationCheckInput>, string]>([
    ['addressed in To', TO_BOB, {}, 'bob@example.test'],
    ['case-insensitive', { to: 'BOB@Example.TEST' }, {}, 'bob@example.test'],
    ['in Cc among others', { to: 'x@y.z', cc: 'a@b.c, "Bob" <bob@example.test>' }, {}, 'bob@example.test'],
    ['in Bcc', { bcc: 'bob@example.test' }, {}, 'bob@example.test'],
    ['in Resent-To', { 'resent-to': 'bob@example.test' }, {}, 'bob@example.test'],
    ['in Resent-Cc', { 'resent-cc': 'bob@example.test' }, {}, 'bob@example.test'],
    ['in Resent-Bcc', { 'resent-bcc': 'bob@example.test' }, {}, 'bob@example.test'],
    ['the original recipient (an alias)', { to: 'postmaster@example.test' }, { originalRecipient: 'postmaster@example.test' }, 'postmaster@example.test'],
    [':addresses', { to: 'robert@example.com' }, { addresses: ['Robert@example.com'] }, 'robert@example.com'],
    ['Auto-Submitted: no', { ...TO_BOB, 'auto-submitted': 'no' }, {}, 'bob@example.test'],
    ['Auto-Submitted: No (comment)', { ...TO_BOB, 'auto-submitted': 'No (a person)' }, {}, 'bob@example.test'],
    ['Precedence: first-class', { ...TO_BOB, precedence: 'first-class' }, {}, 'bob@example.test'],
    ['X-Auto-Response-Suppress: DR, RN', { ...TO_BOB, 'x-auto-response-suppress': 'DR, RN' }, {}, 'bob@example.test'],
    ['a request address of a person is fine: requester@', { ...TO_BOB }, { sender: 'requester@example.org' }, 'bob@example.test'],
  ])('%s', (_, headers, over, from) => {
    expect(checkVacation(input(headers, over))).toEqual({ reply: true, from, to: over.sender ?? 'alice@example.org' });
  });
});

describe('checkVacation: no reply', () => {
  it.each<[string, Record<string, string | string[]>, Partial<VacationCheckInput>, RegExp]>([
    ['null sender', TO_BOB, { sender: '' }, /<> \(RFC 3834 §2\)/],
    ['null sender in brackets', TO_BOB, { sender: '<>' }, /<>/],
    // Issue 10 finding 6: the reply goes to exactly one plain address, or nowhere.
    ['a comma list', TO_BOB, { sender: 'a@b.example, c@d.example' }, /not one plain address/],
    ['a semicolon list', TO_BOB, { sender: 'a@b.example;c@d.example' }, /not one plain address/],
    ['two bracketed addresses', TO_BOB, { sender: 'a@b.example>, <c@d.example' }, /not one plain address/],
    ['a quoted local part with ">"', TO_BOB, { sender: '"x>y"@evil.example' }, /not one plain address/],
    ['a truncated quoted local part', TO_BOB, { sender: '"x' }, /not one plain address/],
    ['a display name', TO_BOB, { sender: 'Eve <eve@evil.example>' }, /not one plain address/],
    ['an option-like address', TO_BOB, { sender: '-oQ/tmp@evil.example' }, /not one plain address/],
    ['spaces inside', TO_BOB, { sender: 'a@b.example c@d.example' }, /not one plain address/],
    ['no domain', TO_BOB, { sender: 'alice' }, /not one plain address/],
    ['a CR LF', TO_BOB, { sender: 'a@b.example\r\nBcc: c@d.example' }, /not one plain address/],
    ['unknown recipient', TO_BOB, { recipient: '', originalRecipient: '' }, /recipient is unknown/],
    ['own address', TO_BOB, { sender: 'Bob@Example.test' }, /own address/],
    ['own :addresses', TO_BOB, { sender: 'robert@example.com', addresses: ['robert@example.com'] }, /own address/],
    ['List-Id', { ...TO_BOB, 'list-id': '<dev.lists.example.org>' }, {}, /mailing list \(list-id\)/],
    ['List-Help', { ...TO_BOB, 'list-help': '<mailto:x>' }, {}, /list-help/],
    ['List-Subscribe', { ...TO_BOB, 'list-subscribe': '<mailto:x>' }, {}, /list-subscribe/],
    ['List-Unsubscribe', { ...TO_BOB, 'list-unsubscribe': '<mailto:x>' }, {}, /list-unsubscribe/],
    ['List-Post', { ...TO_BOB, 'list-post': 'NO' }, {}, /list-post/],
    ['List-Owner', { ...TO_BOB, 'list-owner': '<mailto:x>' }, {}, /list-owner/],
    ['List-Archive', { ...TO_BOB, 'list-archive': '<http://x>' }, {}, /list-archive/],
    ['Auto-Submitted: auto-replied', { ...TO_BOB, 'auto-submitted': 'auto-replied' }, {}, /Auto-Submitted: auto-replied/],
    ['Auto-Submitted: auto-generated', { ...TO_BOB, 'auto-submitted': 'auto-generated' }, {}, /Auto-Submitted/],
    ['Auto-Submitted: no and another', { ...TO_BOB, 'auto-submitted': ['no', 'auto-notified'] }, {}, /auto-notified/],
    ['Precedence: bulk', { ...TO_BOB, precedence: 'bulk' }, {}, /Precedence: bulk/],
    ['Precedence: LIST', { ...TO_BOB, precedence: 'LIST' }, {}, /Precedence: LIST/],
    ['Precedence: junk', { ...TO_BOB, precedence: ' junk ' }, {}, /Precedence: junk/],
    ['X-Auto-Response-Suppress: OOF', { ...TO_BOB, 'x-auto-response-suppress': 'DR, OOF' }, {}, /X-Auto-Response-Suppress/],
    ['X-Auto-Response-Suppress: All', { ...TO_BOB, 'x-auto-response-suppress': 'all' }, {}, /X-Auto-Response-Suppress/],
    ['MAILER-DAEMON', TO_BOB, { sender: 'MAILER-DAEMON@example.org' }, /system or list address/],
    ['LISTSERV', TO_BOB, { sender: 'listserv@example.org' }, /system/],
    ['majordomo', TO_BOB, { sender: 'Majordomo@example.org' }, /system/],
    ['owner-*', TO_BOB, { sender: 'owner-dev@example.org' }, /system/],
    ['*-request', TO_BOB, { sender: 'dev-REQUEST@example.org' }, /system/],
    ['not addressed (Bcc from a list expansion)', { to: 'team@example.test' }, {}, /none of the user's addresses/],
    ['only in a display name', { to: '"bob@example.test" <team@example.test>' }, {}, /none of the user's addresses/],
    ['only in a comment', { to: 'team@example.test (cc bob@example.test)' }, {}, /none of the user's addresses/],
    ['only in From', { from: 'bob@example.test' }, {}, /none/],
  ])('%s', (_, headers, over, why) => {
    const r = checkVacation(input(headers, over));
    expect(r.reply).toBe(false);
    if (!r.reply) expect(r.why).toMatch(why);
  });
});

describe('helpers', () => {
  it.each([
    ['bob@example.test', ['bob@example.test']],
    ['Bob <Bob@Example.TEST>, "Smith, J" <j@x.y>', ['bob@example.test', 'j@x.y']],
    ['undisclosed-recipients:;', []],
    ['team: a@b.c, d@e.f;', ['a@b.c', 'd@e.f']],
    ['"a@b.c" <real@x.y> (x@y.z)', ['real@x.y']],
  ])('headerAddresses(%j)', (v, want) => expect(headerAddresses(v)).toEqual(want));

  it.each([
    ['MAILER-DAEMON', true], ['mailer-daemon@x', true], ['owner-list@x', true], ['list-request@x', true],
    ['listserv@x', true], ['majordomo@x', true], ['bob@x', false], ['request@x', false], ['the-owner@x', false],
  ])('isSystemAddress(%s) = %s', (a, want) => expect(isSystemAddress(a)).toBe(want));

  const limits = { vacationMinDays: 1, vacationMaxDays: 60 };
  it.each<[{ days?: number; seconds?: number }, typeof limits, number]>([
    [{}, limits, 7 * DAY],
    [{ days: 3 }, limits, 3 * DAY],
    [{ days: 0 }, limits, 1 * DAY],
    [{ days: 365 }, limits, 60 * DAY],
    [{ seconds: 60 }, limits, 1 * DAY],
    [{ seconds: 0 }, { vacationMinDays: 0, vacationMaxDays: 60 }, 0],
    [{ seconds: 3600 }, { vacationMinDays: 0, vacationMaxDays: 60 }, 3600],
    [{ seconds: 100 * DAY }, limits, 60 * DAY],
  ])('vacationPeriodSeconds(%j, %j) = %d', (p, l, want) => expect(vacationPeriodSeconds(p, l)).toBe(want));

  it('default handles differ by subject, from, mime and reason, and are stable', () => {
    const base = { subject: undefined, from: undefined, mime: false, reason: 'away' };
    const h = defaultHandle(base);
    expect(defaultHandle({ ...base })).toBe(h);
    expect(defaultHandle({ ...base, subject: 's' })).not.toBe(h);
    expect(defaultHandle({ ...base, from: 'f@x' })).not.toBe(h);
    expect(defaultHandle({ ...base, mime: true })).not.toBe(h);
    expect(defaultHandle({ ...base, reason: 'back soon' })).not.toBe(h);
  });

  it('vacationKey ignores the sender\'s case but not the handle', () => {
    expect(vacationKey('Alice@Example.org', 'h')).toBe(vacationKey('alice@example.org', 'h'));
    expect(vacationKey('alice@example.org', 'h')).not.toBe(vacationKey('alice@example.org', 'i'));
    expect(vacationKey('alice@example.org', 'h')).not.toBe(vacationKey('carol@example.org', 'h'));
  });

  it.each<[string | undefined, string | undefined, string]>([
    ['Away', 'Hello', 'Away'],
    [undefined, 'Hello', 'Auto: Hello'],
    ['', ' Hello ', 'Auto: Hello'],
    [undefined, undefined, 'Automated reply'],
    [undefined, '   ', 'Automated reply'],
  ])('replySubject(%j, %j) = %j', (e, o, want) => expect(replySubject(e, o)).toBe(want));
});
