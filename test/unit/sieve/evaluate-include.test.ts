/**
 * Evaluation of include, return and global (RFC 6609) over scripts given by name, as the loader
 * would hand them over: table-driven, each case the main script, the scripts it may include and
 * what the plan must hold.
 */
import { describe, expect, it } from 'vitest';
import type { Script } from '../../../src/sieve/ast.js';
import { evaluateSieve } from '../../../src/sieve/evaluate.js';
import type { IncludeLookup } from '../../../src/sieve/evaluate-include.js';
import type { SievePlan } from '../../../src/sieve/plan.js';
import { compile, DEFAULT_MESSAGE, env, message, targets } from '../../helpers/sieve.js';

type Scripts = Record<string, string>; // "personal:name" / "global:name" → text; "error:name" → a compile error

function runWith(main: string, scripts: Scripts): SievePlan {
  const compiled = new Map<string, Script>();
  for (const [k, text] of Object.entries(scripts)) if (!k.startsWith('error:')) compiled.set(k, compile(text, `${k}.sieve`));
  const includes = (location: 'personal' | 'global', name: string): IncludeLookup => {
    const key = `${location}:${name}`;
    if (Object.hasOwn(scripts, `error:${name}`)) return { kind: 'error', message: `${name}.sieve:1:1: unknown command 'bogus'` };
    const s = compiled.get(key);
    return s ? { kind: 'script', script: s } : { kind: 'missing' };
  };
  return evaluateSieve([compile(main, 'main.sieve')], message(DEFAULT_MESSAGE), env({ includes }), { traceTests: true });
}

const R = 'require ["include", "fileinto", "variables"];\n';

interface Case {
  title: string;
  main: string;
  scripts?: Scripts;
  want: string[];
  /** A runtime error is expected, matching this. */
  error?: RegExp;
}

const CASES: Case[] = [
  { title: 'RFC 6609 §3.2: the included script runs where include is', main: `${R}include "a";\nfileinto "M";`, scripts: { 'personal:a': 'require "fileinto"; fileinto "A";' }, want: ['fileinto A', 'fileinto M'] },
  { title: 'RFC 6609 §3.1: an action in an included script cancels the implicit keep', main: `${R}include "a";`, scripts: { 'personal:a': 'require "fileinto"; fileinto "A";' }, want: ['fileinto A'] },
  { title: 'RFC 6609 §3.1: keep in an included script is the explicit keep', main: `${R}include "a"; discard;`, scripts: { 'personal:a': 'keep;' }, want: ['keep'] },
  { title: 'RFC 6609 §3.2: :personal is the default, :global is another place', main: `${R}include "a";\ninclude :global "a";\ninclude :personal "b";`, scripts: { 'personal:a': 'require "fileinto"; fileinto "P";', 'global:a': 'require "fileinto"; fileinto "G";', 'personal:b': 'require "fileinto"; fileinto "B";' }, want: ['fileinto P', 'fileinto G', 'fileinto B'] },
  { title: 'RFC 6609 §3.2: :optional skips a missing script', main: `${R}include :optional "gone";\nfileinto "M";`, want: ['fileinto M'] },
  { title: 'RFC 6609 §3.2: a missing script is a runtime error: every action cancelled, implicit keep', main: `${R}fileinto "Before";\ninclude "gone";\nfileinto "M";`, want: ['keep (implicit)'], error: /main\.sieve:3:1: include: the personal script "gone" does not exist \(RFC 6609 §3\.2\)/ },
  { title: 'RFC 6609 §3.2: a missing global script is a runtime error', main: `${R}include :global "gone";`, want: ['keep (implicit)'], error: /global script "gone" does not exist/ },
  { title: 'RFC 6609 §3.2: a missing script in a branch not taken is no error', main: `${R}if false { include "gone"; }\nfileinto "M";`, want: ['fileinto M'] },
  { title: 'RFC 6609 §3.2: an included script that does not compile is a runtime error', main: `${R}include :optional "bad";`, scripts: { 'error:bad': '' }, want: ['keep (implicit)'], error: /bad\.sieve:1:1: unknown command 'bogus'/ },
  { title: 'RFC 6609 §3.2: a recursive include is a runtime error', main: `${R}include "a";`, scripts: { 'personal:a': 'require "include"; include "b";', 'personal:b': 'require "include"; include "a";' }, want: ['keep (implicit)'], error: /recursive/ },
  { title: 'RFC 6609 §3.2: include :once of a script being run is no error and no second run', main: `${R}include "a";\nfileinto "M";`, scripts: { 'personal:a': 'require ["include", "fileinto"]; fileinto "A"; include :once "a";' }, want: ['fileinto A', 'fileinto M'] },
  {
    title: 'RFC 6609 §3.2: without :once a script runs each time it is included; with :once only the first time',
    main: `${R}global "n";\ninclude "inc";\ninclude "inc";\ninclude :once "inc";\nfileinto "n\${n}";`,
    scripts: { 'personal:inc': 'require ["include", "variables"]; global "n"; set "n" "${n}x";' },
    want: ['fileinto nxx'],
  },
  { title: 'RFC 6609 §3.2: :once after a plain include of the same script does not run it again', main: `${R}global "n";\ninclude "inc";\ninclude :once "inc";\nfileinto "n\${n}";`, scripts: { 'personal:inc': 'require ["include", "variables"]; global "n"; set "n" "${n}x";' }, want: ['fileinto nx'] },
  { title: 'RFC 6609 §3.3: return ends the included script only', main: `${R}include "a";\nfileinto "M";`, scripts: { 'personal:a': 'require ["include", "fileinto"]; fileinto "A"; return; fileinto "Never";' }, want: ['fileinto A', 'fileinto M'] },
  { title: 'RFC 6609 §3.3: return in the main script is stop', main: `${R}fileinto "A";\nreturn;\nfileinto "Never";`, want: ['fileinto A'] },
  { title: 'RFC 6609 §3.3: return in the main script keeps the implicit keep', main: `${R}return;\nfileinto "Never";`, want: ['keep (implicit)'] },
  { title: 'RFC 5228 §3.3 with RFC 6609 §3.1: stop in an included script ends every script', main: `${R}include "a";\nfileinto "M";`, scripts: { 'personal:a': 'stop;' }, want: ['keep (implicit)'] },
  {
    title: 'RFC 6609 §3.4: a global variable is shared, a local one is not',
    main: `${R}global "x";\nset "x" "one";\nset "y" "main";\ninclude "g";\nfileinto "\${x}-\${y}";`,
    scripts: { 'personal:g': 'require ["include", "variables", "fileinto"]; global "x"; fileinto "in-${x}-${y}"; set "x" "two"; set "y" "local";' },
    want: ['fileinto in-one-', 'fileinto two-main'],
  },
  {
    title: 'RFC 6609 §5: ${global.x} reads a global variable without declaring it',
    main: `${R}global "x";\nset "x" "one";\ninclude "g";\nfileinto "\${global.back}";`,
    scripts: { 'personal:g': 'require ["include", "variables", "fileinto"]; fileinto "in-${global.x}"; set "global.back" "b";' },
    want: ['fileinto in-one', 'fileinto b'],
  },
  { title: 'RFC 6609 §3.4: a global variable set before the include is seen by a later include', main: `${R}global "x";\ninclude "g";\nset "x" "later";\ninclude "g";`, scripts: { 'personal:g': 'require ["include", "variables", "fileinto"]; global "x"; fileinto "got-${x}";' }, want: ['fileinto got-', 'fileinto got-later'] },
  { title: 'RFC 6609 §3.1: match variables are the including script\'s own', main: `${R}if header :matches "subject" "Hello *" { include "m"; fileinto "\${1}"; }`, scripts: { 'personal:m': 'require ["variables", "fileinto"]; fileinto "m${1}";' }, want: ['fileinto m', 'fileinto there'] },
];

describe('include evaluation (RFC 6609)', () => {
  it.each(CASES.map((c) => [c.title, c] as const))('%s', (_t, c) => {
    const plan = runWith(c.main, c.scripts ?? {});
    expect(targets(plan)).toEqual(c.want);
    if (c.error) expect(plan.errors.join('\n')).toMatch(c.error);
    else expect(plan.errors).toEqual([]);
  });

  it('RFC 6609 §3.2: nesting deeper than 10 includes is a runtime error (Pigeonhole max_include_depth)', () => {
    const chain = (n: number): Scripts => {
      const s: Scripts = {};
      for (let i = 1; i <= n; i++) s[`personal:s${i}`] = i < n ? `require "include"; include "s${i + 1}";` : 'require "fileinto"; fileinto "Deep";';
      return s;
    };
    expect(targets(runWith(`${R}include "s1";`, chain(10)))).toEqual(['fileinto Deep']);
    const deep = runWith(`${R}include "s1";`, chain(11));
    expect(targets(deep)).toEqual(['keep (implicit)']);
    expect(deep.errors.join()).toMatch(/nested more than 10 deep/);
  });

  it('RFC 6609 §3.2: more than 255 distinct included scripts is a runtime error (Pigeonhole max_includes)', () => {
    const many = (n: number): [string, Scripts] => {
      const s: Scripts = {};
      let main = R;
      for (let i = 0; i < n; i++) {
        s[`personal:i${i}`] = 'keep;';
        main += `include "i${i}";\n`;
      }
      return [main, s];
    };
    expect(runWith(...many(255)).errors).toEqual([]);
    const over = runWith(...many(256));
    expect(over.errors.join()).toMatch(/more than 255 scripts/);
  });

  it('RFC 6609 §3.2: without an include source (no directories configured) an include is missing', () => {
    const plan = evaluateSieve([compile(`${R}include "a";`, 'main.sieve')], message(DEFAULT_MESSAGE), env());
    expect(plan.errors.join()).toMatch(/personal script "a" does not exist/);
  });
});
