import { describe, expect, it } from 'vitest';
import { foldLocal, normalizeDomain, parseRecipientAddress, splitExtension } from '../../../src/recipients/address.js';

describe('parseRecipientAddress', () => {
  it.each([
    ['plain', 'alice@example.com', '+', { local: 'alice', folded: 'alice', base: 'alice', extension: '', domain: 'example.com' }],
    ['+extension, case of the extension kept', 'alice+Lists@example.com', '+', { base: 'alice', extension: 'Lists', folded: 'alice+lists' }],
    ['local part folded (Postfix lowercase(), Dovecot %Lu)', 'Alice@Example.COM', '+', { local: 'Alice', folded: 'alice', base: 'alice', domain: 'example.com' }],
    ['no domain (RFC 5321 §4.1.1.3 <Postmaster>)', 'Postmaster', '+', { base: 'postmaster', domain: '' }],
    ['trailing dot in the domain', 'a@example.com.', '+', { domain: 'example.com' }],
    ['IDN domain to A-labels', 'a@BÜCHER.example', '+', { domain: 'xn--bcher-kva.example' }],
    ['address literal', 'a@[192.0.2.1]', '+', { domain: '[192.0.2.1]' }],
    ['quoted local part with @ inside', '"a@b"@example.com', '+', { local: 'a@b', base: 'a@b', domain: 'example.com' }],
    ['quoted local part with escapes', '"a\\"b"@x', '+', { local: 'a"b' }],
    ['RFC 5321 §4.1.1.3: a source route is ignored', '@relay.example,@r2.example:bob@example.com', '+', { base: 'bob', domain: 'example.com' }],
    ['non-ASCII local part kept (SMTPUTF8)', 'Jörg@example.com', '+', { folded: 'jörg', base: 'jörg' }],
    ['delimiter "-"', 'bob-news@x', '-', { base: 'bob', extension: 'news' }],
    ['no delimiter configured', 'bob+news@x', '', { base: 'bob+news', extension: '' }],
  ] as const)('%s', (_n, address, delim, want) => {
    expect(parseRecipientAddress(address, delim)).toMatchObject(want);
  });

  it.each([
    ['RFC 5321: the null path is no recipient', ''],
    ['no local part', '@example.com'],
    ['a source route and nothing else', '@relay.example'],
    ['empty domain', 'alice@'],
  ])('%s names nobody', (_n, address) => {
    expect(typeof parseRecipientAddress(address, '+')).toBe('string');
  });
});

describe('splitExtension (Postfix split_addr)', () => {
  it.each([
    ['alice+x', '+', 'alice', 'x'],
    ['alice+x+y', '+', 'alice', 'x+y'],
    ['alice-x+y', '+-', 'alice', 'x+y'],
    ['alice+x-y', '+-', 'alice', 'x-y'],
    ['alice+', '+', 'alice', ''],
    ['+alice', '+', '+alice', ''],
    ['postmaster+x', '+', 'postmaster', 'x'], // only the whole name is reserved
    ['PostMaster', '+', 'PostMaster', ''],
    ['mailer-daemon', '-', 'mailer-daemon', ''],
    ['owner-list', '-', 'owner-list', ''],
    ['list-request', '-', 'list-request', ''],
    ['owner+x', '+', 'owner', 'x'],
    ['alice', '+', 'alice', ''],
  ])('%s with %j → %s / %s', (local, delims, base, extension) => {
    expect(splitExtension(local, delims)).toEqual({ base, extension });
  });
});

describe('foldLocal and normalizeDomain', () => {
  it('folds ASCII only', () => expect(foldLocal('ÄBc')).toBe('Äbc'));
  it('an IDN that cannot be converted is no domain', () => expect(normalizeDomain('ex ample.com\u00ff')).toBeUndefined());
});
