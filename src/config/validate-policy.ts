/**
 * Validates `[policy]`, the settings of `mda policy` (the Postfix SMTP access policy
 * service), into Config.policy. validate.ts calls it with the parsed top table. Owns
 * which keys [policy] has and their ranges; value shapes are fields.ts's, and the
 * server keys it shares with [lmtp] are read by validate-lmtp.ts's readers. Pure: no I/O
 * (a missing alias file is no config error: it has no names).
 */
import { checkKnown, count, durationIn, show, table, typeName, type Fail, type Path, type Table } from './fields.js';
import type { Config } from './schema.js';
import { accountName, ranged, socketMode } from './validate-lmtp.js';

export const POLICY_KEYS = [
  'user', 'max_connections', 'idle_timeout', 'socket_mode', 'socket_owner', 'socket_group',
  'aliases', 'request_timeout', 'cache_ttl', 'unknown_text', 'over_quota_text',
] as const;

const MAX_CONNECTIONS = 100_000;
const MAX_ALIAS_FILES = 32;
// An SMTP reply line is at most 512 octets (RFC 5321 §4.5.3.1.5) with its code, DSN and
// Postfix's own "<addr>: Recipient address rejected: " in front of the text.
const MAX_TEXT = 200;

/** validatePolicy reads `[policy]` from `top` into `config.policy`. */
export function validatePolicy(top: Table, config: Config, fail: Fail): void {
  const policy = table(top['policy'], ['policy'], fail);
  if (!policy) return;
  checkKnown(policy, ['policy'], POLICY_KEYS, fail);
  const p = config.policy;
  const at = (k: string): Path => ['policy', k];
  p.user = accountName(policy['user'], at('user'), fail) ?? p.user;
  p.maxConnections = ranged(count(policy['max_connections'], at('max_connections'), fail, 'connections'), 1, MAX_CONNECTIONS, at('max_connections'), fail) ?? p.maxConnections;
  p.idleTimeoutMs = durationIn(policy['idle_timeout'], at('idle_timeout'), fail, '600s', 1_000, 3_600_000, 'between 1s and 1h') ?? p.idleTimeoutMs;
  p.socketMode = socketMode(policy['socket_mode'], at('socket_mode'), fail) ?? p.socketMode;
  p.socketOwner = accountName(policy['socket_owner'], at('socket_owner'), fail) ?? p.socketOwner;
  p.socketGroup = accountName(policy['socket_group'], at('socket_group'), fail) ?? p.socketGroup;
  p.aliases = aliasFiles(policy['aliases'], at('aliases'), fail) ?? p.aliases;
  // Below smtpd_policy_service_timeout (100s) by far: smtpd waits this long for each answer.
  p.requestTimeoutMs = durationIn(policy['request_timeout'], at('request_timeout'), fail, '2s', 100, 60_000, 'between 100ms and 60s') ?? p.requestTimeoutMs;
  p.cacheTtlMs = durationIn(policy['cache_ttl'], at('cache_ttl'), fail, '5s', 0, 300_000, 'between 0s (no cache) and 300s') ?? p.cacheTtlMs;
  p.unknownText = replyText(policy['unknown_text'], at('unknown_text'), fail) ?? p.unknownText;
  p.overQuotaText = replyText(policy['over_quota_text'], at('over_quota_text'), fail) ?? p.overQuotaText;
}

/** aliases: absolute paths; [] is allowed (a site whose aliases all live elsewhere). */
function aliasFiles(v: unknown, path: Path, fail: Fail): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) return fail(path, `must be an array of absolute file names, got ${typeName(v)}`);
  if (v.length > MAX_ALIAS_FILES) return fail(path, `must name at most ${MAX_ALIAS_FILES} files, got ${v.length}`);
  const out: string[] = [];
  for (const [i, f] of v.entries()) {
    if (typeof f !== 'string') return fail(path, `must be an array of absolute file names, element ${i + 1} is ${typeName(f)}`);
    if (!f.startsWith('/') || f.includes('\0')) return fail(path, `element ${i + 1} ${show(f)} is not an absolute file name`);
    out.push(f);
  }
  return out;
}

/** A reply text goes on the wire after the code: printable ASCII, one line, not empty. */
function replyText(v: unknown, path: Path, fail: Fail): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return fail(path, `must be a string, got ${typeName(v)}`);
  if (v.trim() === '' || v.length > MAX_TEXT || !/^[\x20-\x7e]+$/.test(v)) {
    return fail(path, `must be 1 to ${MAX_TEXT} printable ASCII characters on one line, got ${show(v)}`);
  }
  return v.trim();
}
