/**
 * The contract between the evaluator and the matching engine (comparators
 * RFC 4790 / RFC 5228 §2.7.3, match types, relational RFC 5231, regex
 * draft-murchison-sieve-regex), so both can be built and tested apart.
 * Pure: types only.
 */

export type MatchType = 'is' | 'contains' | 'matches' | 'regex' | 'value' | 'count';
export type Relation = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';
export type Comparator = 'i;octet' | 'i;ascii-casemap' | 'i;ascii-numeric';

export interface MatchSpec {
  type: MatchType;
  /** Required for :value and :count. */
  relation?: Relation;
  comparator: Comparator;
}

export interface MatchResult {
  matched: boolean;
  /** :matches / :regex: ${0} (whole match) and the wildcard / group captures, for the variables extension. */
  captures?: string[];
}

/**
 * Every matching step is charged here; when a script or a pattern would run
 * too long the budget throws, which is a runtime error → implicit keep.
 */
export interface StepBudget {
  spend(steps: number): void;
}
