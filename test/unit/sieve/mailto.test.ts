/**
 * The mailto URI of the enotify mailto method (RFC 5436 §2.1, RFC 6068 / RFC 2368): recipients from
 * the path, ?to= and ?cc=; subject and body; unsafe fields dropped (RFC 5436 §2.7); invalid URIs refused.
 */
import { describe, expect, it } from 'vitest';
import { parseMailtoUri, percentDecode } from '../../../src/sieve/mailto.js';

describe('parseMailtoUri: recipients (RFC 5436 §2.1, RFC 6068 §2, RFC 2368 §2)', () => {
  it.each<[string, string, string[], string[], string[]]>([
    ['one address in the path', 'mailto:alice@example.org', ['alice@example.org'], ['alice@example.org'], []],
    ['the scheme is case-insensitive', 'MAILTO:alice@example.org', ['alice@example.org'], ['alice@example.org'], []],
    ['comma-separated path', 'mailto:a@example.org,b@example.org', ['a@example.org', 'b@example.org'], ['a@example.org', 'b@example.org'], []],
    ['%2C-separated ?to= (RFC 2368)', 'mailto:a@example.org?to=b@example.org%2Cc@example.org', ['a@example.org', 'b@example.org', 'c@example.org'], ['a@example.org', 'b@example.org', 'c@example.org'], []],
    ['?cc= adds recipients named in Cc', 'mailto:a@example.org?cc=c@example.org%2Cd@example.org', ['a@example.org', 'c@example.org', 'd@example.org'], ['a@example.org'], ['c@example.org', 'd@example.org']],
    ['an empty path with ?to=', 'mailto:?to=a@example.org', ['a@example.org'], ['a@example.org'], []],
    ['duplicates (any case) are one recipient', 'mailto:a@example.org?cc=A@Example.org', ['a@example.org'], ['a@example.org'], ['A@Example.org']],
    ['%40 in the path is @', 'mailto:a%40example.org', ['a@example.org'], ['a@example.org'], []],
    ['no recipients at all is a valid URI', 'mailto:?subject=x', [], [], []],
  ])('%s', (_, text, recipients, to, cc) => {
    const r = parseMailtoUri(text);
    if (!r.ok) throw new Error(r.why);
    expect([r.uri.recipients, r.uri.to, r.uri.cc]).toEqual([recipients, to, cc]);
  });
});

describe('parseMailtoUri: header fields (RFC 5436 §2.7, RFC 6068 §2)', () => {
  it('subject and body are %-decoded as UTF-8; the first of each counts', () => {
    const r = parseMailtoUri('mailto:a@example.org?subject=Caf%C3%A9%20news&body=line%0D%0Atwo&subject=second');
    expect(r.ok && [r.uri.subject, r.uri.body]).toEqual(['Café news', 'line\r\ntwo']);
  });

  it('RFC 5436 §2.7: the URI\'s from, auto-submitted and other unsafe fields are ignored, reported; safe ones kept', () => {
    const r = parseMailtoUri('mailto:a@example.org?from=evil@example.net&Auto-Submitted=no&received=x&bcc=hidden@example.net&keywords=k&content-type=text/html');
    if (!r.ok) throw new Error(r.why);
    expect(r.uri.ignored).toEqual(['from', 'auto-submitted', 'received', 'bcc', 'content-type']);
    expect(r.uri.headers).toEqual([['keywords', 'k']]);
    expect(r.uri.recipients).toEqual(['a@example.org']);
  });
});

describe('parseMailtoUri: invalid URIs (RFC 5435 §3.1, RFC 6068 §2)', () => {
  it.each<[string, string, RegExp]>([
    ['another scheme', 'xmpp:alice@example.org', /unsupported notification method "xmpp"/],
    ['no scheme', 'alice@example.org', /not a URI|unsupported/],
    ['a raw space', 'mailto:a@example.org?subject=two words', /%-encoded/],
    ['a raw non-ASCII character', 'mailto:a@example.org?subject=café', /%-encoded/],
    ['a broken escape', 'mailto:a@example.org?subject=%G1', /%-escape/],
    ['invalid UTF-8', 'mailto:a@example.org?subject=%C3', /UTF-8/],
    ['a recipient without a domain', 'mailto:alice', /invalid recipient/],
    ['a recipient that would be an option', 'mailto:-oQ@example.org', /invalid recipient/],
    ['an encoded second recipient inside one with a space', 'mailto:a%20b@example.org', /invalid recipient/],
    ['a field without =', 'mailto:a@example.org?subject', /without a name or '='/],
    ['a CR/LF in a field name', 'mailto:a@example.org?x%0Ay=1', /invalid header field name/],
    ['too long', `mailto:a@example.org?body=${'x'.repeat(5000)}`, /longer than/],
  ])('%s', (_, text, why) => {
    const r = parseMailtoUri(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.why).toMatch(why);
  });
});

describe('percentDecode', () => {
  it.each<[string, string | undefined]>([['a%20b', 'a b'], ['%e2%82%ac', '€'], ['%2', undefined], ['plain', 'plain']])('%s', (s, want) => {
    expect(percentDecode(s)).toBe(want);
  });
});
