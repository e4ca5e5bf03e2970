/**
 * Runs one Pigeonhole .svtest file on mda's interpreter plus the testsuite
 * extension, and decides which files are mda's business: those whose every
 * `require` is in mda's SUPPORTED_CAPABILITIES (read at run time, so
 * extensions added later join automatically) or is the testsuite's own.
 * Reads the scripts its includes name up front, with mda's include loader.
 * Must not: decide what counts as a known difference (known-differences.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadIncludes } from '../../src/pipeline/sieve-include-load.js';
import { formatSieveError, type Script } from '../../src/sieve/ast.js';
import { compileSieve } from '../../src/sieve/compile.js';
import { evaluateSieve } from '../../src/sieve/evaluate.js';
import type { IncludeSource } from '../../src/sieve/evaluate-include.js';
import { parseSieve } from '../../src/sieve/parser.js';
import { SUPPORTED_CAPABILITIES } from '../../src/sieve/specs.js';
import { testsuiteExtension } from './testsuite-extension.js';
import { TESTSUITE_CAPABILITY, TESTSUITE_SPECS } from './testsuite-specs.js';
import { TestFailure, TestsuiteState } from './testsuite-state.js';

export interface FileResult {
  ok: boolean;
  /** Why not: the first failures, one line each. */
  failures: string[];
  tests: number;
}

/** The capabilities a file requires; null when mda cannot even parse it. */
export function requiredCapabilities(text: string): string[] | null {
  const parsed = parseSieve(text, 'x.svtest');
  if ('errors' in parsed) return null;
  return parsed.script.commands
    .filter((c) => c.name === 'require')
    .flatMap((c) => c.args.flatMap((a) => (a.kind === 'string' ? [a.value] : a.kind === 'list' ? a.items.map((i) => i.value) : [])));
}

/** Every require is mda's or the testsuite's (a file mda cannot parse is in scope: that is a failure). */
export function inScope(text: string): boolean {
  const caps = requiredCapabilities(text);
  return caps === null || caps.every((c) => c === TESTSUITE_CAPABILITY || SUPPORTED_CAPABILITIES.has(c));
}

/** Every .sieve file under dir: the scripts a test_script_compile may name. */
function sieveFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sieveFiles(p) : p.endsWith('.sieve') ? [p] : [];
  });
}

/**
 * The include scripts (RFC 6609), read by mda's own loader (sieve-include-load.ts) from where
 * Pigeonhole's testsuite puts them (testsuite.c: sieve_dir = the .svtest's directory + "included",
 * sieve_global_dir = + "included-global"). mda reads includes before evaluation, so every include
 * reachable from the .svtest or from any script a test may compile is read up front.
 */
async function testsuiteIncludes(main: Script, dir: string): Promise<IncludeSource | undefined> {
  const scripts = [main];
  for (const p of sieveFiles(dir)) {
    const r = compileSieve(readFileSync(p, 'utf8'), p, { extraSpecs: TESTSUITE_SPECS });
    if (!('errors' in r)) scripts.push(r.script);
  }
  const dirs = { personal: join(dir, 'included'), global: join(dir, 'included-global'), maxScriptSize: 1024 * 1024, globalRootOnly: false };
  return (await loadIncludes(scripts, dirs))?.source;
}

const expectFailure = (path: string): boolean => /(^|\/)tests\/failures\/[^/]+$/.test(path);

export async function runSvtest(path: string): Promise<FileResult> {
  const text = readFileSync(path, 'utf8');
  const compiled = compileSieve(text, path.replace(/^.*\//, ''), { extraSpecs: TESTSUITE_SPECS, maxErrors: 20 });
  if ('errors' in compiled) return { ok: false, failures: compiled.errors.map((e) => `compile: ${formatSieveError(e)}`), tests: 0 };
  const st = new TestsuiteState(dirname(path));
  st.env.includes = await testsuiteIncludes(compiled.script, dirname(path));
  const failures: string[] = [];
  try {
    const plan = evaluateSieve([compiled.script], st.message(), st.env, { extension: testsuiteExtension(st) });
    for (const e of plan.errors) failures.push(`runtime error: ${e}`);
  } catch (err) {
    if (!(err instanceof TestFailure)) throw err;
    failures.push(`test_fail outside a test: ${err.message}`);
  }
  for (const o of st.outcomes) if (!o.ok) failures.push(`test ${JSON.stringify(o.name)}: ${o.reason}`);
  const unimplemented = [...st.unimplemented].map((name) => `uses ${name}, which the harness does not implement`);
  // Pigeonhole runs tests/failures/* with `testsuite -F`: they pass by failing cleanly (no crash).
  if (expectFailure(path)) {
    const ok = unimplemented.length === 0 && failures.length > 0;
    return { ok, failures: ok ? [] : [...unimplemented, ...(failures.length ? [] : ['expected to fail (testsuite -F), but every test passed'])], tests: st.outcomes.length };
  }
  failures.push(...unimplemented);
  return { ok: failures.length === 0, failures, tests: st.outcomes.length };
}
