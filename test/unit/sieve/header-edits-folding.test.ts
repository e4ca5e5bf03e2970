/**
 * addheader values that carry their own folds: a line break followed by white space is a fold,
 * which unfolding removes (RFC 5322 §2.2.3), so the value reads back with the spacing as written.
 */
import { describe, expect, it } from 'vitest';
import { fieldLines } from '../../../src/sieve/header-edits.js';
import { compile, message, env } from '../../helpers/sieve.js';
import { evaluateSieve } from '../../../src/sieve/evaluate.js';

describe('fieldLines: folded values', () => {
  it.each([
    ['a\n b', ['X-A: a b']],
    ['a\r\n\tb', ['X-A: a\tb']],
    ['a\r\n  b', ['X-A: a  b']],
    ['a\nb', ['X-A: a b']], // a bare break (no fold) still becomes one space: no smuggled field
    ['a\n\nX-Evil: yes', ['X-A: a X-Evil: yes']],
  ])('RFC 5322 §2.2.3: a CRLF followed by WSP is a fold, removed when unfolding: %j', (value, lines) => {
    expect(fieldLines('X-A', value)).toEqual(lines);
  });

  it('RFC 5322 §2.2.3: header :is sees a folded added value unfolded with its single spaces', () => {
    const script = compile('require ["editheader", "variables", "fileinto"];\nset "v" text:\nlong header content\n containing newlines\n.\n;\naddheader "X-F" "${v}";\nif header :is "X-F" "long header content containing newlines" { fileinto "ok"; }\n');
    const plan = evaluateSieve([script], message('From: a@b.c\n\nx\n'), env(), {});
    expect(plan.fileinto.map((f) => f.mailbox)).toEqual(['ok']);
  });
});
