/**
 * The Sieve parser (RFC 5228 §8.2 grammar): tokens → Script (ast.ts). Generic: it does not know
 * which commands exist (validate.ts does). Enforces the size, nesting and command-count limits with
 * explicit depth counters, so no script can overflow the stack, and recovers after an error to
 * report several. Pure: no I/O.
 */
import type { Arg, CommandNode, Pos, Script, SieveError, StringLit, TestNode } from './ast.js';
import { tokenize, type Token } from './lexer.js';

export interface ParseLimits {
  /** Largest script in UTF-8 bytes (Pigeonhole's default sieve_max_script_size is 1 MiB too). */
  maxScriptBytes: number;
  /** Deepest nesting of blocks `{ }`; RFC 5228 §2.10.7 requires at least 15. */
  maxBlockDepth: number;
  /** Deepest nesting of tests (`not`, `allof (...)`); RFC 5228 §2.10.7 requires at least 15. */
  maxTestDepth: number;
  /** Most commands in one script (tests not counted). */
  maxCommands: number;
  /** Errors reported before giving up (Pigeonhole stops after some too). */
  maxErrors: number;
}

/** 32 levels, as Pigeonhole: room for any real script, and small enough that recursion stays shallow. */
export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = {
  maxScriptBytes: 1024 * 1024,
  maxBlockDepth: 32,
  maxTestDepth: 32,
  maxCommands: 10_000,
  maxErrors: 10,
};

export type ParseResult = { script: Script } | { errors: SieveError[] };

export function parseSieve(text: string, source: string, limits: Partial<ParseLimits> = {}): ParseResult {
  const lim: ParseLimits = { ...DEFAULT_PARSE_LIMITS, ...limits };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > lim.maxScriptBytes) {
    return { errors: [{ source, line: 1, column: 1, message: `script is too large: ${bytes} bytes (the limit is ${lim.maxScriptBytes})` }] };
  }
  const lex = tokenize(text);
  const p = new Parser(lex.tokens, source, lim, lex.errors.some((e) => e.fatal));
  for (const e of lex.errors) p.errors.push({ source, line: e.line, column: e.column, message: e.message });
  const commands = p.parseScript();
  if (p.errors.length > 0) {
    const sorted = [...p.errors].sort((a, b) => a.line - b.line || a.column - b.column);
    return { errors: sorted.slice(0, lim.maxErrors) };
  }
  return { script: { source, commands, capabilities: new Set() } };
}

/** Unwinds to the command being parsed, which then skips to its end. */
class Recover extends Error {}
/** Stops parsing altogether (too many errors or commands). */
class Abort extends Error {}

/** How a token is named in messages. */
function describeToken(t: Token): string {
  switch (t.kind) {
    case 'identifier':
      return `'${t.raw}'`;
    case 'tag':
      return `tag ${t.raw}`;
    case 'number':
      return `number ${t.raw}`;
    case 'string': {
      const v = t.value.length > 20 ? `${t.value.slice(0, 20)}...` : t.value;
      return `string ${JSON.stringify(v)}`;
    }
    case 'eof':
      return 'the end of the script';
    default:
      return `'${t.kind}'`;
  }
}

const at = (p: Pos): string => `line ${p.line}, column ${p.column}`;

class Parser {
  readonly errors: SieveError[] = [];
  private i = 0;
  private commandCount = 0;

  constructor(
    private readonly toks: Token[],
    private readonly source: string,
    private readonly lim: ParseLimits,
    /** After a fatal lexer error the token stream just stops: "unexpected end" would only repeat it. */
    private readonly lexFatal: boolean,
  ) {}

  parseScript(): CommandNode[] {
    const commands: CommandNode[] = [];
    try {
      if (this.errors.length >= this.lim.maxErrors) throw new Abort();
      for (;;) {
        commands.push(...this.parseCommands(0));
        const t = this.peek();
        if (t.kind === 'eof') break;
        this.fail(t, "unexpected '}': no block is open here");
        this.next();
      }
    } catch (e) {
      if (!(e instanceof Abort)) throw e;
    }
    return commands;
  }

  private peek(): Token {
    return this.toks[this.i]!;
  }

  /** Consumes the current token; the final eof token is never passed. */
  private next(): Token {
    const t = this.toks[this.i]!;
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private fail(t: Token | Pos, message: string): void {
    const pos = 'line' in t ? t : t.pos;
    if ('kind' in t && t.kind === 'eof' && this.lexFatal) return;
    if (this.errors.some((e) => e.line === pos.line && e.column === pos.column)) return; // one error per spot
    this.errors.push({ source: this.source, line: pos.line, column: pos.column, message });
    if (this.errors.length >= this.lim.maxErrors) throw new Abort();
  }

  /** commands = *command, up to '}' or the end. `level` = number of enclosing blocks. */
  private parseCommands(level: number): CommandNode[] {
    const out: CommandNode[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'identifier') {
        out.push(this.parseCommand(t, level));
      } else if (t.kind === 'eof' || t.kind === '}') {
        return out;
      } else {
        this.fail(t, `expected a command, found ${describeToken(t)}`);
        this.recoverCommand();
      }
    }
  }

  /** command = identifier arguments (";" / block) */
  private parseCommand(name: Token & { kind: 'identifier' }, level: number): CommandNode {
    this.next();
    if (++this.commandCount > this.lim.maxCommands) {
      this.fail(name, `too many commands: the limit is ${this.lim.maxCommands} per script`);
      throw new Abort();
    }
    const node: CommandNode = {
      kind: 'command', name: name.name, args: [], pos: name.pos, tags: {}, positional: [], testList: null, test: null, block: null,
    };
    try {
      this.parseArguments(node, 0);
      const t = this.peek();
      if (t.kind === ';') this.next();
      else if (t.kind === '{') node.block = this.parseBlock(level + 1);
      else {
        this.fail(t, `expected ';' or '{' after the ${name.raw} command, found ${describeToken(t)}`);
        this.recoverCommand();
      }
    } catch (e) {
      if (!(e instanceof Recover)) throw e;
      this.recoverCommand();
    }
    return node;
  }

  /** block = "{" commands "}" */
  private parseBlock(level: number): CommandNode[] {
    const open = this.next();
    if (level > this.lim.maxBlockDepth) {
      this.fail(open, `blocks are nested too deeply: the limit is ${this.lim.maxBlockDepth} levels`);
      this.skipBlockRest(open);
      return [];
    }
    const body = this.parseCommands(level);
    const close = this.peek();
    if (close.kind === '}') this.next();
    else this.fail(close, `missing '}' for the block opened at ${at(open.pos)}`);
    return body;
  }

  /** arguments = *argument [ test / test-list ]; `depth` = the node's own test depth (0 for a command). */
  private parseArguments(node: CommandNode | TestNode, depth: number): void {
    for (;;) {
      const t = this.peek();
      if (t.kind === 'string') node.args.push(this.stringLit(t));
      else if (t.kind === 'number') node.args.push({ kind: 'number', value: t.value, pos: t.pos });
      else if (t.kind === 'tag') node.args.push({ kind: 'tag', name: t.name, pos: t.pos });
      else if (t.kind === '[') {
        node.args.push(this.parseStringList());
        continue;
      } else break;
      this.next();
    }
    const t = this.peek();
    let tests: TestNode[];
    if (t.kind === 'identifier') {
      tests = [this.parseTest(depth + 1)];
    } else if (t.kind === '(') {
      // test-list = "(" test *("," test) ")"
      this.next();
      tests = [this.parseTest(depth + 1)];
      while (this.peek().kind === ',') {
        this.next();
        tests.push(this.parseTest(depth + 1));
      }
      const close = this.peek();
      if (close.kind !== ')') {
        this.fail(close, `expected ',' or ')' in the test list opened at ${at(t.pos)}, found ${describeToken(close)}`);
        throw new Recover();
      }
      this.next();
      node.testList = t.pos;
    } else {
      return;
    }
    if (node.kind === 'test') node.tests = tests;
    else node.test = tests[0] ?? null; // a command with a test-list: the validator refuses it
  }

  /** test = identifier arguments */
  private parseTest(depth: number): TestNode {
    const t = this.peek();
    if (t.kind !== 'identifier') {
      this.fail(t, `expected a test, found ${describeToken(t)}`);
      throw new Recover();
    }
    if (depth > this.lim.maxTestDepth) {
      this.fail(t, `tests are nested too deeply: the limit is ${this.lim.maxTestDepth} levels`);
      throw new Recover();
    }
    this.next();
    const node: TestNode = { kind: 'test', name: t.name, args: [], pos: t.pos, tags: {}, positional: [], testList: null, tests: [] };
    this.parseArguments(node, depth);
    return node;
  }

  /** string-list = "[" string *("," string) "]" (a single string needs no brackets) */
  private parseStringList(): Arg {
    const open = this.next();
    const items: StringLit[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'string') {
        const what = items.length === 0 ? "after '[' (a string list cannot be empty)" : "after ','";
        this.fail(t, `expected a string ${what}, found ${describeToken(t)}`);
        throw new Recover();
      }
      this.next();
      items.push(this.stringLit(t));
      const sep = this.peek();
      if (sep.kind === ']') break;
      if (sep.kind !== ',') {
        this.fail(sep, `expected ',' or ']' in the string list opened at ${at(open.pos)}, found ${describeToken(sep)}`);
        throw new Recover();
      }
      this.next();
    }
    this.next();
    return { kind: 'list', items, pos: open.pos };
  }

  private stringLit(t: Token & { kind: 'string' }): StringLit {
    return { kind: 'string', value: t.value, pos: t.pos };
  }

  /**
   * After an error inside a command: skip to its end, i.e. past the next ';', past the block
   * that starts at the next '{', or up to the '}' that closes the enclosing block.
   */
  private recoverCommand(): void {
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof' || t.kind === '}') return;
      if (t.kind === '{') {
        this.skipBlockRest(this.next());
        return;
      }
      this.next();
      if (t.kind === ';') return;
    }
  }

  /** Skips a block whose '{' was just consumed, counting braces: linear, whatever the depth. */
  private skipBlockRest(open: Token): void {
    let open_ = 1;
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') {
        this.fail(t, `missing '}' for the block opened at ${at(open.pos)}`);
        return;
      }
      if (t.kind === '{') open_++;
      else if (t.kind === '}' && --open_ === 0) return;
    }
  }
}
