/**
 * Typed readers for the `tags` and `positional` of a node that validate.ts accepted, so the
 * evaluator reads arguments by name instead of walking `args`. The validator guarantees the
 * shapes; these only narrow the types and apply the RFC defaults. Pure.
 */
import type { Arg, CommandNode, TestNode } from './ast.js';
import type { Comparator, MatchSpec, MatchType, Relation } from './match-api.js';

type Node = CommandNode | TestNode;

/** A string argument's value (a tag's argument or a positional). */
export function stringArg(a: Arg | true | undefined): string | undefined {
  return a !== undefined && a !== true && a.kind === 'string' ? a.value : undefined;
}

/** A string-list argument's values; a single string is a one-item list (RFC 5228 §2.4.2.1). */
export function stringListArg(a: Arg | true | undefined): string[] | undefined {
  if (a === undefined || a === true) return undefined;
  if (a.kind === 'string') return [a.value];
  if (a.kind === 'list') return a.items.map((s) => s.value);
  return undefined;
}

export function numberArg(a: Arg | true | undefined): number | undefined {
  return a !== undefined && a !== true && a.kind === 'number' ? a.value : undefined;
}

/** Whether a tag was given (`:copy`, `:mime`, `:last`, ...). */
export const hasTag = (node: Node, name: string): boolean => Object.hasOwn(node.tags, name);

const MATCH_TYPES: readonly MatchType[] = ['is', 'contains', 'matches', 'regex', 'value', 'count'];

/** The match type (default :is, §2.7.1), relation (:value/:count) and comparator (default i;ascii-casemap, §2.7.3). */
export function matchSpecOf(node: Node): MatchSpec {
  const type = MATCH_TYPES.find((m) => hasTag(node, m)) ?? 'is';
  const comparator = (stringArg(node.tags.comparator) ?? 'i;ascii-casemap') as Comparator;
  if (type === 'value' || type === 'count') return { type, relation: stringArg(node.tags[type]) as Relation, comparator };
  return { type, comparator };
}

export type AddressPart = 'all' | 'localpart' | 'domain' | 'user' | 'detail';
const ADDRESS_PARTS: readonly AddressPart[] = ['all', 'localpart', 'domain', 'user', 'detail'];

/** ADDRESS-PART of address/envelope (default :all, RFC 5228 §2.7.4; :user/:detail RFC 5233). */
export const addressPartOf = (node: Node): AddressPart => ADDRESS_PARTS.find((p) => hasTag(node, p)) ?? 'all';

export type BodyTransform = { kind: 'text' } | { kind: 'raw' } | { kind: 'content'; types: string[] };

/** The body test's transform (default :text, RFC 5173). */
export function bodyTransformOf(node: Node): BodyTransform {
  if (hasTag(node, 'raw')) return { kind: 'raw' };
  const types = stringListArg(node.tags.content);
  return types ? { kind: 'content', types } : { kind: 'text' };
}
