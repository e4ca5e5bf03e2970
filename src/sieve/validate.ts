/**
 * validateScript: checks a parsed Script against the spec table (specs.ts): require first and
 * naming only supported capabilities (RFC 5228 §3.2, §2.10.5), every command and test known and
 * enabled, arguments, sub-tests and blocks as specified, elsif/else only after if (§3.1); applies
 * encoded-character (§2.4.2.4) and fills tags/positional. Must not: run anything. Pure.
 */
import type { CommandNode, Pos, Script, SieveError, TestNode } from './ast.js';
import { decodeEncodedCharacters } from './encoded-character.js';
import { compileRegex } from './regex.js';
import { COMMANDS, IMPLIED_CAPABILITIES, SUPPORTED_CAPABILITIES, TESTS, withExtensionTags, type NodeSpec } from './specs.js';
import { label, validateArgs } from './validate-args.js';
import { checkCommand, checkTest, type CheckContext, type RegexCompiler } from './validate-checks.js';
import { checkMimeUse } from './validate-mime.js';
import { ihaveGuard } from './validate-ihave.js';
import { pigeonholeOnlyMessage } from './validate-include.js';

export type { RegexCompiler } from './validate-checks.js';

export interface ValidateOptions {
  /** Checks a :regex key; default: the matching engine's compileRegex (regex.ts), so a script compiles only if delivery can run it. */
  compileRegex?: RegexCompiler;
  /** Errors reported at most (default 10). */
  maxErrors?: number;
  /**
   * Test-only: extra capabilities, commands and tests on top of specs.ts (the Pigeonhole testsuite
   * harness registers vnd.dovecot.testsuite here). Delivery never passes it.
   */
  extraSpecs?: ExtraSpecs;
}

export interface ExtraSpecs {
  capabilities: ReadonlySet<string>;
  commands: Readonly<Record<string, NodeSpec>>;
  tests: Readonly<Record<string, NodeSpec>>;
}

export type ValidateResult = { script: Script } | { errors: SieveError[] };

/** reject and ereject (RFC 5429) refuse mail after delivery has begun, which for mda means a bounce. */
const rejectMessage = (name: string): string =>
  `${name} is not supported: mda never bounces a message after Postfix has accepted it (the bounce would go to a sender that may be forged); use discard, or fileinto a folder`;

const own = <T>(table: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(table, key) ? table[key] : undefined);

export function validateScript(script: Script, opts: ValidateOptions = {}): ValidateResult {
  const v = new Validator(script, opts.compileRegex ?? compileRegex, opts.extraSpecs);
  v.run();
  if (v.errors.length === 0) return { script };
  const sorted = [...v.errors].sort((a, b) => a.line - b.line || a.column - b.column);
  return { errors: sorted.slice(0, opts.maxErrors ?? 10) };
}

class Validator implements CheckContext {
  readonly errors: SieveError[] = [];
  readonly caps = new Set<string>();
  /** A top-level command other than require was seen: a require now comes too late. */
  private seenOther = false;

  constructor(
    private readonly script: Script,
    readonly compileRegex: RegexCompiler,
    private readonly extra?: ExtraSpecs,
  ) {}

  private commandSpec(name: string): NodeSpec | undefined {
    return own(COMMANDS, name) ?? (this.extra ? own(this.extra.commands, name) : undefined);
  }

  private testSpec(name: string): NodeSpec | undefined {
    return own(TESTS, name) ?? (this.extra ? own(this.extra.tests, name) : undefined);
  }

  error(pos: Pos, message: string): void {
    this.errors.push({ source: this.script.source, line: pos.line, column: pos.column, message });
  }

  run(): void {
    // every top-level require counts, even a misplaced one, so its extension's commands add no more errors
    for (const c of this.script.commands) if (c.name === 'require') this.require(c);
    for (const cap of [...this.caps]) for (const implied of own(IMPLIED_CAPABILITIES, cap) ?? []) this.caps.add(implied);
    if (this.caps.has('encoded-character')) this.decodeStrings();
    this.block(this.script.commands, true);
    checkMimeUse(this.script.commands, this); // RFC 5703: loop placement, :mime options
    this.script.capabilities = this.caps;
  }

  private require(c: CommandNode): void {
    validateArgs(c, COMMANDS.require!, this);
    this.structure(c, COMMANDS.require!);
    const caps = c.positional[0];
    const names = caps?.kind === 'string' ? [caps] : caps?.kind === 'list' ? caps.items : [];
    for (const s of names) {
      if (SUPPORTED_CAPABILITIES.has(s.value) || this.extra?.capabilities.has(s.value)) this.caps.add(s.value);
      else if (s.value === 'reject' || s.value === 'ereject') this.error(s.pos, rejectMessage(s.value));
      else if (pigeonholeOnlyMessage(s.value)) this.error(s.pos, pigeonholeOnlyMessage(s.value)!);
      else this.error(s.pos, `unsupported capability ${JSON.stringify(s.value)}: mda supports ${[...SUPPORTED_CAPABILITIES].join(', ')}`);
    }
  }

  /** RFC 5228 §2.4.2.4: decoding happens before anything looks at a string; require's own arguments are not decoded. */
  private decodeStrings(): void {
    const todo: Array<CommandNode | TestNode> = [...this.script.commands];
    for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
      if (n.kind === 'command') {
        if (n.name === 'require') continue;
        if (n.test) todo.push(n.test);
        for (const b of n.block ?? []) todo.push(b);
      } else {
        for (const t of n.tests) todo.push(t);
      }
      for (const a of n.args) {
        for (const s of a.kind === 'string' ? [a] : a.kind === 'list' ? a.items : []) {
          const r = decodeEncodedCharacters(s.value);
          if (r.ok) s.value = r.value;
          else this.error(s.pos, r.error);
        }
      }
    }
  }

  private block(commands: CommandNode[], top: boolean): void {
    let afterIf = false; // elsif and else may follow (an orphan elsif counts, so one mistake gives one error)
    for (const c of commands) {
      if (c.name === 'require') {
        if (!top) this.error(c.pos, 'require is only allowed at the top of the script, before any other command (RFC 5228 §3.2)');
        else if (this.seenOther) this.error(c.pos, 'require must come before any other command (RFC 5228 §3.2)');
        afterIf = false;
        continue;
      }
      if (top) this.seenOther = true;
      if ((c.name === 'elsif' || c.name === 'else') && !afterIf) this.error(c.pos, `${c.name} must follow if or elsif (RFC 5228 §3.1)`);
      this.command(c);
      if (c.block) this.guardedBlock(c, c.block);
      afterIf = c.name === 'if' || c.name === 'elsif';
    }
  }

  /**
   * RFC 5463 §4: a block guarded by ihave naming an unsupported capability is not compiled (it
   * never runs, and its unknown commands are no error); the supported ones it names are enabled
   * inside the block, as if required.
   */
  private guardedBlock(c: CommandNode, block: CommandNode[]): void {
    const guard = ihaveGuard(c);
    if (guard?.unknown) return;
    const added = (guard?.known ?? []).flatMap((cap) => [cap, ...(own(IMPLIED_CAPABILITIES, cap) ?? [])]).filter((cap) => !this.caps.has(cap));
    for (const cap of added) this.caps.add(cap);
    try {
      this.block(block, false);
    } finally {
      for (const cap of added) this.caps.delete(cap);
    }
  }

  private enabled(spec: NodeSpec): boolean {
    return !spec.capability || spec.capability.some((cap) => this.caps.has(cap));
  }

  private command(c: CommandNode): void {
    const spec = this.commandSpec(c.name);
    if (!spec) {
      if (c.name === 'reject' || c.name === 'ereject') this.error(c.pos, rejectMessage(c.name));
      else if (this.testSpec(c.name)) this.error(c.pos, `${c.name} is a test, not a command: use it in if or elsif, as in: if ${c.name} ... { ... }`);
      else this.error(c.pos, `unknown command '${c.name}'`);
      return;
    }
    if (!this.enabled(spec)) {
      this.error(c.pos, `the ${c.name} command needs require "${spec.capability![0]}"`);
      return;
    }
    validateArgs(c, spec, this);
    this.structure(c, spec);
    if (spec.subtests === 'test' && c.test && !c.testList) this.test(c.test);
    checkCommand(c, this);
  }

  /** A command's test and block against its spec (RFC 5228 §2.6.4, §8.2). */
  private structure(c: CommandNode, spec: NodeSpec): void {
    if (spec.subtests === 'test') {
      if (!c.test) this.error(c.pos, `${c.name} needs a test before its block`);
      else if (c.testList) this.error(c.testList, `${c.name} takes one test, not a test list: combine tests with allof (...) or anyof (...)`);
    } else if (c.test) {
      if (c.name === 'else' && c.test.name === 'if') this.error(c.test.pos, "'else if' is not Sieve: write elsif (RFC 5228 §3.1)");
      else this.error(c.test.pos, `expected ';' after the ${c.name} command, found '${c.test.name}'`);
    }
    if (spec.block && c.block === null) this.error(c.pos, `${c.name} needs a block { ... }`);
    if (!spec.block && c.block !== null) this.error(c.pos, `${label(c)} takes no block`);
  }

  private test(t: TestNode): void {
    const spec = this.testSpec(t.name);
    if (!spec) {
      if (this.commandSpec(t.name) || t.name === 'reject' || t.name === 'ereject') this.error(t.pos, `${t.name} is a command, not a test`);
      else this.error(t.pos, `unknown test '${t.name}'`);
      return;
    }
    if (!this.enabled(spec)) {
      this.error(t.pos, `the ${t.name} test needs require "${spec.capability![0]}"`);
      return;
    }
    validateArgs(t, withExtensionTags(t.name, spec), this);
    const first = t.tests[0];
    if (spec.subtests === 'none') {
      // `address matches "from" "x"` parses as the test "matches" given to address
      if (first && Object.hasOwn(spec.tags, first.name)) this.error(first.pos, `missing ':' before '${first.name}': write :${first.name}`);
      else if (first) this.error(first.pos, `${label(t)} takes no test, found '${first.name}'`);
    } else if (spec.subtests === 'test') {
      if (!first) this.error(t.pos, `${t.name} needs a test, as in: ${t.name} exists "From"`);
      else if (t.testList) this.error(t.testList, `${t.name} takes one test, not a test list`);
      else this.test(first);
    } else {
      if (!first) this.error(t.pos, `${t.name} needs a test list, as in: ${t.name} (exists "From", exists "Date")`);
      else if (!t.testList) this.error(first.pos, `${t.name} needs its tests in parentheses: ${t.name} (${first.name} ...)`);
      for (const sub of t.tests) this.test(sub);
    }
    checkTest(t, this);
  }
}
