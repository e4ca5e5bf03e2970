/**
 * body :content "message/rfc822" (RFC 5173 §5.2): a matching message/rfc822 part contributes the
 * header of the nested message, as one string; its body parts are searched only when their own
 * type matches.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../helpers/sieve.js';

const MESSAGE = [
  'From: a@example.org',
  'Subject: outer',
  'Content-Type: multipart/mixed; boundary=outer',
  '',
  '--outer',
  'Content-Type: text/plain',
  '',
  'Outer text',
  '--outer',
  'Content-Type: message/rfc822',
  '',
  'From: Someone Else',
  'Subject: nested subject',
  '',
  'Please say Hello',
  '--outer--',
  '',
].join('\r\n');

const script = (content: string, key: string): string =>
  `require ["body", "fileinto"];\nif body :content ${JSON.stringify(content)} :contains ${JSON.stringify(key)} { fileinto "hit"; }\n`;
const hits = (content: string, key: string): boolean => run(script(content, key), MESSAGE).fileinto.length > 0;

describe('body :content "message/rfc822"', () => {
  it.each([
    ['message/rfc822', 'From: Someone Else', true],
    ['message/rfc822', 'nested subject', true],
    ['message', 'Subject: nested subject', true],
    ['message/rfc822', 'Please say Hello', false], // the nested body is text/plain, not message/rfc822
    ['text', 'Please say Hello', true],
    ['text', 'nested subject', false],
  ])('RFC 5173 §5.2: :content %j :contains %j → %s', (content, key, expected) => {
    expect(hits(content, key)).toBe(expected);
  });

  it('RFC 5173 §5.2: the nested header is one string, every line with its line end', () => {
    const exact = 'require ["body", "fileinto"];\nif body :content "message/rfc822" :is text:\nFrom: Someone Else\nSubject: nested subject\n.\n{ fileinto "hit"; }\n';
    expect(run(exact, MESSAGE).fileinto.map((f) => f.mailbox)).toEqual(['hit']);
  });
});
