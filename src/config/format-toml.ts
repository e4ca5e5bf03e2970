/**
 * Writes a Config back as mda.toml text (`mda config show`, like `postconf -n` /
 * `doveconf -n`): every key the file can hold, durations and sizes in the file's own
 * unit syntax (units.ts), so the text is a config file that validates to the same
 * Config. Owns the Config → TOML direction only; reading is validate.ts's.
 * Pure: no I/O, no TOML library (the output must not depend on one's formatting).
 */
import { defaultConfig, type Config, type LogTarget, type QuotaSettings, type ScannerConfig } from './schema.js';

/** all: every effective setting; changed: only those that differ from the embedded defaults. */
export type ShowMode = 'all' | 'changed';

type Row = readonly [key: string, value: (c: Config) => string];

/**
 * One row per key the file can hold, in the order mda.toml(5) lists them. A key the
 * validators learn must be added here too: the unit test round-trips a config in which
 * every setting differs from its default, so a missing row fails it.
 */
const SECTIONS: readonly (readonly [table: string, rows: readonly Row[]])[] = [
  ['delivery', [
    ['maildir', (c) => str(c.delivery.maildir)],
    ['deadline', (c) => duration(c.delivery.deadlineMs)],
    ['max_message_size', (c) => size(c.delivery.maxMessageSize)],
    ['autocreate_folders', (c) => String(c.delivery.autocreateFolders)],
    ['sendmail', (c) => str(c.delivery.sendmail)],
    ['mbox', (c) => str(c.delivery.mbox)],
    ['mbox_folders', (c) => str(c.delivery.mboxFolders)],
    ['domains', (c) => list(c.recipients.domains)],
    ['recipient_delimiter', (c) => str(c.recipients.delimiter)],
  ]],
  ['quota', [
    ['storage', (c) => size(c.quota.storage)],
    ['messages', (c) => String(c.quota.messages)],
    ['grace', (c) => size(c.quota.grace)],
    ['over_quota', (c) => str(c.quota.overQuota)],
    ['ignore_folders', (c) => list(c.quota.ignoreFolders)],
  ]],
  ['locks', [
    ['timeout', (c) => duration(c.locks.timeoutMs)],
    ['stale', (c) => duration(c.locks.staleMs)],
    ['mbox_locks', (c) => list(c.locks.mboxLocks)],
    ['mbox_dotlock_stale', (c) => duration(c.locks.mboxDotlockStaleMs)],
    ['dotlockfile', (c) => str(c.locks.dotlockfile)],
  ]],
  ['log', [['target', (c) => str(logTarget(c.log.target))]]],
  ['scanning', [
    ['breaker_failures', (c) => String(c.scanning.breakerFailures)],
    ['breaker_cooldown', (c) => duration(c.scanning.breakerCooldownMs)],
    ['state_dir', (c) => str(c.scanning.stateDir)],
    ['commit_reserve', (c) => duration(c.scanning.commitReserveMs)],
  ]],
  ['spam', [['folder', (c) => str(c.spam.folder)]]],
  ['virus', [
    ['action', (c) => str(c.virus.action)],
    ['folder', (c) => str(c.virus.folder)],
  ]],
  ['sieve', [
    ['script', (c) => str(c.sieve.script)],
    ['state_dir', (c) => str(c.sieve.stateDir)],
    ['dir', (c) => str(c.sieve.dir)],
    ['global_dir', (c) => str(c.sieve.globalDir)],
    ['before', (c) => list(c.sieve.before)],
    ['after', (c) => list(c.sieve.after)],
    ['max_redirects', (c) => String(c.sieve.maxRedirects)],
    ['vacation_min_days', (c) => String(c.sieve.vacationMinDays)],
    ['vacation_max_days', (c) => String(c.sieve.vacationMaxDays)],
    ['trust_scan_headers', (c) => String(c.sieve.trustScanHeaders)],
    ['max_script_size', (c) => size(c.sieve.maxScriptSize)],
    ['max_cpu_steps', (c) => String(c.sieve.maxCpuSteps)],
  ]],
  ['lmtp', [
    ['user', (c) => str(c.lmtp.user)],
    ['max_connections', (c) => String(c.lmtp.maxConnections)],
    ['max_recipients', (c) => String(c.lmtp.maxRecipients)],
    ['idle_timeout', (c) => duration(c.lmtp.idleTimeoutMs)],
    ['shutdown_grace', (c) => duration(c.lmtp.shutdownGraceMs)],
    ['socket_mode', (c) => octal(c.lmtp.socketMode)],
    ['socket_owner', (c) => str(c.lmtp.socketOwner)],
    ['socket_group', (c) => str(c.lmtp.socketGroup)],
    ['max_line_length', (c) => String(c.lmtp.maxLineLength)],
    ['spool_dir', (c) => str(c.lmtp.spoolDir)],
  ]],
  ['policy', [
    ['user', (c) => str(c.policy.user)],
    ['max_connections', (c) => String(c.policy.maxConnections)],
    ['idle_timeout', (c) => duration(c.policy.idleTimeoutMs)],
    ['socket_mode', (c) => octal(c.policy.socketMode)],
    ['socket_owner', (c) => str(c.policy.socketOwner)],
    ['socket_group', (c) => str(c.policy.socketGroup)],
    ['aliases', (c) => list(c.policy.aliases)],
    ['request_timeout', (c) => duration(c.policy.requestTimeoutMs)],
    ['cache_ttl', (c) => duration(c.policy.cacheTtlMs)],
    ['unknown_text', (c) => str(c.policy.unknownText)],
    ['over_quota_text', (c) => str(c.policy.overQuotaText)],
  ]],
];

/**
 * formatConfig renders `config` as TOML. In 'changed' mode a key appears only when its
 * text differs from the embedded default's, and a table only when one of its keys does;
 * [users.*] and [[scanner]] entries have no default counterpart, so they appear whole.
 */
export function formatConfig(config: Config, mode: ShowMode = 'all'): string {
  const base = mode === 'changed' ? defaultConfig() : undefined;
  const blocks: string[] = [];
  for (const [name, rows] of SECTIONS) {
    const lines: string[] = [];
    for (const [key, value] of rows) {
      const text = value(config);
      if (base && value(base) === text) continue;
      lines.push(`${key} = ${text}`);
    }
    if (lines.length) blocks.push([`[${name}]`, ...lines].join('\n'));
  }
  for (const [name, user] of Object.entries(config.users)) {
    const lines = [`[users.${key(name)}]`];
    if (user.maildir !== undefined) lines.push(`maildir = ${str(user.maildir)}`);
    if (user.mbox !== undefined) lines.push(`mbox = ${str(user.mbox)}`);
    if (user.quota !== undefined) lines.push(`quota = ${userQuota(user.quota)}`);
    blocks.push(lines.join('\n'));
  }
  for (const s of config.scanners) blocks.push(['[[scanner]]', ...scannerLines(s)].join('\n'));
  return blocks.length ? `${blocks.join('\n\n')}\n` : '';
}

/** The keys of one [[scanner]]: only those its type takes (validate-scanners.ts refuses the others). */
function scannerLines(s: ScannerConfig): string[] {
  const lines = [`type = ${str(s.type)}`, `name = ${str(s.name)}`];
  if (s.type === 'filter') lines.push(`command = ${list(s.command)}`, `mode = ${str(s.filterMode)}`);
  else lines.push(`hosts = ${list(s.hosts)}`, `order = ${str(s.order)}`);
  if (s.type === 'spamd') {
    lines.push(`mode = ${str(s.spamdMode)}`);
    if (s.spamdUser !== undefined) lines.push(`user = ${str(s.spamdUser)}`);
  }
  lines.push(`timeout = ${duration(s.timeoutMs)}`, `max_size = ${size(s.maxSize)}`, `on_failure = ${str(s.onFailure)}`);
  return lines;
}

/** A user's quota as an inline table: only the keys that override the global [quota]. */
function userQuota(q: Partial<QuotaSettings>): string {
  const parts: string[] = [];
  if (q.storage !== undefined) parts.push(`storage = ${size(q.storage)}`);
  if (q.messages !== undefined) parts.push(`messages = ${q.messages}`);
  if (q.grace !== undefined) parts.push(`grace = ${size(q.grace)}`);
  return parts.length ? `{ ${parts.join(', ')} }` : '{}';
}

function logTarget(t: LogTarget): string {
  return t.kind === 'file' ? `file:${t.path}` : t.kind;
}

// Largest unit first: the first that divides the value exactly names it (units.ts reads them all back).
const DURATION_UNITS: readonly (readonly [string, number])[] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]];
const SIZE_UNITS: readonly (readonly [string, number])[] = [['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]];

/** duration writes ms as "4m", "30s", "250ms"; 0 as "0s". */
export function duration(ms: number): string {
  if (ms === 0) return '"0s"';
  const unit = DURATION_UNITS.find(([, n]) => ms % n === 0);
  return unit ? `"${ms / unit[1]}${unit[0]}"` : `"${ms}ms"`;
}

/** size writes bytes as "50M", "500K", or a plain "1234" (bytes) when no binary unit divides it. */
export function size(bytes: number): string {
  if (bytes === 0) return '"0"';
  const unit = SIZE_UNITS.find(([, n]) => bytes % n === 0);
  return unit ? `"${bytes / unit[1]}${unit[0]}"` : `"${bytes}"`;
}

/** Socket modes are octal strings ("0660"), as validate-lmtp.ts reads them: an integer would be decimal. */
function octal(mode: number): string {
  return `"${mode.toString(8).padStart(4, '0')}"`;
}

function list(items: readonly string[]): string {
  return `[${items.map(str).join(', ')}]`;
}

/** A bare TOML key when it can be one, else a quoted one (user names such as "a.b"). */
function key(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : str(k);
}

const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };

/**
 * str writes a TOML basic string. TOML (unlike JSON.stringify) forbids a raw DEL
 * (U+007F) too, so every control character is escaped here.
 */
export function str(s: string): string {
  return `"${s.replace(/["\\\u0000-\u001f\u007f]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}
