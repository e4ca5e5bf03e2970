#!/usr/bin/env node
// bench/run.mjs: entry point. `node bench/run.mjs [SECTION...|all]` runs the
// named sections (default: startup). Each section is its own module under
// bench/ exporting `description` and `run({ runs, warmups }) -> { ok }`; add
// new ones (scanner flood, sieve) to SECTIONS below.
// Exit 0 when every section ran (a missed target is reported, not failed);
// non-zero when a required run (e.g. an mda delivery) failed, 2 on bad usage.
const SECTIONS = {
  startup: () => import('./startup.mjs'),
  quota: () => import('./quota.mjs'),
  flood: () => import('./flood.mjs'),
  'flood-lmtp': () => import('./flood-lmtp.mjs'),
  'flood-postfix': () => import('./flood-postfix.mjs'),
  sieve: () => import('./sieve.mjs'),
  lmtp: () => import('./lmtp.mjs'),
  policy: () => import('./policy.mjs'),
  mbox: () => import('./mbox.mjs'),
};

const runs = Number(process.env.BENCH_RUNS || 40);
const warmups = 3;
const args = process.argv.slice(2);
const names = args.length === 0 ? ['startup'] : args.includes('all') ? Object.keys(SECTIONS) : args;

const unknown = names.filter((n) => !SECTIONS[n]);
if (unknown.length || !Number.isInteger(runs) || runs < 1) {
  console.error(`usage: node bench/run.mjs [${[...Object.keys(SECTIONS), 'all'].join('|')}] (BENCH_RUNS=N, default 40)`);
  if (unknown.length) console.error(`unknown section: ${unknown.join(', ')}`);
  process.exit(2);
}

let ok = true;
for (const name of names) {
  const mod = await SECTIONS[name]();
  console.log(`== ${name}: ${mod.description}`);
  const res = await mod.run({ runs, warmups });
  ok &&= res.ok;
}
process.exitCode = ok ? 0 : 1;
