/**
 * The Sieve syntax tree (RFC 5228 §8). The parser builds it generically; the
 * validator (validate.ts) checks every command and test against its spec and
 * fills `tags` and `positional`, so the evaluator reads arguments by name.
 * Pure: types only.
 */

/** 1-based line and column of the first character of a token. */
export interface Pos {
  line: number;
  column: number;
}

export interface StringLit {
  kind: 'string';
  /** Escapes removed (quoted) or dot-unstuffed (text:), encoded-character already decoded; ${...} variables NOT expanded. */
  value: string;
  pos: Pos;
}

export type Arg =
  | { kind: 'tag'; name: string; pos: Pos } // `:Is` → 'is' (lower-cased, no colon)
  | { kind: 'number'; value: number; pos: Pos } // K/M/G already applied
  | StringLit
  | { kind: 'list'; items: StringLit[]; pos: Pos };

interface NodeBase {
  /** Lower-cased identifier. */
  name: string;
  /** Arguments as written, in order. */
  args: Arg[];
  pos: Pos;
  /** Filled by validate.ts: tagged arguments by tag name (value, or true for a tag without one). */
  tags: Record<string, Arg | true>;
  /** Filled by validate.ts: the positional arguments, in order. */
  positional: Arg[];
  /**
   * Where the `(` was when the sub-tests came as a test-list (RFC 5228 §8.2), else null.
   * Lets the validator tell `allof (a, b)` from `allof a`, and `not (a)` from `not a`.
   */
  testList: Pos | null;
}

export interface TestNode extends NodeBase {
  kind: 'test';
  /** allof/anyof: the test list; not: one test. */
  tests: TestNode[];
}

export interface CommandNode extends NodeBase {
  kind: 'command';
  /** if/elsif: the condition (for a test-list written after a command: its first test; the validator refuses it). */
  test: TestNode | null;
  /** if/elsif/else: the block. */
  block: CommandNode[] | null;
}

export interface Script {
  /** The file name (for error messages: file:line:column). */
  source: string;
  commands: CommandNode[];
  /** Capabilities named by `require`. */
  capabilities: Set<string>;
}

/** A compile error at a position. */
export interface SieveError {
  source: string;
  line: number;
  column: number;
  message: string;
}

export const formatSieveError = (e: SieveError): string => `${e.source}:${e.line}:${e.column}: ${e.message}`;
