/**
 * ihaveGuard: which capabilities an if/elsif's test guards its block with (RFC 5463 §4), so the
 * validator can skip a block that names an unsupported extension (it can never run, and it must
 * not be a compile error) and enable the named extensions inside one that can. Must not:
 * report errors (validate-date.ts checks ihave's arguments). Pure.
 */
import type { CommandNode, TestNode } from './ast.js';
import { SUPPORTED_CAPABILITIES } from './specs.js';

export interface IhaveGuard {
  /** Supported capabilities the guard names: enabled inside the block. */
  known: string[];
  /** A named capability is not supported: the test is always false and the block never runs. */
  unknown: boolean;
}

/** Only guards that make the whole test false when they fail: the test itself, or a member of its allof. */
function guardTests(t: TestNode): TestNode[] {
  if (t.name === 'ihave') return [t];
  if (t.name === 'allof') return t.tests.filter((s) => s.name === 'ihave');
  return [];
}

export function ihaveGuard(c: CommandNode): IhaveGuard | null {
  if ((c.name !== 'if' && c.name !== 'elsif') || !c.test) return null;
  const names: string[] = [];
  for (const t of guardTests(c.test)) {
    const a = t.positional[0];
    if (a?.kind === 'string') names.push(a.value);
    else if (a?.kind === 'list') names.push(...a.items.map((s) => s.value));
  }
  if (names.length === 0) return null;
  return { known: names.filter((n) => SUPPORTED_CAPABILITIES.has(n)), unknown: names.some((n) => !SUPPORTED_CAPABILITIES.has(n)) };
}
