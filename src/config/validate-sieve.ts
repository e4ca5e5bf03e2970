/**
 * Validates the Sieve part of the config: `[sieve]` and the two `[delivery]`
 * keys Sieve brings (`autocreate_folders`, `sendmail`) into Config.sieve and
 * Config.delivery. validate.ts calls it with the parsed top table; the
 * `[delivery]` table's other keys stay validate.ts's. Pure: no I/O (a script
 * that does not exist is not a config error: it means "no filtering").
 */
import { checkKnown, count, show, size, str, table, typeName, type Fail, type Path, type Table } from './fields.js';
import type { Config } from './schema.js';

export const SIEVE_KEYS = [
  'script', 'state_dir', 'before', 'after', 'max_redirects', 'vacation_min_days', 'vacation_max_days',
  'trust_scan_headers', 'max_script_size', 'max_cpu_steps',
  'dir', 'global_dir', // include (RFC 6609)
] as const;
/** The [delivery] keys this module reads; validate.ts lists them as known. */
export const DELIVERY_SIEVE_KEYS = ['autocreate_folders', 'sendmail'] as const;

// RFC 5228 §4.2 wants a limit on redirects; more than this many copies of one message is a mail bomb, not a filter.
const MAX_REDIRECTS = 64;
// RFC 5230 §4.1: the site maximum SHOULD be above 30 days; a year keeps the sent-log bounded in time.
const MAX_VACATION_DAYS = 365;
const MIN_CPU_STEPS = 10_000;
const MAX_CPU_STEPS = 1_000_000_000;
// A script is read whole into memory on every delivery.
const MAX_SCRIPT_SIZE = 64 * 1024 * 1024;

/** validateSieve reads `[sieve]` and the Sieve keys of `[delivery]` from `top` into `config`. */
export function validateSieve(top: Table, config: Config, fail: Fail): void {
  const delivery = table(top['delivery'], ['delivery'], () => undefined); // validate.ts reports a non-table
  if (delivery) {
    const d = config.delivery;
    d.autocreateFolders = bool(delivery['autocreate_folders'], ['delivery', 'autocreate_folders'], fail) ?? d.autocreateFolders;
    d.sendmail = program(delivery['sendmail'], ['delivery', 'sendmail'], fail) ?? d.sendmail;
  }
  const sieve = table(top['sieve'], ['sieve'], fail);
  if (!sieve) return;
  checkKnown(sieve, ['sieve'], SIEVE_KEYS, fail);
  const s = config.sieve;
  const at = (k: string): Path => ['sieve', k];
  s.script = userScript(sieve['script'], at('script'), fail) ?? s.script;
  const state = userScript(sieve['state_dir'], at('state_dir'), fail);
  if (state === '') fail(at('state_dir'), 'must not be empty (vacation and duplicate tracking need it)');
  else s.stateDir = state ?? s.stateDir;
  s.dir = userScript(sieve['dir'], at('dir'), fail) ?? s.dir;
  s.globalDir = adminDir(sieve['global_dir'], at('global_dir'), fail) ?? s.globalDir;
  s.before = adminScripts(sieve['before'], at('before'), fail) ?? s.before;
  s.after = adminScripts(sieve['after'], at('after'), fail) ?? s.after;
  s.maxRedirects = ranged(count(sieve['max_redirects'], at('max_redirects'), fail, 'redirects'), 0, MAX_REDIRECTS, at('max_redirects'), fail) ?? s.maxRedirects;
  const minDays = ranged(count(sieve['vacation_min_days'], at('vacation_min_days'), fail, 'days'), 0, MAX_VACATION_DAYS, at('vacation_min_days'), fail);
  const maxDays = ranged(count(sieve['vacation_max_days'], at('vacation_max_days'), fail, 'days', 1), 1, MAX_VACATION_DAYS, at('vacation_max_days'), fail);
  s.vacationMinDays = minDays ?? s.vacationMinDays;
  s.vacationMaxDays = maxDays ?? s.vacationMaxDays;
  if ((minDays !== undefined || maxDays !== undefined) && s.vacationMinDays > s.vacationMaxDays) {
    fail(at(maxDays !== undefined ? 'vacation_max_days' : 'vacation_min_days'), `vacation_min_days (${s.vacationMinDays}) must not exceed vacation_max_days (${s.vacationMaxDays})`);
  }
  s.trustScanHeaders = bool(sieve['trust_scan_headers'], at('trust_scan_headers'), fail) ?? s.trustScanHeaders;
  const scriptSize = size(sieve['max_script_size'], at('max_script_size'), fail);
  s.maxScriptSize = ranged(scriptSize, 1, MAX_SCRIPT_SIZE, at('max_script_size'), fail, 'at most 64M') ?? s.maxScriptSize;
  s.maxCpuSteps = ranged(count(sieve['max_cpu_steps'], at('max_cpu_steps'), fail, 'steps'), MIN_CPU_STEPS, MAX_CPU_STEPS, at('max_cpu_steps'), fail) ?? s.maxCpuSteps;
}

function ranged(v: number | undefined, min: number, max: number, path: Path, fail: Fail, words = `between ${min} and ${max}`): number | undefined {
  if (v === undefined) return undefined;
  if (v < min || v > max) return fail(path, `must be ${words}, got ${v}`);
  return v;
}

function bool(v: unknown, path: Path, fail: Fail): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  return fail(path, `must be true or false, got ${typeof v === 'string' ? JSON.stringify(v) : typeName(v)}`);
}

/**
 * The user's script (and state directory), like a Maildir template: absolute or under `~/`, `%u`
 * allowed; a relative path would depend on the directory Postfix starts mda in.
 */
function userScript(v: unknown, path: Path, fail: Fail): string | undefined {
  const p = str(v, path, fail);
  if (p === undefined || p === '') return p;
  if (!(p.startsWith('~/') || p.startsWith('/'))) return fail(path, `must be an absolute path, start with ~/ (the user's home), or be "" (no user script), got ${JSON.stringify(p)}`);
  if (/%(?!u)/.test(p)) return fail(path, `only %u (the user name) may follow a %, got ${JSON.stringify(p)}`);
  return p;
}

/** Admin scripts: absolute paths only, since they are the same file for every user. */
function adminScripts(v: unknown, path: Path, fail: Fail): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) return fail(path, `must be an array of absolute paths, got ${typeName(v)}`);
  const out: string[] = [];
  for (const [i, item] of v.entries()) {
    if (typeof item !== 'string' || !item.startsWith('/') || item.includes('\0')) {
      return fail(path, `element ${i + 1} must be an absolute path, got ${show(item)}`);
    }
    out.push(item);
  }
  return out;
}

/** global_dir: one directory for every user, so absolute and without %u; "" = no global scripts. */
function adminDir(v: unknown, path: Path, fail: Fail): string | undefined {
  const p = str(v, path, fail);
  if (p === undefined || p === '') return p;
  if (!p.startsWith('/') || p.includes('%') || p.includes('\0')) return fail(path, `must be an absolute path (the same directory for every user, no %u) or "" (no global scripts), got ${JSON.stringify(p)}`);
  return p;
}

/** sendmail is argv[0] of an execve (no shell): it must be an absolute path, so $PATH under Postfix does not matter. */
function program(v: unknown, path: Path, fail: Fail): string | undefined {
  const p = str(v, path, fail);
  if (p === undefined) return undefined;
  if (!p.startsWith('/')) return fail(path, `must be an absolute path to sendmail(1), got ${JSON.stringify(p)}`);
  if (/\s/.test(p)) return fail(path, `is one program path, not a command line (options are mda's), got ${JSON.stringify(p)}`);
  return p;
}
