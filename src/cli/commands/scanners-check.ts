/**
 * `mda scanners check`: pings every configured scanner endpoint (each spamd or
 * clamd host, or the filter command) within its timeout and prints one table
 * row each, with its circuit breaker as the deliveries of one uid see it (the
 * invoking uid's, or --user's: breakers are kept per uid). For admins and
 * monitoring: exit 0 when every scanner has a healthy endpoint, 1 when one has
 * none, 2 on a config error or an unknown --user.
 * Must not: scan mail or change breaker state.
 */
import { ConfigError, findConfigPath, loadConfig } from '../../config/load.js';
import type { Config, ScannerConfig } from '../../config/schema.js';
import { Deadline, monotonicMs } from '../../deadline/deadline.js';
import { breakerDecision, type BreakerState } from '../../scanners/breaker.js';
import { lookupAccount } from '../../privileges/accounts.js';
import { fileBreakerStore } from '../../scanners/breaker-file-store.js';
import type { BreakerStore } from '../../scanners/breaker-store.js';
import { breakerKey } from '../../scanners/run-scanners.js';
import { createScanner } from '../../scanners/registry.js';
import type { ScannerClient } from '../../scanners/types.js';
import { exitWithCode } from '../exit.js';

export const describe = 'Ping every configured scanner endpoint and show its circuit breaker (exit 1 if a scanner has no healthy endpoint)';

export const EXIT_OK = 0;
export const EXIT_DOWN = 1;
export const EXIT_CONFIG = 2;
/** After the deadline, pings still running get this long before the process is ended. */
const GRACE_MS = 2_000;

export interface ScannersCheckIo {
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
}

const processIo = (): ScannersCheckIo => ({ out: process.stdout, err: process.stderr, env: process.env });

export interface CheckRow {
  name: string;
  type: string;
  endpoint: string;
  ok: boolean;
  latencyMs: number;
  circuit: string;
  detail: string;
}

/** scannersCheck returns the exit status; `make` builds clients (tests may substitute). */
export async function scannersCheck(
  args: { config?: string; user?: string },
  io: ScannersCheckIo = processIo(),
  make: (cfg: ScannerConfig) => ScannerClient = createScanner,
): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(findConfigPath(args.config, io.env));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err.write(`${err.message}\n`);
    return EXIT_CONFIG;
  }
  if (config.scanners.length === 0) {
    io.out.write(`no scanners configured in ${config.source}\n`);
    return EXIT_OK;
  }
  const longest = Math.max(...config.scanners.map((s) => s.timeoutMs));
  const deadline = Deadline.start(longest + GRACE_MS, {
    graceMs: GRACE_MS,
    onHardStop: () => {
      io.err.write('mda scanners check: a check did not stop at its deadline\n');
      exitWithCode(EXIT_DOWN);
    },
  });
  try {
    const uid = args.user === undefined ? process.geteuid?.() : (await lookupAccount(args.user, deadline.signal).catch(() => undefined))?.uid;
    if (uid === undefined) {
      io.err.write(`mda scanners check: no such user: ${args.user ?? '(unknown uid)'}\n`);
      return EXIT_CONFIG;
    }
    const breakers = fileBreakerStore(config.scanning.stateDir, uid);
    const rows = await Promise.all(config.scanners.flatMap((cfg) => endpointsOf(cfg).map((one) => checkOne(one, make, deadline, breakers))));
    io.out.write(formatRows(rows));
    return exitStatus(config.scanners, rows);
  } finally {
    deadline.dispose();
  }
}

/** endpointsOf splits a scanner into one config per endpoint, so each host is pinged (and shown) alone. */
export function endpointsOf(cfg: ScannerConfig): { cfg: ScannerConfig; endpoint: string }[] {
  if (cfg.type === 'filter') return [{ cfg, endpoint: cfg.command.join(' ') }];
  return cfg.hosts.map((h) => ({ cfg: { ...cfg, hosts: [h] }, endpoint: h }));
}

async function checkOne(
  one: { cfg: ScannerConfig; endpoint: string },
  make: (cfg: ScannerConfig) => ScannerClient,
  deadline: Deadline,
  breakers: BreakerStore,
): Promise<CheckRow> {
  const { cfg, endpoint } = one;
  const budget = deadline.budget(cfg.timeoutMs, `ping ${cfg.name} ${endpoint}`);
  const started = monotonicMs();
  let ok = false;
  let detail: string;
  try {
    // race: even a ping that ignored its signal cannot hold the table up.
    detail = await deadline.race(make(cfg).ping(budget.signal), budget.signal);
    ok = true;
  } catch (err) {
    detail = err instanceof Error ? err.message : String(err);
  } finally {
    budget.done();
  }
  const latencyMs = monotonicMs() - started;
  // One circuit per scanner endpoint, keyed as the runner keys it.
  const circuit = circuitText(await breakers.read(breakerKey(cfg.name, endpoint)), Date.now());
  const prefix = `${cfg.name}: `;
  if (detail.startsWith(prefix)) detail = detail.slice(prefix.length);
  return { name: cfg.name, type: cfg.type, endpoint, ok, latencyMs, circuit, detail };
}

/** circuitText: `closed`, `open until HH:MM:SS` (local time) or `probe` (cool-down over). */
export function circuitText(state: BreakerState, nowMs: number): string {
  const d = breakerDecision(state, nowMs);
  if (d !== 'open') return d;
  return `open until ${new Date(state.openUntilMs).toTimeString().slice(0, 8)}`;
}

/** exitStatus: 0 when every scanner has at least one healthy endpoint, else 1. */
export function exitStatus(scanners: readonly ScannerConfig[], rows: readonly CheckRow[]): number {
  const healthy = new Set(rows.filter((r) => r.ok).map((r) => r.name));
  return scanners.every((s) => healthy.has(s.name)) ? EXIT_OK : EXIT_DOWN;
}

/** formatRows renders the table: columns padded to their widest cell, the detail last and unpadded. */
export function formatRows(rows: readonly CheckRow[]): string {
  const table = [
    ['NAME', 'TYPE', 'ENDPOINT', 'STATE', 'LATENCY', 'CIRCUIT', 'DETAIL'],
    ...rows.map((r) => [r.name, r.type, r.endpoint, r.ok ? 'ok' : 'down', `${Math.round(r.latencyMs)}ms`, r.circuit, r.detail].map(printable)),
  ];
  const widths = table[0]!.map((_, col) => Math.max(...table.map((line) => line[col]!.length)));
  return table
    .map((line) =>
      line
        .map((cell, col) => (col === line.length - 1 ? cell : cell.padEnd(widths[col]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** printable keeps one table row on one line, whatever a scanner answered. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, ' ');
}
