/**
 * A part whose Content-Transfer-Encoding mda does not know is opaque data (RFC 2045 §6.4): body
 * :text does not search it, whatever its Content-Type says.
 */
import { describe, expect, it } from 'vitest';
import { mimeParts } from '../../../src/sieve/mime.js';
import { run } from '../../helpers/sieve.js';

const message = (cte: string): string => [
  'From: a@example.org',
  'Content-Type: multipart/mixed; boundary=outer',
  '',
  '--outer',
  'Content-Type: text/html; charset=utf-8',
  `Content-Transfer-Encoding: ${cte}`,
  '',
  'Please say Hello',
  '--outer--',
  '',
].join('\n');

const searched = (cte: string): boolean =>
  run('require ["body", "fileinto"];\nif body :text :contains "Hello" { fileinto "hit"; }\n', message(cte)).fileinto.length > 0;

describe('unknown Content-Transfer-Encoding', () => {
  it.each([
    ['multipart/related', false],
    ['x-uuencode', false],
    ['7bit', true],
    ['8BIT', true],
    ['binary', true],
    ['quoted-printable', true],
  ])('RFC 2045 §6.4: body :text with Content-Transfer-Encoding %j searched: %s', (cte, expected) => {
    expect(searched(cte)).toBe(expected);
  });

  it('RFC 2045 §6.4: the part is treated as application/octet-stream', () => {
    expect(mimeParts(Buffer.from(message('multipart/related'))).map((p) => p.type)).toEqual(['multipart/mixed', 'application/octet-stream']);
  });
});
