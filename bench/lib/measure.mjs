// bench/lib/measure.mjs: owns spawning and timing one command, running a set
// of cases round-robin (A, B, C, A, B, C, ...) so machine noise hits every
// case alike, and the statistics (median, p90, min) and plain-text tables.
// Knows nothing about mail: a case says how to run itself and how to check it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * A case is { name, cmd, args, env?, stdin? (file path, fed through a pipe), uid?, gid?, cwd?,
 *   required? (a failure aborts the bench), before?() -> token,
 *   check?(token, result) -> error string or null }.
 * timeOnce runs it once; only the spawn itself is inside the timed window.
 */
const inputs = new Map();
export function timeOnce(c) {
  const token = c.before ? c.before() : undefined;
  // stdin is a pipe, as Postfix's local(8) gives it (a file would make Node take another, slower path)
  if (c.stdin && !inputs.has(c.stdin)) inputs.set(c.stdin, readFileSync(c.stdin));
  const opts = { stdio: [c.stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'], input: inputs.get(c.stdin), env: c.env, cwd: c.cwd, timeout: 30_000 };
  if (c.uid !== undefined) Object.assign(opts, { uid: c.uid, gid: c.gid });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c.cmd, c.args, opts);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const stderr = r.stderr ? r.stderr.toString().trim() : '';
  let error = null;
  if (r.error) error = `spawn failed: ${r.error.message}`;
  else if (r.status !== 0) error = `exit ${r.status ?? r.signal}${stderr ? `: ${stderr.split('\n')[0]}` : ''}`;
  else if (c.check) error = c.check(token, r);
  return { ms, error, stderr };
}

/**
 * runInterleaved: `warmups` untimed rounds, then `runs` timed rounds, each
 * round running every live case once. A case failing a warm-up is dropped
 * (reason in `skipped`) unless required; any failure of a required case stops
 * everything (`fatal`). Optional cases failing later keep a failure count.
 */
export function runInterleaved(cases, { runs, warmups, onRound } = {}) {
  const live = cases.map((c) => ({ c, samples: [], failures: 0, lastError: null }));
  const skipped = [];
  let fatal = null;
  for (let round = 0; round < warmups + runs && !fatal; round++) {
    for (const s of live) {
      if (s.dropped) continue;
      const r = timeOnce(s.c);
      if (!r.error) {
        if (round >= warmups) s.samples.push(r.ms);
        continue;
      }
      if (s.c.required) {
        fatal = `${s.c.name}: ${r.error}`;
        break;
      }
      if (round < warmups) {
        s.dropped = true;
        skipped.push({ name: s.c.name, reason: `warm-up failed: ${r.error}` });
      } else {
        s.failures++;
        s.lastError = r.error;
      }
    }
    onRound?.(round + 1, warmups + runs);
  }
  return { results: live.filter((s) => !s.dropped), skipped, fatal };
}

/** stats: median, p90 (nearest rank) and min of a list of milliseconds. */
export function stats(samples) {
  const xs = [...samples].sort((a, b) => a - b);
  const n = xs.length;
  if (n === 0) return { n, median: NaN, p90: NaN, min: NaN };
  const median = n % 2 ? xs[(n - 1) / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
  const p90 = xs[Math.min(n - 1, Math.ceil(0.9 * n) - 1)];
  return { n, median, p90, min: xs[0] };
}

/** table: rows of strings, first row the header; first column left-aligned, the rest right-aligned. */
export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((v, i) => (i === 0 ? String(v).padEnd(widths[i]) : String(v).padStart(widths[i]))).join('  ');
  const out = [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  return out.join('\n');
}

export const fmt = (ms) => (Number.isFinite(ms) ? ms.toFixed(1) : '-');
export const ratio = (a, b) => (Number.isFinite(a) && b > 0 ? (a / b).toFixed(2) : '-');
