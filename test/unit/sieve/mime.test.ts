import { describe, expect, it } from 'vitest';
import { contentTypeMatches, decodeTransfer, mimeParts, parseContentType, splitHead, splitMultipart, toText } from '../../../src/sieve/mime.js';

const crlf = (s: string) => Buffer.from(s.replace(/\n/g, '\r\n'), 'latin1');

describe('mime', () => {
  it('a plain message is one text/plain part', () => {
    expect(mimeParts(Buffer.from('Subject: x\n\nHello\n'))).toEqual([{ type: 'text/plain', text: 'Hello\n' }]);
  });

  it('splitHead handles LF, CRLF, no header and no body', () => {
    expect(splitHead(Buffer.from('A: b\n\nbody')).body.toString()).toBe('body');
    expect(splitHead(crlf('A: b\n\nbody')).body.toString()).toBe('body');
    expect(splitHead(Buffer.from('\nbody')).body.toString()).toBe('body');
    expect(splitHead(Buffer.from('A: b\n')).body.length).toBe(0);
  });

  it('walks a multipart/alternative with QP and base64 parts (CRLF)', () => {
    const msg = crlf([
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      'preamble',
      '--b1',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Gr=FC=DFe, soft=',
      'break',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('<p>Grüße</p>').toString('base64'),
      '--b1--',
      'epilogue',
    ].join('\n'));
    expect(mimeParts(msg)).toEqual([
      { type: 'multipart/alternative', text: 'preamble', epilogue: 'epilogue' }, // RFC 5173 §5.2 searches these two
      { type: 'text/plain', text: 'Grüße, softbreak' },
      { type: 'text/html', text: '<p>Grüße</p>' },
    ]);
  });

  it('descends into nested multiparts and message/rfc822', () => {
    const inner = 'Subject: inner\n\ninner body\n';
    const msg = Buffer.from([
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      '--outer',
      'Content-Type: multipart/related; boundary="in ner"',
      '',
      '--in ner',
      '',
      'default text',
      '--in ner--',
      '--outer',
      'Content-Type: message/rfc822',
      '',
      inner,
      '--outer',
      'Content-Type: application/pdf',
      'Content-Transfer-Encoding: base64',
      '',
      'JVBERi0=',
      '--outer--',
    ].join('\n'));
    expect(mimeParts(msg).map((p) => [p.type, p.text])).toEqual([
      ['multipart/mixed', ''],
      ['multipart/related', ''],
      ['text/plain', 'default text'],
      ['message/rfc822', 'Subject: inner\n'], // RFC 5173 §5.2: the nested header
      ['text/plain', 'inner body\n'],
      ['application/pdf', '%PDF-'],
    ]);
  });

  it('a missing closing boundary takes the rest; a boundary mid-line is content', () => {
    expect(splitMultipart(Buffer.from('--b\n\nx --b y\n--b\n\nlast'), 'b').map(String)).toEqual(['\nx --b y', '\nlast']);
  });

  it('bounded: a deeply nested bomb stops at the depth limit', () => {
    let msg = 'leaf\n';
    for (let i = 0; i < 50; i++) msg = `Content-Type: multipart/mixed; boundary=b${i}\n\n--b${i}\n${msg}\n--b${i}--\n`;
    const parts = mimeParts(Buffer.from(msg));
    expect(parts.length).toBeLessThanOrEqual(12);
  });

  it.each([
    [undefined, 'text/plain'], ['TEXT/HTML; charset="utf-8"', 'text/html'], ['garbage', 'text/plain'], ['multipart/mixed; boundary="a;b"', 'multipart/mixed'],
  ])('parseContentType(%j).type = %s', (v, t) => expect(parseContentType(v).type).toBe(t));
  it('parameters with quoted semicolons', () => expect(parseContentType('multipart/mixed; boundary="a;b"; x=1').params.get('boundary')).toBe('a;b'));

  it('decodeTransfer / toText edge cases', () => {
    expect(decodeTransfer(Buffer.from('a=3Db=\r\nc=ZZ'), 'Quoted-Printable').toString()).toBe('a=bc=ZZ');
    expect(decodeTransfer(Buffer.from('aGk=\n'), 'base64').toString()).toBe('hi');
    expect(toText(Buffer.from([0xe9]), 'x-unknown-charset')).toBe('\ufffd');
    expect(toText(Buffer.from([0xe9]), 'windows-1252')).toBe('é');
  });

  it.each([
    ['text/plain', '', true], ['text/plain', 'text', true], ['text/plain', 'TEXT/plain', true], ['text/html', 'text/plain', false],
    ['application/pdf', 'text', false], ['multipart/mixed', 'multipart', true],
  ])('contentTypeMatches(%s, %j) = %s', (t, w, r) => expect(contentTypeMatches(t, w)).toBe(r));
});
