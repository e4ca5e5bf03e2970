/**
 * Validates the content-scanning part of the config: `[[scanner]]` entries,
 * `[scanning]`, `[spam]` and `[virus]`, into Config.scanners/scanning/spam/virus.
 * Owns those keys and their rules; validate.ts calls it after [delivery] (a
 * filter's max_size defaults to max_message_size). Pure: no I/O.
 */
import { parseEndpoint } from '../scanners/endpoint-parse.js';
import { MAX_COOLDOWN_MS } from '../scanners/breaker.js';
import { folderDir } from '../maildir/names.js';
import { checkKnown, count, durationIn, oneOf, size, str, stringList, table, typeName, type Fail, type Path, type Table } from './fields.js';
import type { Config, ScannerConfig, ScannerType } from './schema.js';

const TYPES = ['spamd', 'clamd', 'filter'] as const satisfies readonly ScannerType[];
const SCANNER_KEYS = ['type', 'name', 'hosts', 'order', 'command', 'mode', 'user', 'timeout', 'max_size', 'on_failure'];
/** Keys that only some types take; a key on the wrong type is a mistake worth naming. */
const ONLY: Record<string, readonly ScannerType[]> = {
  hosts: ['spamd', 'clamd'],
  order: ['spamd', 'clamd'],
  command: ['filter'],
  mode: ['spamd', 'filter'],
  user: ['spamd'],
};
const KNOWN = {
  scanning: ['breaker_failures', 'breaker_cooldown', 'state_dir', 'commit_reserve'],
  spam: ['folder'],
  virus: ['action', 'folder'],
} as const;

const KB = 1024;
// spamc refuses messages over 500 KB by default; clamd's StreamMaxLength defaults to 25M.
const DEFAULT_MAX_SIZE: Record<Exclude<ScannerType, 'filter'>, number> = { spamd: 500 * KB, clamd: 25 * KB * KB };
const DEFAULT_TIMEOUT_MS = 30_000;
const MIN_TIMEOUT_MS = 100;
const MAX_TIMEOUT_MS = 600_000;
const MAX_BREAKER_FAILURES = 1_000_000;
const MIN_RESERVE_MS = 1_000;
// A name goes into X-MDA-Scan headers, log lines and the breaker's file name.
const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** validateScanners reads the scanning tables of `top` into `config`, reporting problems through fail. */
export function validateScanners(top: Table, config: Config, fail: Fail): void {
  config.scanners = scanners(top['scanner'], config.delivery.maxMessageSize, fail);
  const scanning = table(top['scanning'], ['scanning'], fail);
  if (scanning) {
    checkKnown(scanning, ['scanning'], KNOWN.scanning, fail);
    const s = config.scanning;
    const at = (k: string): Path => ['scanning', k];
    s.breakerFailures = count(scanning['breaker_failures'], at('breaker_failures'), fail, 'failures', 1) ?? s.breakerFailures;
    if (s.breakerFailures > MAX_BREAKER_FAILURES) fail(at('breaker_failures'), `must be at most ${MAX_BREAKER_FAILURES}`);
    s.breakerCooldownMs =
      durationIn(scanning['breaker_cooldown'], at('breaker_cooldown'), fail, '60s', 1_000, MAX_COOLDOWN_MS, 'between 1s and 1h') ??
      s.breakerCooldownMs;
    s.stateDir = absolutePath(scanning['state_dir'], at('state_dir'), fail) ?? s.stateDir;
    const reserve = durationIn(scanning['commit_reserve'], at('commit_reserve'), fail, '15s', MIN_RESERVE_MS, MAX_TIMEOUT_MS, 'between 1s and 600s');
    if (reserve !== undefined && reserve >= config.delivery.deadlineMs) {
      fail(at('commit_reserve'), 'must be shorter than [delivery] deadline, or no time is left for scanning');
    } else s.commitReserveMs = reserve ?? s.commitReserveMs;
  }
  const spam = table(top['spam'], ['spam'], fail);
  if (spam) {
    checkKnown(spam, ['spam'], KNOWN.spam, fail);
    config.spam.folder = folder(spam['folder'], ['spam', 'folder'], fail) ?? config.spam.folder;
  }
  const virus = table(top['virus'], ['virus'], fail);
  if (virus) {
    checkKnown(virus, ['virus'], KNOWN.virus, fail);
    const v = config.virus;
    v.action = oneOf(virus['action'], ['virus', 'action'], fail, ['quarantine', 'discard', 'deliver'] as const) ?? v.action;
    v.folder = folder(virus['folder'], ['virus', 'folder'], fail) ?? v.folder;
    const where = folderDir(v.folder);
    if (v.action === 'quarantine' && where.ok && where.dir === '') {
      fail(['virus', virus['folder'] === undefined ? 'action' : 'folder'], 'quarantine needs a folder other than INBOX (action = "deliver" stores infected mail marked in INBOX)');
    }
  }
}

function scanners(v: unknown, filterMaxSize: number, fail: Fail): ScannerConfig[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    return fail(['scanner'], `must be an array of tables: write [[scanner]] for each scanner, got ${typeName(v)}`) ?? [];
  }
  const out: ScannerConfig[] = [];
  const named = new Map<string, number>();
  const unnamed: ScannerConfig[] = [];
  for (const [i, item] of v.entries()) {
    const s = scanner(item, ['scanner', i], filterMaxSize, fail);
    if (!s) continue;
    out.push(s);
    if (s.name === '') unnamed.push(s);
    else if (named.has(s.name)) fail(['scanner', i, 'name'], `${JSON.stringify(s.name)} is already the name of scanner[${named.get(s.name)}]`);
    else named.set(s.name, i);
  }
  // Defaults come after every explicit name is known, so a default never takes one.
  for (const s of unnamed) {
    let n = 1;
    while (named.has(n === 1 ? s.type : `${s.type}-${n}`)) n++;
    s.name = n === 1 ? s.type : `${s.type}-${n}`;
    named.set(s.name, -1);
  }
  return out;
}

/** scanner reads one [[scanner]] table; its name is '' when it has none yet. */
function scanner(v: unknown, path: Path, filterMaxSize: number, fail: Fail): ScannerConfig | undefined {
  const t = table(v, path, fail);
  if (!t) return undefined;
  checkKnown(t, path, SCANNER_KEYS, fail);
  const at = (k: string): Path => [...path, k];
  if (t['type'] === undefined) return fail(at('type'), 'is required: "spamd", "clamd" or "filter"');
  const type = oneOf(t['type'], at('type'), fail, TYPES);
  if (!type) return undefined;
  for (const [key, types] of Object.entries(ONLY)) {
    if (t[key] !== undefined && !types.includes(type)) fail(at(key), `is not used by ${type} scanners (only ${types.join(', ')})`);
  }
  const s: ScannerConfig = {
    type,
    name: name(t['name'], at('name'), fail) ?? '',
    hosts: [],
    order: oneOf(t['order'], at('order'), fail, ['ordered', 'shuffle'] as const) ?? 'ordered',
    command: [],
    filterMode: 'rewrite',
    spamdMode: 'headers',
    timeoutMs: durationIn(t['timeout'], at('timeout'), fail, '30s', MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, 'between 100ms and 600s') ?? DEFAULT_TIMEOUT_MS,
    maxSize: size(t['max_size'], at('max_size'), fail) ?? (type === 'filter' ? filterMaxSize : DEFAULT_MAX_SIZE[type]),
    onFailure: oneOf(t['on_failure'], at('on_failure'), fail, ['deliver', 'defer'] as const) ?? 'deliver',
  };
  if (type === 'filter') {
    s.command = command(t['command'], at('command'), fail) ?? [];
    s.filterMode = oneOf(t['mode'], at('mode'), fail, ['rewrite', 'verdict'] as const) ?? s.filterMode;
  } else {
    s.hosts = hosts(t['hosts'], at('hosts'), fail) ?? [];
  }
  if (type === 'spamd') {
    s.spamdMode = oneOf(t['mode'], at('mode'), fail, ['headers', 'check'] as const) ?? s.spamdMode;
    const user = str(t['user'], at('user'), fail);
    // It becomes a `User:` line of the spamd protocol: one printable word.
    if (user !== undefined && !/^[\x21-\x7e]{1,255}$/.test(user)) fail(at('user'), `must be a user name without spaces or control characters, got ${JSON.stringify(user)}`);
    else if (user !== undefined) s.spamdUser = user;
  }
  return s;
}

function name(v: unknown, path: Path, fail: Fail): string | undefined {
  const n = str(v, path, fail);
  if (n === undefined) return undefined;
  if (!NAME_RE.test(n)) return fail(path, `must be 1 to 64 letters, digits, ".", "_" or "-", got ${JSON.stringify(n)}`);
  return n;
}

function hosts(v: unknown, path: Path, fail: Fail): string[] | undefined {
  if (v === undefined) return fail(path, 'is required: an array like ["127.0.0.1:783"] or ["/run/spamd.sock"]');
  const list = stringList(v, path, fail);
  if (!list) return undefined;
  for (const h of list) {
    const why = hostProblem(h);
    if (why) return fail(path, why);
  }
  return list;
}

/**
 * hostProblem checks `host:port`, `[v6]:port` or `/abs/socket` with the
 * clients' own parser, so config check accepts exactly what a scan can use.
 */
export function hostProblem(h: string): string | undefined {
  const r = parseEndpoint(h);
  if (!r.ok) return r.why;
  return r.endpoint.kind === 'unix' || /:\d+$/.test(h.trim()) ? undefined : `${JSON.stringify(h)}: give the port explicitly`;
}

function command(v: unknown, path: Path, fail: Fail): string[] | undefined {
  if (v === undefined) return fail(path, 'is required: the filter\'s argv, e.g. ["/usr/bin/spamassassin", "-e"]');
  const argv = stringList(v, path, fail);
  if (!argv) return undefined;
  const prog = argv[0]!;
  // A relative path would depend on the directory mda runs in; a bare name is looked up in /usr/bin:/bin.
  if (prog === '' || (!prog.startsWith('/') && prog.includes('/'))) {
    return fail(path, `the program must be an absolute path or a bare name (looked up in /usr/bin:/bin), got ${JSON.stringify(prog)}`);
  }
  return argv;
}

function absolutePath(v: unknown, path: Path, fail: Fail): string | undefined {
  const p = str(v, path, fail);
  if (p === undefined) return undefined;
  if (!p.startsWith('/')) return fail(path, `must be an absolute path, got ${JSON.stringify(p)}`);
  return p;
}

/** folder reads a Maildir++ folder name; '' (and INBOX) mean the Maildir itself. */
function folder(v: unknown, path: Path, fail: Fail): string | undefined {
  const f = str(v, path, fail);
  if (f === undefined) return undefined;
  const check = folderDir(f);
  if (!check.ok) return fail(path, `${check.why}, got ${JSON.stringify(f)}`);
  return f;
}
