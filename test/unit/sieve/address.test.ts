import { describe, expect, it } from 'vitest';
import {
  addressPart,
  formatAddress,
  parseAddressList,
  parseEnvelopeAddress,
  type AddressPart,
  type ParsedAddress,
} from '../../../src/sieve/address.js';

/** The :all view of every entry: mailboxes as local@domain, invalid entries as "!raw". */
const view = (value: string): string[] =>
  parseAddressList(value).map((a) => (a.kind === 'mailbox' ? (addressPart(a, 'all') as string) : `!${a.raw}`));

describe('parseAddressList: the :all view of real-world headers', () => {
  it.each([
    ['stephan@example.org', ['stephan@example.org']],
    ['  stephan@example.org  ', ['stephan@example.org']],
    ['Stephan Bosch <stephan@example.org>', ['stephan@example.org']],
    ['"Bosch, Stephan" <stephan@example.org>', ['stephan@example.org']],
    ['<stephan@example.org>', ['stephan@example.org']],
    ['a@b, c@d', ['a@b', 'c@d']],
    ['a@b,,c@d,', ['a@b', 'c@d']],
    ['"Doe, John" <john@x.org>, Jane <jane@y.org>', ['john@x.org', 'jane@y.org']],
    ['Undisclosed: a@b, c@d;', ['a@b', 'c@d']],
    ['Undisclosed: a@b, c@d;, e@f', ['a@b', 'c@d', 'e@f']],
    ['undisclosed-recipients:;', []],
    ['undisclosed-recipients: ;', []],
    ['Friends: Ann <ann@x>, "B. B." <bb@y>;', ['ann@x', 'bb@y']],
    ['john@x.org (John Doe)', ['john@x.org']],
    ['john (the (real) one) @ x.org', ['john@x.org']],
    ['John Doe <john(comment)@(another)x.org>', ['john@x.org']],
    ['"a b"@x', ['"a b"@x']],
    ['"sirius"@example.org', ['sirius@example.org']], // quotes dropped where not needed (Pigeonhole normalizes too)
    ['"a\\"b"@x', ['"a\\"b"@x']],
    ['"john".doe@x', ['john.doe@x']],
    ['john.doe@example.org', ['john.doe@example.org']],
    ['john..doe@example.org', ['"john..doe"@example.org']], // obs/broken dots accepted, quoted when formatted
    ['<@route1,@route2:user@example.org>', ['user@example.org']], // obs-route (RFC 5322 §4.4)
    ['Name <@r:user@example.org>', ['user@example.org']],
    ['user@[192.0.2.1]', ['user@[192.0.2.1]']],
    ['SPAM@MYDOMAIN', ['SPAM@MYDOMAIN']], // Pigeonhole address.svtest "Questionable address"
    ['user@example.org.', ['user@example.org']],
    ['=?utf-8?q?J=C3=B6rg?= <joerg@example.org>', ['joerg@example.org']],
    ['Jörg <jörg@exämple.org>', ['jörg@exämple.org']], // RFC 6532 UTF-8
    ['a@b\r\n\tc@d', ['!a@b\r\n\tc@d']],
    ['first.last@sub.example.co.uk', ['first.last@sub.example.co.uk']],
    ['user+tag@example.org', ['user+tag@example.org']],
    ["o'brien@example.org", ["o'brien@example.org"]],
  ])('%j → %j', (value, want) => expect(view(value)).toEqual(want));
});

describe('parseAddressList: broken entries keep their raw text (RFC 5228 §2.7.4, Pigeonhole address.svtest)', () => {
  it.each([
    ['stephan@', ['!stephan@']],
    ['@example.org', ['!@example.org']],
    ['nonsense', ['!nonsense']],
    ['', ['!']], // an empty header is one empty entry: it matches :all "" (Pigeonhole "Resent-To:")
    ['   ', ['!']],
    ['(just a comment)', ['!(just a comment)']],
    ['nico@frop.example.com, @example.org', ['nico@frop.example.com', '!@example.org']],
    ['stephan@example.org, nonsense', ['stephan@example.org', '!nonsense']],
    ['John Doe john@x.org', ['!John Doe john@x.org']],
    ['<john@x.org> trailing', ['!<john@x.org> trailing']],
    ['<john@x.org', ['!<john@x.org']],
    ['<>', ['!<>']],
    ['a@b@c', ['!a@b@c']],
    ['a@b..c', ['!a@b..c']],
    ['"unterminated@x', ['!"unterminated@x']],
    ['a@[1.2.3.4', ['!a@[1.2.3.4']],
    ['a)b@c', ['!a)b@c']],
    ['Group: a@b, broken;', ['a@b', '!broken']],
  ])('%j → %j', (value, want) => expect(view(value)).toEqual(want));
});

describe('parseAddressList: names and groups', () => {
  const first = (value: string) => parseAddressList(value)[0] as ParsedAddress & { kind: 'mailbox' };
  it.each([
    ['Stephan Bosch <stephan@example.org>', 'Stephan Bosch'],
    ['"Bosch, Stephan" <stephan@example.org>', 'Bosch, Stephan'],
    ['  "Quoted"   Name   <a@b>', 'Quoted Name'],
    ['Dr. J. Doe <a@b>', 'Dr. J. Doe'],
    ['a@b (Comment Name)', 'Comment Name'],
    ['a@b', ''],
  ])('display name of %j is %j', (value, name) => expect(first(value).displayName).toBe(name));
  it('group members know their group', () => {
    const list = parseAddressList('Team: a@b, c@d; e@f');
    expect(list.map((a) => (a.kind === 'mailbox' ? a.group : undefined))).toEqual(['Team', 'Team', undefined]);
  });
  it('the local part is unquoted and the domain keeps its case', () => {
    expect(first('"a b"@Example.ORG')).toMatchObject({ localPart: 'a b', domain: 'Example.ORG' });
  });
});

describe('addressPart (RFC 5228 §2.7.4, RFC 5233 subaddress)', () => {
  const one = (value: string) => parseAddressList(value)[0] as ParsedAddress;
  const rows: Array<[string, AddressPart, string | undefined, string?]> = [
    ['stephan+sieve@example.org', 'all', 'stephan+sieve@example.org'],
    ['stephan+sieve@example.org', 'localpart', 'stephan+sieve'],
    ['stephan+sieve@example.org', 'domain', 'example.org'],
    ['stephan+sieve@example.org', 'user', 'stephan'],
    ['stephan+sieve@example.org', 'detail', 'sieve'],
    ['test+failed@example.com', 'user', 'test'],
    ['test+failed@example.com', 'detail', 'failed'],
    ['nico@example.com', 'user', 'nico'],
    ['nico@example.com', 'detail', undefined], // no separator: no detail, nothing matches (rfc.svtest)
    ['stephan+@example.org', 'user', 'stephan'],
    ['stephan+@example.org', 'detail', ''], // an empty detail is ""
    ['+x@example.org', 'user', ''],
    ['+x@example.org', 'detail', 'x'],
    ['a+b+c@example.org', 'detail', 'b+c'], // split at the first separator
    // recipient_delimiter as a set of characters (Dovecot 2.3, Pigeonhole subaddress/config.svtest)
    ['test-failed@example.com', 'user', 'test', '-'],
    ['test-failed@example.com', 'detail', 'failed', '-'],
    ['friep+-frop@example.net', 'user', 'friep', '+-'],
    ['friep+-frop@example.net', 'detail', '-frop', '+-'],
    ['friep+-frop@example.net', 'detail', '-frop', '-+'],
    ['list_request@example.net', 'user', 'list', '+-_'],
    ['list_request@example.net', 'detail', 'request', '+-_'],
    ['a+b@example.org', 'detail', undefined, ''],
    // invalid entries: only :all, unless empty (Pigeonhole)
    ['stephan@', 'all', 'stephan@'],
    ['stephan@', 'localpart', undefined],
    ['@example.org', 'domain', undefined],
    ['nonsense', 'all', 'nonsense'],
    ['nonsense', 'user', undefined],
    ['', 'all', ''],
    ['', 'localpart', ''],
    ['', 'detail', ''],
  ];
  it.each(rows)('%j :%s (separator %j) → %j', (value, part, want, sep) => {
    expect(addressPart(one(value), part, sep)).toBe(want);
  });
});

describe('parseEnvelopeAddress (RFC 5228 §5.4)', () => {
  it.each([
    ['<>', 'all', ''],
    ['<>', 'localpart', ''], // the null reverse-path is "" whatever the address part
    ['', 'domain', ''],
    ['friep+frop@dovecot.example.net', 'user', 'friep'],
    ['<friep+frop@dovecot.example.net>', 'detail', 'frop'],
    ['<@relay.example:user@example.org>', 'all', 'user@example.org'],
    ['postmaster', 'all', 'postmaster'],
    ['postmaster', 'domain', undefined],
    ['MAILER-DAEMON', 'localpart', 'MAILER-DAEMON'],
    ['"sirius"@example.org', 'all', 'sirius@example.org'],
    ['not an address', 'all', 'not an address'],
    ['not an address', 'localpart', undefined],
  ] as Array<[string, AddressPart, string | undefined]>)('%j :%s → %j', (path, part, want) => {
    expect(addressPart(parseEnvelopeAddress(path), part)).toBe(want);
  });
});

describe('formatAddress', () => {
  it.each([
    ['a', 'b', 'a@b'],
    ['a b', 'b', '"a b"@b'],
    ['.a', 'b', '".a"@b'],
    ['a"b', 'b', '"a\\"b"@b'],
    ['postmaster', undefined, 'postmaster'],
  ] as Array<[string, string | undefined, string]>)('%j @ %j → %j', (l, d, want) => expect(formatAddress(l, d)).toBe(want));
});

describe('size', () => {
  it('parses a 30 000-entry header in linear time', () => {
    const t0 = performance.now();
    const list = parseAddressList('a@b (c), '.repeat(30_000));
    expect(list).toHaveLength(30_000);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});
