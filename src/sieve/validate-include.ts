/**
 * Compile-time rules of the include extension (RFC 6609): include names are constant ManageSieve
 * script names without "/" (§3.2), `global` needs variables (§3.4), the `global.` variable
 * namespace (§5); and the message for Pigeonhole-only `vnd.dovecot.*` requires. Checks one script
 * alone: whether an included script exists is a run-time question (§3.2). Pure.
 */
import type { CommandNode, StringLit } from './ast.js';
import type { ValidationContext } from './validate-args.js';
import { utf8Length } from './variables.js';

/** A script NAME.sieve must fit one file name (NAME_MAX 255 bytes). */
export const MAX_SCRIPT_NAME_BYTES = 255 - '.sieve'.length;

/** variable-ref (RFC 5229 §3), as validate-checks.ts recognises one. */
const VARIABLE_REF = /\$\{(?:[A-Za-z_][A-Za-z0-9_]*\.)*(?:[0-9]+|[A-Za-z_][A-Za-z0-9_]*)\}/;

/**
 * Why `name` cannot be an included script's name, or null. RFC 5804 §1.6: no control characters
 * (U+0000-U+001F, U+007F-U+009F), no U+2028/U+2029, not empty. "/" is refused as Pigeonhole does
 * (RFC 6609 §3.2 lets an implementation restrict names): a name never leaves the script directory.
 */
export function scriptNameProblem(name: string): string | null {
  if (name === '') return 'it is empty';
  if (name.includes('/')) return 'it contains "/": an included script is named, not a path';
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return 'it contains a control character (RFC 5804 §1.6)';
  if (utf8Length(name) > MAX_SCRIPT_NAME_BYTES) return `it is longer than ${MAX_SCRIPT_NAME_BYTES} bytes`;
  return null;
}

/** RFC 6609 §5: `global.NAME` is the global variable namespace, available with include and variables. */
export const isGlobalNamespaceName = (name: string, caps: ReadonlySet<string>): boolean =>
  caps.has('include') && caps.has('variables') && /^global\.[A-Za-z_][A-Za-z0-9_]*$/i.test(name);

/** The message for a `vnd.dovecot.*` capability, or undefined for any other name. */
export function pigeonholeOnlyMessage(capability: string): string | undefined {
  if (!capability.toLowerCase().startsWith('vnd.dovecot.')) return undefined;
  return `${JSON.stringify(capability)} is a Pigeonhole-only extension (Dovecot's vendor extension, not a Sieve RFC): mda does not support it; remove it from the script, and from require`;
}

/** include and global: the checks beyond the spec table. */
export function checkIncludeCommand(c: CommandNode, ctx: ValidationContext): void {
  if (c.name === 'include') {
    const name = c.positional[0];
    if (name?.kind !== 'string') return; // validate-args.ts reported it
    checkName(name, ctx);
  } else if (c.name === 'global' && !ctx.caps.has('variables')) {
    ctx.error(c.pos, 'the global command needs require "variables" (RFC 6609 §3.4)');
  }
}

function checkName(name: StringLit, ctx: ValidationContext): void {
  // RFC 6609 §3.2: the name MUST be constant; variables are never expanded in it.
  if (ctx.caps.has('variables') && VARIABLE_REF.test(name.value)) {
    ctx.error(name.pos, `the script name ${JSON.stringify(name.value)} must be a constant string, without variables (RFC 6609 §3.2)`);
    return;
  }
  const problem = scriptNameProblem(name.value);
  if (problem) ctx.error(name.pos, `invalid script name ${JSON.stringify(name.value.slice(0, 80))}: ${problem} (RFC 6609 §3.2)`);
}
