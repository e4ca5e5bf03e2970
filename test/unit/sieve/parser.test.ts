import { describe, expect, it } from 'vitest';
import type { CommandNode, Script, SieveError } from '../../../src/sieve/ast.js';
import { DEFAULT_PARSE_LIMITS, parseSieve, type ParseLimits } from '../../../src/sieve/parser.js';

function parse(text: string): Script {
  const r = parseSieve(text, 't.sieve');
  if ('errors' in r) throw new Error(r.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('\n'));
  return r.script;
}

function errors(text: string, limits: Partial<ParseLimits> = {}): string[] {
  const r = parseSieve(text, 't.sieve', limits);
  return 'errors' in r ? r.errors.map((e: SieveError) => `${e.line}:${e.column} ${e.message}`) : [];
}

/** A compact view of a command tree: name(args){block} with tests in [..]. */
function shape(cmds: CommandNode[]): string {
  const args = (n: CommandNode['args']): string =>
    n.map((a) => (a.kind === 'tag' ? `:${a.name}` : a.kind === 'number' ? String(a.value) : a.kind === 'string' ? JSON.stringify(a.value) : `[${a.items.map((i) => JSON.stringify(i.value)).join(',')}]`)).join(' ');
  const test = (t: NonNullable<CommandNode['test']>): string =>
    `${t.name}(${args(t.args)})${t.tests.length ? `${t.testList ? '(' : '<'}${t.tests.map(test).join(', ')}${t.testList ? ')' : '>'}` : ''}`;
  return cmds.map((c) => `${c.name}(${args(c.args)})${c.test ? `[${test(c.test)}]` : ''}${c.block ? `{${shape(c.block)}}` : ''}`).join(' ');
}

describe('grammar (RFC 5228 §8.2)', () => {
  it.each([
    ['empty script', '', ''],
    ['comments only', '# nothing\n/* at all */\n', ''],
    ['a command', 'keep;', 'keep()'],
    ['arguments of every kind', 'x :tag "s" 12K ["a", "b"] text:\nt\n.\n;', 'x(:tag "s" 12288 ["a","b"] "t\\r\\n")'],
    ['a one-string list', 'x ["a"];', 'x(["a"])'],
    ['if / elsif / else', 'if true { keep; } elsif false { stop; } else { discard; }', 'if()[true()]{keep()} elsif()[false()]{stop()} else(){discard()}'],
    ['an empty block', 'if true {}', 'if()[true()]{}'],
    ['a test list', 'if anyof (true, false) {}', 'if()[anyof()(true(), false())]{}'],
    ['a single test given to a test', 'if not exists "x" {}', 'if()[not()<exists("x")>]{}'],
    ['a test-list with one test', 'if not (true) {}', 'if()[not()(true())]{}'],
    ['a test-list after a command', 'if (true, false) {}', 'if()[true()]{}'],
    ['nested blocks', 'if true { if false { stop; } keep; }', 'if()[true()]{if()[false()]{stop()} keep()}'],
    ['a test after a command is still grammar (validate.ts refuses it)', 'keep true;', 'keep()[true()]'],
    [
      'RFC 5228 §2.5.1 example',
      'if anyof (not exists ["From", "Date"],\n    header :contains "from" "fool@example.com") {\n   discard;\n}',
      'if()[anyof()(not()<exists(["From","Date"])>, header(:contains "from" "fool@example.com"))]{discard()}',
    ],
  ])('%s', (_name, text, want) => {
    expect(shape(parse(text).commands)).toBe(want);
  });

  it('records positions of nodes and arguments', () => {
    const s = parse('require "fileinto";\nif header :is\n  "Subject" ["a",\n "b"] {\n\tfileinto "x";\n}');
    const [req, ifc] = s.commands;
    expect(req!.pos).toEqual({ line: 1, column: 1 });
    expect(req!.args[0]!.pos).toEqual({ line: 1, column: 9 });
    expect(ifc!.pos).toEqual({ line: 2, column: 1 });
    const h = ifc!.test!;
    expect(h.pos).toEqual({ line: 2, column: 4 });
    expect(h.args.map((a) => a.pos)).toEqual([{ line: 2, column: 11 }, { line: 3, column: 3 }, { line: 3, column: 13 }]);
    const list = h.args[2]!;
    expect(list.kind === 'list' && list.items.map((i) => i.pos)).toEqual([{ line: 3, column: 14 }, { line: 4, column: 2 }]);
    expect(ifc!.block![0]!.pos).toEqual({ line: 5, column: 2 });
  });

  it('records where a test-list starts', () => {
    const t = parse('if allof ( true ) {}').commands[0]!.test!;
    expect(t.testList).toEqual({ line: 1, column: 10 });
    expect(parse('if not true {}').commands[0]!.test!.testList).toBeNull();
  });

  it('leaves tags, positional and capabilities for the validator', () => {
    const s = parse('require "x"; keep :a "b";');
    expect(s.capabilities.size).toBe(0);
    expect(s.commands[1]).toMatchObject({ tags: {}, positional: [] });
    expect(s.source).toBe('t.sieve');
  });
});

describe('syntax errors with exact positions', () => {
  it.each([
    ['missing semicolon at the end', 'keep', ["1:5 expected ';' or '{' after the keep command, found the end of the script"]],
    ['missing semicolon before }', 'if true { keep }', ["1:16 expected ';' or '{' after the keep command, found '}'"]],
    ['a stray semicolon', 'keep;\n;', ["2:1 expected a command, found ';'"]],
    ['a string where a command belongs', '"x";', ['1:1 expected a command, found string "x"']],
    ['an extra }', 'if true { keep; }\n}', ["2:1 unexpected '}': no block is open here"]],
    ['a missing }', 'if true {\n  keep;\n', ["3:1 missing '}' for the block opened at line 1, column 9"]],
    ['an empty string list', 'require [];', ["1:10 expected a string after '[' (a string list cannot be empty), found ']'"]],
    ['a trailing comma in a string list', 'x ["a", ];', ["1:9 expected a string after ',', found ']'"]],
    ['a number in a string list', 'x ["a", 1];', ["1:9 expected a string after ',', found number 1"]],
    ['an unclosed string list', 'x ["a" "b"];', ["1:8 expected ',' or ']' in the string list opened at line 1, column 3, found string \"b\""]],
    ['an empty test list', 'if anyof () {}', ["1:11 expected a test, found ')'"]],
    ['a trailing comma in a test list', 'if anyof (true, ) {}', ["1:17 expected a test, found ')'"]],
    ['an unclosed test list', 'if anyof (true {}', ["1:16 expected ',' or ')' in the test list opened at line 1, column 10, found '{'"]],
    ['a number where a test belongs', 'if anyof (1) {}', ['1:11 expected a test, found number 1']],
    ['a second test list', 'if (true) (false) {}', ["1:11 expected ';' or '{' after the if command, found '('"]],
    ['lexical errors come through', 'keep;\n@', ["2:1 unexpected character '@'"]],
    ['an unterminated string is not repeated as "unexpected end"', 'if header "a', ['1:11 unterminated string: this " has no closing "']],
  ])('%s', (_name, text, want) => {
    expect(errors(text)).toEqual(want);
  });

  it('recovers after an error and reports the next ones (Pigeonhole parser.sieve)', () => {
    const text = ['frop :this "is" 2 ["a"] {', '  stop;', '}', 'friep $$$;', 'keep ]', 'stop;', 'if anyof (true,) { keep; }', 'frop $$$$;', 'x [;'].join('\n');
    expect(errors(text)).toEqual([
      "4:7 unexpected character '$'",
      "5:6 expected ';' or '{' after the keep command, found ']'",
      "7:16 expected a test, found ')'",
      "8:6 unexpected character '$'",
      "9:4 expected a string after '[' (a string list cannot be empty), found ';'",
    ]);
  });

  it('stops after maxErrors errors', () => {
    const text = Array.from({ length: 30 }, () => '@').join('\nkeep;\n');
    expect(errors(text)).toHaveLength(10);
    expect(errors(text, { maxErrors: 3 })).toHaveLength(3);
  });
});

const nestedIfs = (n: number): string => `${'if true { '.repeat(n)}stop;${' }'.repeat(n)}`;
const nestedNots = (n: number): string => `if ${'not '.repeat(n)}false { stop; }`;
const nestedAnyofs = (n: number): string => `if ${'anyof ('.repeat(n)}true${')'.repeat(n)} { stop; }`;

describe('nesting limits (RFC 5228 §2.10.7: at least 15 levels)', () => {
  it.each([
    ['blocks', nestedIfs],
    ['not tests', nestedNots],
    ['test lists', nestedAnyofs],
  ])('15 and 32 levels of %s compile', (_name, make) => {
    // make(n) nests n blocks, or n + 1 tests (the innermost true/false is a level too)
    const blocks = make === nestedIfs;
    expect(errors(make(blocks ? 15 : 14))).toEqual([]);
    expect(errors(make(blocks ? 32 : 31))).toEqual([]);
  });

  it.each([
    ['blocks', nestedIfs(33), ['1:329 blocks are nested too deeply: the limit is 32 levels']],
    ['not tests', nestedNots(32), ['1:132 tests are nested too deeply: the limit is 32 levels']],
    ['test lists', nestedAnyofs(32), ['1:228 tests are nested too deeply: the limit is 32 levels']],
  ])('one level too many %s is refused at the offending token', (_name, text, want) => {
    expect(errors(text)).toEqual(want);
  });

  it('the limits are parameters', () => {
    expect(errors(nestedIfs(5), { maxBlockDepth: 4 })).toEqual(['1:49 blocks are nested too deeply: the limit is 4 levels']);
    expect(errors(nestedIfs(40), { maxBlockDepth: 64 })).toEqual([]);
    expect(errors(nestedNots(4), { maxTestDepth: 4 })).toEqual(['1:20 tests are nested too deeply: the limit is 4 levels']);
  });

  it.each([
    ['ifs', nestedIfs],
    ['nots', nestedNots],
    ['anyofs', nestedAnyofs],
  ])('absurd depth (10,000 nested %s) is refused quickly, without a stack overflow', (_name, make) => {
    for (const n of [1000, 10_000]) {
      const started = performance.now();
      let out: string[] = [];
      expect(() => (out = errors(make(n)))).not.toThrow();
      expect(performance.now() - started).toBeLessThan(2000);
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(/nested too deeply: the limit is 32 levels$/);
    }
  });

  it('keeps parsing after a too-deep block', () => {
    expect(errors(`${nestedIfs(40)}\nkeep\n`)).toEqual([
      '1:329 blocks are nested too deeply: the limit is 32 levels',
      "3:1 expected ';' or '{' after the keep command, found the end of the script",
    ]);
  });
});

describe('size limits', () => {
  it('refuses a script over maxScriptBytes (counted in UTF-8 bytes)', () => {
    expect(errors('keep;'.repeat(10), { maxScriptBytes: 49 })).toEqual(['1:1 script is too large: 50 bytes (the limit is 49)']);
    expect(errors('"é";', { maxScriptBytes: 4 })).toEqual(['1:1 script is too large: 5 bytes (the limit is 4)']);
    expect(errors('keep;'.repeat(10), { maxScriptBytes: 50 })).toEqual([]);
  });

  it('the default is 1 MiB', () => {
    expect(DEFAULT_PARSE_LIMITS.maxScriptBytes).toBe(1024 * 1024);
    expect(errors(`#${'x'.repeat(1024 * 1024)}`)).toEqual(['1:1 script is too large: 1048577 bytes (the limit is 1048576)']);
  });

  it('refuses more than maxCommands commands', () => {
    expect(errors('keep;\n'.repeat(11), { maxCommands: 10 })).toEqual(['11:1 too many commands: the limit is 10 per script']);
    expect(errors('keep;'.repeat(10_000))).toEqual([]);
    expect(errors('keep;'.repeat(10_001))).toEqual(['1:50001 too many commands: the limit is 10000 per script']);
  });
});
