/**
 * Turns a parsed TOML document into a Config, or into every problem with it
 * (file, line, dotted key, message), so an admin fixes them all in one pass.
 * Owns the config file's keys and their rules (the scanning tables are
 * validate-scanners.ts's, [sieve] validate-sieve.ts's, [lmtp] validate-lmtp.ts's; value readers are fields.ts). Must not: read files or
 * import the TOML parser (load.ts does both, lazily). Pure: no I/O.
 */
import { mailboxDir } from '../sieve/mailbox-name.js';
import { defaultConfig, MBOX_LOCK_ORDER, type Config, type LogTarget, type MboxLockType, type OverQuota, type QuotaSettings, type UserConfig } from './schema.js';
import { checkKnown, count, duration, durationIn, show, size, table, typeName, type Fail, type Path, type Table } from './fields.js';
import { keyLine, tomlKey } from './key-lines.js';
import { DELIVERY_RECIPIENT_KEYS, validateRecipients } from './validate-recipients.js';
import { validateLmtp } from './validate-lmtp.js';
import { validatePolicy } from './validate-policy.js';
import { validateScanners } from './validate-scanners.js';
import { DELIVERY_SIEVE_KEYS, validateSieve } from './validate-sieve.js';

export interface ConfigIssue {
  file: string;
  /** 1-based; 0 when the problem is the file itself (unreadable, unsafe). */
  line: number;
  /** The dotted TOML key, or '' for the whole file. */
  key: string;
  message: string;
}

/** formatIssue renders an issue as `file:line: key: message` (key omitted when ''). */
export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}: ${i.key === '' ? '' : `${i.key}: `}${i.message}`;
}

// Postfix's command_time_limit is 1000s and a pipe(8) killed there bounces the
// mail, so mda must always give up (and defer) well before that.
const MIN_DEADLINE_MS = 1_000;
const MAX_DEADLINE_MS = 900_000;
// A lock wait must fit inside the deadline many times over; 100ms is below any useful wait.
const MIN_LOCK_TIMEOUT_MS = 100;
const MAX_LOCK_TIMEOUT_MS = 600_000;
const MIN_LOCK_STALE_MS = 1_000;

const KNOWN = {
  top: ['delivery', 'quota', 'locks', 'log', 'users', 'scanner', 'scanning', 'spam', 'virus', 'sieve', 'lmtp', 'policy'],
  delivery: ['maildir', 'deadline', 'max_message_size', ...DELIVERY_SIEVE_KEYS, ...DELIVERY_RECIPIENT_KEYS, 'mbox', 'mbox_folders'],
  quota: ['storage', 'messages', 'grace', 'over_quota', 'ignore_folders'],
  userQuota: ['storage', 'messages', 'grace'],
  locks: ['timeout', 'stale', 'mbox_locks', 'mbox_dotlock_stale', 'dotlockfile'],
  log: ['target'],
  user: ['maildir', 'quota', 'mbox'],
} as const;

/** validateConfig checks `raw` (as parsed from `text`, read from `source`). */
export function validateConfig(
  raw: unknown,
  source: string,
  text: string,
): { config: Config } | { errors: ConfigIssue[] } {
  const errors: ConfigIssue[] = [];
  const fail = (path: Path, message: string): undefined => {
    const key = tomlKey(path);
    errors.push({ file: source, line: path.length ? keyLine(text, key) : 1, key, message });
    return undefined;
  };
  const config = defaultConfig();
  config.source = source;

  const top = table(raw, [], fail);
  if (top) {
    checkKnown(top, [], KNOWN.top, fail);
    const delivery = table(top['delivery'], ['delivery'], fail);
    if (delivery) {
      checkKnown(delivery, ['delivery'], KNOWN.delivery, fail);
      const d = config.delivery;
      d.maildir = maildir(delivery['maildir'], ['delivery', 'maildir'], fail) ?? d.maildir;
      d.deadlineMs = deadline(delivery['deadline'], ['delivery', 'deadline'], fail) ?? d.deadlineMs;
      d.maxMessageSize = size(delivery['max_message_size'], ['delivery', 'max_message_size'], fail) ?? d.maxMessageSize;
      d.mbox = mboxPath(delivery['mbox'], ['delivery', 'mbox'], fail) ?? d.mbox;
      d.mboxFolders = mboxPath(delivery['mbox_folders'], ['delivery', 'mbox_folders'], fail) ?? d.mboxFolders;
    }
    const quota = table(top['quota'], ['quota'], fail);
    if (quota) {
      checkKnown(quota, ['quota'], KNOWN.quota, fail);
      Object.assign(config.quota, quotaSettings(quota, ['quota'], fail));
      config.quota.overQuota = overQuota(quota['over_quota'], ['quota', 'over_quota'], fail) ?? config.quota.overQuota;
      config.quota.ignoreFolders = ignoreFolders(quota['ignore_folders'], ['quota', 'ignore_folders'], fail) ?? config.quota.ignoreFolders;
    }
    const locks = table(top['locks'], ['locks'], fail);
    if (locks) {
      checkKnown(locks, ['locks'], KNOWN.locks, fail);
      const l = config.locks;
      l.timeoutMs = lockTimeout(locks['timeout'], ['locks', 'timeout'], fail) ?? l.timeoutMs;
      l.staleMs = lockStale(locks['stale'], ['locks', 'stale'], fail) ?? l.staleMs;
      l.mboxLocks = mboxLocks(locks['mbox_locks'], ['locks', 'mbox_locks'], fail) ?? l.mboxLocks;
      l.mboxDotlockStaleMs = lockStale(locks['mbox_dotlock_stale'], ['locks', 'mbox_dotlock_stale'], fail) ?? l.mboxDotlockStaleMs;
      l.dotlockfile = absolutePath(locks['dotlockfile'], ['locks', 'dotlockfile'], fail) ?? l.dotlockfile;
    }
    const log = table(top['log'], ['log'], fail);
    if (log) {
      checkKnown(log, ['log'], KNOWN.log, fail);
      config.log.target = logTarget(log['target'], ['log', 'target'], fail) ?? config.log.target;
    }
    config.users = users(top['users'], fail);
    // After [delivery]: a filter's max_size defaults to max_message_size.
    validateScanners(top, config, fail);
    validateSieve(top, config, fail);
    validateRecipients(top, config, fail);
    validateLmtp(top, config, fail);
    validatePolicy(top, config, fail);
  }
  // Report in file order: that is the order an admin will fix them in.
  errors.sort((a, b) => a.line - b.line);
  return errors.length ? { errors } : { config };
}

function users(v: unknown, fail: Fail): Record<string, UserConfig> {
  // No prototype: a user called "constructor" or "__proto__" must not find Object's.
  const out = Object.create(null) as Record<string, UserConfig>;
  const all = table(v, ['users'], fail);
  for (const [name, u] of Object.entries(all ?? {})) {
    const path = ['users', name];
    if (name === '' || name === '.' || name === '..' || /[/\0]/.test(name)) {
      fail(path, 'a user name must be non-empty, must not contain "/", and must not be "." or ".."');
      continue;
    }
    const t = table(u, path, fail);
    if (!t) continue;
    checkKnown(t, path, KNOWN.user, fail);
    const user: UserConfig = {};
    const m = maildir(t['maildir'], [...path, 'maildir'], fail);
    if (m !== undefined) user.maildir = m;
    const mb = maildir(t['mbox'], [...path, 'mbox'], fail);
    if (mb !== undefined) user.mbox = mb;
    // `quota = { ... }` and `[users.NAME.quota]` are the same table in TOML.
    const q = table(t['quota'], [...path, 'quota'], fail);
    if (q) {
      checkKnown(q, [...path, 'quota'], KNOWN.userQuota, fail);
      user.quota = quotaSettings(q, [...path, 'quota'], fail);
    }
    out[name] = user;
  }
  return out;
}

/**
 * A Maildir template must be absolute or home-relative: a relative path would
 * depend on whatever directory Postfix happened to start mda in.
 */
function maildir(v: unknown, path: Path, fail: Fail): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return fail(path, `must be a string, got ${typeName(v)}`);
  if (v.includes('\0')) return fail(path, 'must not contain a NUL byte');
  if (!(v === '~' || v.startsWith('~/') || v.startsWith('/'))) {
    return fail(path, `must be an absolute path or start with ~/ (the user's home), got ${JSON.stringify(v)}`);
  }
  if (/%(?!u)/.test(v)) return fail(path, `only %u (the user name) may follow a %, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * deadlineProblem says why `ms` cannot be a delivery's deadline (undefined = it can): the one range
 * for [delivery] deadline and `mda deliver --deadline`. Above it Postfix's command_time_limit
 * (a bounce) comes first, and far above it Node's timer overflows and fires at once.
 */
export function deadlineProblem(ms: number): string | undefined {
  if (ms >= MIN_DEADLINE_MS && ms <= MAX_DEADLINE_MS) return undefined;
  return 'must be between 1s and 900s (Postfix kills mda at command_time_limit, 1000s by default, and bounces the mail)';
}

/** mboxPath: a path template as for a Maildir, or '' (none: `mda config show` prints the default so). */
const mboxPath = (v: unknown, path: Path, fail: Fail): string | undefined => (v === '' ? '' : maildir(v, path, fail));

/**
 * mboxLocks: a non-empty subset of dotlock, fcntl, flock, listed in that order (the order
 * they are taken, as Postfix's mailbox_delivery_lock): an mbox is never written unlocked.
 */
function mboxLocks(v: unknown, path: Path, fail: Fail): MboxLockType[] | undefined {
  if (v === undefined) return undefined;
  const usage = `must be a non-empty array of ${MBOX_LOCK_ORDER.map((k) => JSON.stringify(k)).join(', ')}, in that order`;
  if (!Array.isArray(v) || v.length === 0) return fail(path, `${usage}, got ${Array.isArray(v) ? 'an empty array' : typeName(v)}`);
  let last = -1;
  for (const [i, k] of v.entries()) {
    const at = MBOX_LOCK_ORDER.indexOf(k as MboxLockType);
    if (at < 0) return fail(path, `${usage}; element ${i + 1} is ${typeof k === 'string' ? JSON.stringify(k) : typeName(k)}`);
    if (at <= last) return fail(path, `${usage}; element ${i + 1} ${JSON.stringify(k)} is out of order or repeated`);
    last = at;
  }
  return v as MboxLockType[];
}

function absolutePath(v: unknown, path: Path, fail: Fail): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return fail(path, `must be a string, got ${typeName(v)}`);
  if (!v.startsWith('/') || v.includes('\0')) return fail(path, `must be an absolute path, got ${JSON.stringify(v)}`);
  return v;
}

function deadline(v: unknown, path: Path, fail: Fail): number | undefined {
  const ms = duration(v, path, fail, '240s');
  if (ms === undefined) return undefined;
  const problem = deadlineProblem(ms);
  return problem ? fail(path, `${problem}, got ${show(v)}`) : ms;
}

function lockTimeout(v: unknown, path: Path, fail: Fail): number | undefined {
  return durationIn(v, path, fail, '10s', MIN_LOCK_TIMEOUT_MS, MAX_LOCK_TIMEOUT_MS, 'between 100ms and 600s');
}

function lockStale(v: unknown, path: Path, fail: Fail): number | undefined {
  const ms = duration(v, path, fail, '60s');
  if (ms === undefined) return undefined;
  if (ms < MIN_LOCK_STALE_MS) return fail(path, `must be at least 1s, got ${show(v)}`);
  return ms;
}

/** quotaSettings reads storage/messages/grace from [quota] or a user's quota table; only keys present are set. */
function quotaSettings(t: Table, path: Path, fail: Fail): Partial<QuotaSettings> {
  const out: Partial<QuotaSettings> = {};
  const storage = size(t['storage'], [...path, 'storage'], fail, true);
  const messages = count(t['messages'], [...path, 'messages'], fail);
  const grace = size(t['grace'], [...path, 'grace'], fail, true);
  if (storage !== undefined) out.storage = storage;
  if (messages !== undefined) out.messages = messages;
  if (grace !== undefined) out.grace = grace;
  return out;
}

/** ignoreFolders reads folder names as IMAP shows them ("Trash", "Archive.2024"); each must name a Maildir++ folder. */
function ignoreFolders(v: unknown, path: Path, fail: Fail): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) return fail(path, `must be an array of folder names, got ${typeName(v)}`);
  const out: string[] = [];
  for (const [i, name] of v.entries()) {
    if (typeof name !== 'string') return fail(path, `must be an array of folder names, element ${i + 1} is ${typeName(name)}`);
    const dir = mailboxDir(name);
    if (!dir.ok) return fail(path, `element ${i + 1} ${JSON.stringify(name)}: ${dir.why}`);
    if (dir.dir === '') return fail(path, `element ${i + 1}: INBOX always counts`);
    out.push(name);
  }
  return out;
}

function overQuota(v: unknown, path: Path, fail: Fail): OverQuota | undefined {
  if (v === undefined) return undefined;
  if (v === 'bounce' || v === 'defer') return v;
  return fail(path, `must be "bounce" (5.2.2) or "defer" (4.2.2), got ${typeof v === 'string' ? JSON.stringify(v) : typeName(v)}`);
}

function logTarget(v: unknown, path: Path, fail: Fail): LogTarget | undefined {
  if (v === undefined) return undefined;
  const usage = 'must be "syslog", "stderr", "none" or "file:/absolute/path"';
  if (typeof v !== 'string') return fail(path, `${usage}, got ${typeName(v)}`);
  if (v === 'syslog' || v === 'stderr' || v === 'none') return { kind: v };
  if (v.startsWith('file:')) {
    const file = v.slice('file:'.length);
    if (!file.startsWith('/')) return fail(path, `a log file must be an absolute path, got ${JSON.stringify(v)}`);
    if (file.includes('\0')) return fail(path, 'must not contain a NUL byte');
    return { kind: 'file', path: file };
  }
  return fail(path, `${usage}, got ${JSON.stringify(v)}`);
}
