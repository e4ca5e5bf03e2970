/**
 * Runs Pigeonhole's own language tests (its tests/**\/*.svtest, fetched from
 * Debian's dovecot source package at test time, never committed) on mda's
 * Sieve interpreter: every file whose requires are all capabilities mda
 * supports (SUPPORTED_CAPABILITIES, read at run time) plus the testsuite's own.
 * Prints per-directory pass counts. Every failing file must be listed in
 * known-differences.ts (a new failure fails CI) and every listed file must
 * still fail (no stale entries). Skipped loudly when the sources cannot be fetched.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pigeonholeTests, type SourceResult } from './fetch-source.js';
import { KNOWN_DIFFERENCES } from './known-differences.js';
import { inScope, runSvtest, type FileResult } from './run-svtest.js';

function svtests(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? svtests(p) : p.endsWith('.svtest') ? [p] : [];
  });
}

let source: SourceResult = { skip: 'not fetched yet' };
const results = new Map<string, FileResult>();

beforeAll(async () => {
  source = await pigeonholeTests();
  if ('skip' in source) {
    console.warn(`\n*** SKIPPED test/pigeonhole/testsuite.test.ts: ${source.skip} ***\n`);
    return;
  }
  for (const path of svtests(source.testsDir).sort()) {
    if (!inScope(readFileSync(path, 'utf8'))) continue;
    results.set(`tests/${relative(source.testsDir, path)}`, await runSvtest(path));
  }
  const byDir = new Map<string, { pass: number; total: number }>();
  for (const [file, r] of results) {
    const d = byDir.get(dirname(file)) ?? { pass: 0, total: 0 };
    d.total++;
    if (r.ok) d.pass++;
    byDir.set(dirname(file), d);
  }
  const pass = [...results.values()].filter((r) => r.ok).length;
  const lines = [...byDir].sort(([a], [b]) => a.localeCompare(b)).map(([d, c]) => `  ${d}: ${c.pass}/${c.total}`);
  // MDA_PIGEONHOLE_VERBOSE=1: why each failing file fails
  if (process.env.MDA_PIGEONHOLE_VERBOSE) for (const [f, r] of results) if (!r.ok) console.log(`FAIL ${f}\n    ${r.failures.join('\n    ')}`);
  console.log(`Pigeonhole testsuite (${source.version}) on mda:\n${lines.join('\n')}\n  total: ${pass}/${results.size} files pass (${svtests(source.testsDir).length} files, the rest need extensions mda lacks)`);
}, 300_000);

describe('Pigeonhole testsuite (vnd.dovecot.testsuite) on mda', () => {
  it('fetches the Pigeonhole tests (skipped, loudly, when they cannot be fetched)', (ctx) => {
    if ('skip' in source) ctx.skip(`Pigeonhole sources unavailable: ${source.skip}`);
    expect(results.size).toBeGreaterThan(50);
  });

  it('every failing file is a known difference (a new failure fails here)', (ctx) => {
    if ('skip' in source) ctx.skip(`Pigeonhole sources unavailable: ${source.skip}`);
    const unexpected = [...results].filter(([f, r]) => !r.ok && !Object.hasOwn(KNOWN_DIFFERENCES, f)).map(([f, r]) => `${f}: ${r.failures.slice(0, 3).join(' | ')}`);
    expect(unexpected).toEqual([]);
  });

  it('every known difference still fails (no stale entries)', (ctx) => {
    if ('skip' in source) ctx.skip(`Pigeonhole sources unavailable: ${source.skip}`);
    const stale = Object.keys(KNOWN_DIFFERENCES).filter((f) => results.get(f)?.ok !== false);
    expect(stale).toEqual([]);
  });
});
