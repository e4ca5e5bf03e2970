// bench/sieve.mjs: the `sieve` section. Delivery of one ~2 KB message per
// process, side by side: without a Sieve script, with a 200-rule script that
// files nothing (every rule evaluated, INBOX), and with the same script when
// an early rule files the message (hard link into a folder). The difference
// is the cost of reading, compiling and running the script per delivery;
// compiled-each-time vs the cached AST (state_dir/sieve-cache.json) shows what
// the cache saves.
// BENCH_BASELINE=/path/to/another/checkout (built) runs the same cases with that tree's
// `bin/mda` in the same round-robin and prints each case's mda/baseline ratio, so a change can
// show that the per-delivery cost of a script did not grow (issue 13).
// Owns the script generator and the section report.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, ratio, runInterleaved, stats, table } from './lib/measure.mjs';
import { countNew, makeMaildir, makeTempRoot, postfixEnv, writeMessage } from './lib/fixtures.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const NODE = process.execPath;
const RULES = Number(process.env.BENCH_SIEVE_RULES || 200);
const BASELINE = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE) : undefined;

export const description = `delivery with no Sieve script vs a ${RULES}-rule script (nothing matches / an early rule files the message)`;

/**
 * A script shaped like real ones: mailing lists by List-Id, people by From,
 * projects by Subject wildcard, a few regexes; `hit` puts a rule matching the
 * bench message (Subject: Quarterly figures) at position 5.
 */
export function makeScript(rules, hit) {
  const out = ['require ["fileinto", "imap4flags", "regex", "variables"];'];
  for (let i = 0; i < rules; i++) {
    if (hit && i === 5) out.push('if header :contains "subject" "quarterly" { fileinto "Reports"; stop; }');
    else if (i % 10 < 4) out.push(`if header :contains "list-id" "<list${i}.lists.example.com>" { fileinto "Lists.L${i}"; stop; }`);
    else if (i % 10 < 7) out.push(`if address :is "from" "sender${i}@example.com" { fileinto "People.P${i}"; }`);
    else if (i % 10 < 9) out.push(`if header :matches "subject" "*[project-${i}]*" { fileinto "Projects.\${1}"; }`);
    else out.push(`if header :regex "subject" "^(urgent|asap)-${i}:" { addflag "\\\\Flagged"; }`);
  }
  return out.join('\n') + '\n';
}

function mdaCase(root, msg, name, scriptText, { noCache = false, tree = ROOT } = {}) {
  const dir = join(root, `${tree === ROOT ? '' : 'baseline_'}${name.replace(/\W+/g, '_')}`);
  const maildir = makeMaildir(join(dir, 'Maildir'));
  const script = join(dir, 'filter.sieve');
  if (scriptText !== undefined) writeFileSync(script, scriptText);
  const config = join(dir, 'mda.toml');
  // An unusable state_dir makes every delivery miss the compiled-script cache (and compile).
  const state = noCache ? '/dev/null/no-cache' : join(dir, 'state');
  writeFileSync(config, `[log]\ntarget = "none"\n[sieve]\nscript = "${script}"\nstate_dir = "${state}"\n`);
  const folder = scriptText?.includes('"Reports"') ? join(maildir, '.Reports') : maildir;
  const count = () => countNew(folder);
  return {
    name, cmd: NODE, args: [join(tree, 'bin/mda'), 'deliver', '--maildir', maildir, '--config', config], stdin: msg, env: postfixEnv(dir), required: true,
    before: count,
    check: (before) => (count() === before + 1 ? null : `exit 0 but no new file in ${folder}/new`),
  };
}

export async function run({ runs, warmups }) {
  const root = makeTempRoot('sieve');
  const { path: msg, bytes } = writeMessage(root);
  const shapes = [
    ['no script', undefined, {}],
    [`${RULES} rules, no match, compiled each time`, makeScript(RULES, false), { noCache: true }],
    [`${RULES} rules, no match, cached AST`, makeScript(RULES, false), {}],
    [`${RULES} rules, rule 6 files it, cached`, makeScript(RULES, true), {}],
  ];
  const cases = shapes.map(([name, text, o]) => mdaCase(root, msg, `mda, ${name}`, text, o));
  if (BASELINE) cases.push(...shapes.map(([name, text, o]) => mdaCase(root, msg, `baseline, ${name}`, text, { ...o, tree: BASELINE })));
  console.log(`sieve: ${runs} runs + ${warmups} warm-ups, round-robin; message ${bytes} bytes; script ${Buffer.byteLength(makeScript(RULES, false))} bytes; node ${process.version}`);
  const { results, skipped, fatal } = runInterleaved(cases, { runs, warmups });
  for (const s of skipped) console.log(`  skipped ${s.name}: ${s.reason}`);
  if (fatal) {
    console.log(`  FAILED: ${fatal}`);
    return { ok: false };
  }
  const noScript = (prefix) => results.find((r) => r.c.name === `${prefix}, no script`);
  const rows = [['case', 'median ms', 'p90 ms', 'min ms', 'vs no script', '+ms median', '+ms min']];
  for (const r of results) {
    const s = stats(r.samples);
    const b = stats(noScript(r.c.name.split(',')[0]).samples);
    rows.push([r.c.name, fmt(s.median), fmt(s.p90), fmt(s.min), ratio(s.median, b.median), fmt(s.median - b.median), fmt(s.min - b.min)]);
  }
  console.log(`\n${table(rows)}\n`);
  if (BASELINE) {
    console.log(`mda / baseline (${BASELINE}), same run:`);
    for (const [name] of shapes) {
      const [a, b] = ['mda', 'baseline'].map((p) => results.find((r) => r.c.name === `${p}, ${name}`));
      if (a && b) console.log(`  ${name}: median ${ratio(stats(a.samples).median, stats(b.samples).median)}x, min ${ratio(stats(a.samples).min, stats(b.samples).min)}x`);
    }
  }
  return { ok: true };
}

// `node bench/sieve.mjs` on its own: same as `node bench/run.mjs sieve`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runs = Number(process.env.BENCH_RUNS || 40);
  const res = await run({ runs, warmups: 3 });
  process.exitCode = res.ok ? 0 : 1;
}
