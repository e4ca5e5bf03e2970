#!/usr/bin/env node
// `npm run incidents [-- --full]`: the incident replays of test/incidents/ alone (issue 16),
// then one line per incident with its key figures (test/incidents/report.ts writes them).
// --full replays the floods with 5,000 messages instead of CI's 500 (MDA_INCIDENT_FULL=1).
// Exit status: vitest's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const full = process.argv.includes('--full');
const dir = mkdtempSync(join(tmpdir(), 'mda-incidents-'));
const report = join(dir, 'report.txt');
const r = spawnSync('npx', ['vitest', 'run', 'test/incidents'], {
  stdio: 'inherit',
  env: { ...process.env, MDA_INCIDENT_REPORT: report, ...(full ? { MDA_INCIDENT_FULL: '1' } : {}) },
});
let lines = [];
try {
  lines = readFileSync(report, 'utf8').trim().split('\n').filter(Boolean);
} catch {}
rmSync(dir, { recursive: true, force: true });
console.log(`\nincident replays${full ? ' (--full)' : ''}:`);
for (const l of lines.sort()) console.log(`  ${l}`);
if (lines.length === 0) console.log('  (no incident reported its figures)');
process.exitCode = r.status ?? 1;
