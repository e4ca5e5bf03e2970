/**
 * Where a user's Sieve script is, from the [sieve] script template. Kept apart
 * from the interpreter so that deciding "no script, no Sieve" costs no loading
 * of Sieve code on the delivery hot path. Pure: no I/O.
 */

/** A path from a [sieve] template: `~/` = home, `%u` = user ('' = none). */
export function userScriptPath(template: string, user: string, home: string): string | undefined {
  if (template === '') return undefined;
  const path = template.startsWith('~/') ? home.replace(/\/+$/, '') + template.slice(1) : template;
  return path.replace(/%u/g, user);
}
