/**
 * RFC 5703 through the evaluator and the validator: foreverypart and break (§3), header / address /
 * exists with :mime and its options (§4), extracttext (§7), and the compile-time rules (nesting,
 * break names, placement). The message is test/helpers/mime-messages.ts's NESTED.
 */
import { describe, expect, it } from 'vitest';
import { compileSieve } from '../../../src/sieve/compile.js';
import { evaluateSieve } from '../../../src/sieve/evaluate.js';
import { scriptReadsParts } from '../../../src/sieve/evaluate-mime.js';
import { SieveMessage } from '../../../src/sieve/message.js';
import { compile, DEFAULT_MESSAGE, env, message, run, targets } from '../../helpers/sieve.js';
import { NESTED } from '../../helpers/mime-messages.js';

const REQ = 'require ["foreverypart", "mime", "extracttext", "variables", "fileinto", "relational", "comparator-i;ascii-numeric"];\n';

/** The folders a script files NESTED into. */
function folders(script: string, msg = NESTED): string[] {
  const p = run(REQ + script, msg);
  if (p.errors.length) throw new Error(p.errors.join('\n'));
  return p.fileinto.map((f) => f.mailbox);
}

/** Does the test hold, outside any loop? */
function holds(test: string, msg = NESTED): boolean {
  return folders(`if ${test} { fileinto "yes"; }`, msg).includes('yes');
}

function compileErrors(script: string): string[] {
  const r = compileSieve(script, 's.sieve');
  return 'errors' in r ? r.errors.map((e) => e.message) : [];
}

describe('RFC 5703 §3: foreverypart', () => {
  it('visits every part depth first, the message itself first', () => {
    expect(folders('set "n" ""; foreverypart { set "n" "${n}x"; if header :mime :contenttype :matches "Content-Type" "*/*" { fileinto "${n}.${1}-${2}"; } }')).toEqual([
      'x.multipart-mixed', 'xx.multipart-alternative', 'xxx.text-plain', 'xxxx.text-html', 'xxxxx.application-pdf', 'xxxxxx.message-rfc822',
    ]); // the 7th part (inside message/rfc822) has no Content-Type field
  });

  it('§3: a nested loop walks the parts inside the outer loop\'s current part', () => {
    const got = folders(
      'foreverypart { if header :mime :subtype "Content-Type" "alternative" { set "n" ""; foreverypart { set "n" "${n}y"; if header :mime :subtype :matches "Content-Type" "*" { fileinto "in${n}.${1}"; } } } }',
    );
    expect(got).toEqual(['iny.plain', 'inyy.html']);
  });

  it('§3.2: break ends the innermost loop; the script goes on after it', () => {
    expect(folders('foreverypart { if header :mime :subtype "Content-Type" "pdf" { fileinto "attachments"; break; } fileinto "seen"; } fileinto "after";')).toEqual(['seen', 'attachments', 'after']);
  });

  it('§3.2: break :name ends the named outer loop', () => {
    const script = 'set "n" ""; foreverypart :name "outer" { set "n" "${n}o"; foreverypart { if header :mime :subtype "Content-Type" "plain" { break :name "outer"; } } } fileinto "n${n}";';
    expect(folders(script)).toEqual(['no']); // the first outer iteration's inner loop meets text/plain
  });

  it('§3.2: unnamed break in a nested loop ends only the inner loop', () => {
    const script = 'set "n" ""; foreverypart :name "outer" { set "n" "${n}o"; foreverypart { break; } } fileinto "n${n}";';
    expect(folders(script)).toEqual(['nooooooo']);
  });

  it('stop inside a loop ends the script (RFC 5228 §3.3)', () => {
    expect(folders('foreverypart { fileinto "a"; stop; } fileinto "b";')).toEqual(['a']);
  });

  it('a single-part message is one iteration', () => {
    expect(folders('set "n" ""; foreverypart { set "n" "${n}x"; } fileinto "n${n}";', DEFAULT_MESSAGE)).toEqual(['nx']);
  });
});

describe('RFC 5703 §4: :mime on header, address and exists', () => {
  it.each<[string, boolean]>([
    ['header :mime :type "Content-Type" "multipart"', true], // outside a loop: the top level
    ['header :mime :subtype "Content-Type" "pdf"', false],
    ['header :mime :anychild :subtype "Content-Type" "pdf"', true], // §4.1: any part of the message
    ['header :mime :anychild :contenttype "Content-Type" "multipart/mixed"', true], // the top level counts
    ['header :mime :anychild :param "filename" "Content-Disposition" "x.pdf"', true],
    ['header :mime :anychild :param "filename" :matches "Content-Disposition" "*.doc"', false],
    ['header :mime :anychild :type "Content-Disposition" "attachment"', true],
    ['header :mime :anychild :param "charset" "Content-Type" "ISO-8859-1"', true], // i;ascii-casemap
    ['header :mime :anychild :param "charset" :matches "Content-Type" "*"', true],
    ['header :mime :param "charset" :matches "Content-Type" "*"', false], // the top level has no charset
    ['header :mime "Subject" "nested"', true], // no option: the whole (decoded) value
    ['header :mime :anychild "Subject" "inner"', true], // the encapsulated message's header is a part's header
    ['header :mime :anychild :count "eq" :comparator "i;ascii-numeric" "Content-Disposition" "1"', true], // counted per part
    ['exists :mime "Content-Disposition"', false],
    ['exists :mime :anychild "Content-Disposition"', true],
    ['exists :mime :anychild ["Content-Disposition", "Subject"]', false], // one part must have them all
    ['address :mime :anychild :domain "From" "example.org"', true],
    ['address :mime :anychild :localpart "From" "c"', true], // inside message/rfc822
    ['address :mime :localpart "From" "c"', false],
  ])('%s → %s', (test, want) => {
    expect(holds(test)).toBe(want);
  });

  it('§4.1: inside foreverypart the tests read the current part; :anychild the part and those inside it', () => {
    const got = folders(
      'set "n" ""; foreverypart { set "n" "${n}x"; if header :mime :anychild :subtype "Content-Type" "html" { fileinto "html${n}"; } if exists :mime "Content-Disposition" { fileinto "disp${n}"; } if address :mime :domain "From" "example.org" { fileinto "from${n}"; } }',
    );
    expect(got).toEqual(['html.x', 'from.x', 'html.xx', 'html.xxxx', 'disp.xxxxx', 'from.xxxxxxx'].map((s) => s.replace('.', '')));
  });

  it('header :mime decodes RFC 2047 words in part headers and in parameters', () => {
    const msg = 'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/pdf; name="=?utf-8?q?r=C3=A9sum=C3=A9.pdf?="\nContent-Description: =?utf-8?q?caf=C3=A9?=\n\nx\n--b--\n';
    expect(holds('header :mime :anychild :param "name" "Content-Type" "résumé.pdf"', msg)).toBe(true);
    expect(holds('header :mime :anychild "Content-Description" "café"', msg)).toBe(true);
  });

  it('match variables come from the matching part', () => {
    expect(folders('if header :mime :anychild :param "filename" :matches "Content-Disposition" "*.pdf" { fileinto "f.${1}"; }')).toEqual(['f.x']);
  });
});

describe('RFC 5703 §7: extracttext', () => {
  it('sets the variable to the decoded text of the current part, :first characters (not octets), modifiers', () => {
    const got = folders(
      'set "n" ""; foreverypart { set "n" "${n}x"; extracttext :first 6 "t"; extracttext :upper "u"; if string :is "${t}" "" { } else { fileinto "${n}.${t}|${u}"; } }',
    );
    expect(got).toEqual(['xxx.café a|CAFé AU LAIT', 'xxxx.Hello |HELLO WORLD & CO ', 'xxxxxxx.inner |INNER BODY']);
  });

  it('a non-text part gives the empty string', () => {
    expect(folders('foreverypart { if header :mime :subtype "Content-Type" "pdf" { set "t" "before"; extracttext "t"; fileinto "t${t}x"; } }')).toEqual(['tx']);
  });
});

describe('RFC 5703: compile-time rules', () => {
  it.each<[string, RegExp]>([
    ['require "foreverypart"; break;', /break is only allowed inside a foreverypart loop/],
    ['require "foreverypart"; foreverypart :name "a" { break :name "b"; }', /no enclosing foreverypart loop has that name/],
    ['require "foreverypart"; foreverypart { foreverypart { foreverypart { foreverypart { foreverypart { } } } } }', /nest at most 4 deep/],
    ['require ["variables", "foreverypart", "extracttext"]; extracttext "t";', /only allowed inside a foreverypart loop/],
    ['require ["foreverypart", "extracttext"]; foreverypart { extracttext "t"; }', /needs require "variables" and "foreverypart"/],
    ['require ["variables", "foreverypart", "extracttext"]; foreverypart { extracttext "1x"; }', /invalid variable name/],
    ['require "mime"; if header :type "Content-Type" "text" { }', /:type of the header test needs :mime/],
    ['require "mime"; if header :anychild "Content-Type" "text" { }', /:anychild of the header test needs :mime/],
    ['require "mime"; if header :mime :type :subtype "Content-Type" "text" { }', /conflicts/],
    ['require "mime"; if address :mime :type "From" "x" { }', /unknown tag :type/],
    ['if header :mime "Content-Type" "text" { }', /needs require "mime"/],
    ['require "foreverypart"; if exists :mime "x" { }', /needs require "mime"/],
    ['foreverypart { }', /needs require "foreverypart"/],
  ])('%s', (script, error) => {
    expect(compileErrors(script).join('\n')).toMatch(error);
  });

  it.each([
    'require "foreverypart"; foreverypart { foreverypart { foreverypart { foreverypart { break; } } } }',
    'require "foreverypart"; foreverypart :name "a" { foreverypart :name "a" { break :name "a"; } }',
    'require ["mime", "foreverypart"]; foreverypart { if exists :mime :anychild "Content-Type" { break; } }',
  ])('compiles: %s', (script) => {
    expect(compileErrors(script)).toEqual([]);
  });
});

describe('runtime', () => {
  it('a script whose loop exceeds the step budget keeps the mail (RFC 5228 §2.10.6)', () => {
    const p = run(`${REQ}foreverypart { foreverypart { foreverypart { fileinto "x"; } } }`, NESTED, {
      limits: { maxRedirects: 4, vacationMinDays: 1, vacationMaxDays: 60, maxCpuSteps: 30 },
    });
    expect(p.errors.length).toBe(1);
    expect(targets(p)).toEqual(['keep (implicit)']);
  });

  it('the pipeline reads the body only for foreverypart or :anychild; top-level :mime needs only the header', () => {
    expect(scriptReadsParts([compile(`${REQ}if header :mime :type "Content-Type" "multipart" { }`)])).toBe(false);
    expect(scriptReadsParts([compile(`${REQ}if not header :mime :anychild :type "Content-Type" "image" { }`)])).toBe(true);
    expect(scriptReadsParts([compile(`${REQ}if true { foreverypart { } }`)])).toBe(true);
    const full = message(NESTED);
    const headerOnly = new SieveMessage(full.fields, full.size, (v) => v);
    const top = evaluateSieve([compile(`${REQ}if header :mime :type "Content-Type" "multipart" { fileinto "m"; }`)], headerOnly, env());
    expect(targets(top)).toEqual(['fileinto m']);
    const loop = evaluateSieve([compile(`${REQ}foreverypart { fileinto "m"; }`)], headerOnly, env());
    expect(loop.errors[0]).toMatch(/body is not available/);
    expect(targets(loop)).toEqual(['keep (implicit)']);
  });
});
