/**
 * The MIME tree of the RFC 5703 extensions (mime-tree.ts): the depth-first part order of
 * foreverypart (§3), the header options of `header :mime` (§4.2) with RFC 2231 parameters, and the
 * text extracttext gives (§7). Tables over pure functions.
 */
import { describe, expect, it } from 'vitest';
import { htmlToText, MAX_MIME_PARTS, mimeOptionValues, mimeTree, parseMimeHeader, partText, type MimeOption } from '../../../src/sieve/mime-tree.js';
import { NESTED } from '../../helpers/mime-messages.js';

describe('RFC 5703 §3: every MIME part, depth first', () => {
  it('lists the message itself, then each part before its children, message/rfc822 descended into', () => {
    const tree = mimeTree(Buffer.from(NESTED));
    expect(tree.map((e) => e.type)).toEqual([
      'multipart/mixed', 'multipart/alternative', 'text/plain', 'text/html', 'application/pdf', 'message/rfc822', 'text/plain',
    ]);
    expect(tree.map((e) => [e.index, e.end])).toEqual([[0, 7], [1, 4], [2, 3], [3, 4], [4, 5], [5, 7], [6, 7]]);
    expect(tree[6]!.fields.find((f) => f.name === 'subject')?.value).toBe('inner');
  });

  it.each<[string, string, string[]]>([
    ['a single-part message is one part', 'Subject: x\n\nhello\n', ['text/plain']],
    ['no Content-Type: text/plain (RFC 2045 §5.2)', 'Content-Type: text/html\n\n<p>x</p>\n', ['text/html']],
    ['a multipart without boundary is a leaf', 'Content-Type: multipart/mixed\n\n--x\n\nhi\n', ['multipart/mixed']],
    ['multipart/digest parts default to message/rfc822 (RFC 2046 §5.1.5)', 'Content-Type: multipart/digest; boundary=b\n\n--b\n\nSubject: d\n\nbody\n--b--\n', ['multipart/digest', 'message/rfc822', 'text/plain']],
    ['a missing closing boundary takes the rest (a cut-off message)', 'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\npart one\n--b\nContent-Type: image/png\n\niVBOR', ['multipart/mixed', 'text/plain', 'image/png']],
  ])('%s', (_name, msg, types) => {
    expect(mimeTree(Buffer.from(msg)).map((e) => e.type)).toEqual(types);
  });

  it('stops at MAX_MIME_PARTS parts', () => {
    const body = Array.from({ length: MAX_MIME_PARTS + 50 }, (_, i) => `--b\n\npart ${i}\n`).join('') + '--b--\n';
    expect(mimeTree(Buffer.from(`Content-Type: multipart/mixed; boundary=b\n\n${body}`)).length).toBe(MAX_MIME_PARTS);
  });

  it('bounds nesting depth: deep message/rfc822 chains end as leaves', () => {
    let msg = 'Subject: leaf\n\nbottom\n';
    for (let i = 0; i < 30; i++) msg = `Content-Type: message/rfc822\n\n${msg}`;
    const tree = mimeTree(Buffer.from(msg));
    expect(tree.length).toBeLessThanOrEqual(12);
    expect(tree.length).toBeGreaterThan(5);
  });
});

describe('RFC 5703 §4.2: header :mime options', () => {
  const T: MimeOption = { kind: 'type' };
  const S: MimeOption = { kind: 'subtype' };
  const CT: MimeOption = { kind: 'contenttype' };
  const P = (...names: string[]): MimeOption => ({ kind: 'param', names });
  it.each<[string, string, MimeOption | undefined, string[]]>([
    ['Content-Type', 'Text/Plain; charset=utf-8', undefined, ['Text/Plain; charset=utf-8']],
    ['Content-Type', 'text/plain; charset=utf-8', T, ['text']],
    ['Content-Type', 'application/pdf', S, ['pdf']],
    ['Content-Type', 'application/pdf ; name=x', CT, ['application/pdf']],
    ['Content-Disposition', 'attachment; filename=a.pdf', T, ['attachment']],
    ['Content-Disposition', 'attachment; filename=a.pdf', S, ['']],
    ['Content-Disposition', 'inline', CT, ['inline']],
    ['Subject', 'hello', T, ['']], // other fields: blank
    ['Content-Type', 'text/plain; charset="utf-8"; format=flowed', P('charset', 'format'), ['utf-8', 'flowed']],
    ['Content-Type', 'text/plain', P('charset'), []], // an absent parameter gives no value
    ['Content-Disposition', 'attachment; filename="a;b.pdf"', P('FileName'), ['a;b.pdf']],
    ['Content-Disposition', "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf", P('filename'), ['résumé.pdf']], // RFC 2231 §4
    ['Content-Disposition', 'attachment; filename*0="long"; filename*1="name.pdf"', P('filename'), ['longname.pdf']], // RFC 2231 §3
    ['Content-Disposition', "attachment; filename*0*=iso-8859-1''caf%E9; filename*1=.txt", P('filename'), ['café.txt']],
    ['Subject', 'x; name=y', P('name'), []],
  ])('%s: %s with %j', (field, value, option, want) => {
    expect(mimeOptionValues(field, value, option)).toEqual(want);
  });

  it('parseMimeHeader keeps quoted semicolons and backslash escapes', () => {
    expect(parseMimeHeader('attachment; filename="a\\"b;c"').params.get('filename')).toBe('a"b;c');
  });
});

describe('RFC 5703 §7: the text of a part', () => {
  const tree = mimeTree(Buffer.from(NESTED));
  it.each<[number, string]>([
    [0, ''], // multipart
    [2, 'café au lait'], // quoted-printable, iso-8859-1 → UTF-8
    [3, 'Hello world & co '], // HTML reduced to text
    [4, ''], // not text
    [6, 'inner body'], // the encapsulated message's text (the line break before a boundary is the boundary's)
  ])('part %i', (i, want) => {
    expect(partText(tree[i]!)).toBe(want);
  });

  it.each<[string, string]>([
    ['<p>a</p><p>b</p>', 'a b '],
    ['<style>p{}</style>x<script>alert(1)</script>y', 'xy'],
    ['&lt;&#65;&#x42;&gt;&bogus;', '<AB>&bogus;'],
    ['<!-- c -->t', 't'],
  ])('htmlToText %j', (html, want) => {
    expect(htmlToText(html)).toBe(want);
  });
});
