/**
 * Validates `[lmtp]`, the settings of the long-running server (`mda lmtp`), into
 * Config.lmtp. validate.ts calls it with the parsed top table. Owns which keys
 * [lmtp] has and their ranges; value shapes are fields.ts's. Pure: no I/O (a
 * user or group that does not exist is a start-up error, not a config error).
 */
import { checkKnown, count, durationIn, show, str, table, typeName, type Fail, type Path, type Table } from './fields.js';
import type { Config } from './schema.js';

export const LMTP_KEYS = [
  'user', 'max_connections', 'max_recipients', 'idle_timeout', 'shutdown_grace',
  'socket_mode', 'socket_owner', 'socket_group', 'max_line_length', 'spool_dir',
] as const;

// Each connection holds a descriptor and up to max_line_length plus one read chunk of memory;
// beyond this the server would run out of descriptors (ulimit -n) before connections.
const MAX_CONNECTIONS = 100_000;
const MAX_RECIPIENTS = 100_000;
// RFC 5321 §4.5.3.1.4: a server must take command lines of 512 octets; above 1M one line is a memory attack.
const MIN_LINE = 512;
const MAX_LINE = 1024 * 1024;

/** validateLmtp reads `[lmtp]` from `top` into `config.lmtp`. */
export function validateLmtp(top: Table, config: Config, fail: Fail): void {
  const lmtp = table(top['lmtp'], ['lmtp'], fail);
  if (!lmtp) return;
  checkKnown(lmtp, ['lmtp'], LMTP_KEYS, fail);
  const l = config.lmtp;
  const at = (k: string): Path => ['lmtp', k];
  l.user = accountName(lmtp['user'], at('user'), fail) ?? l.user;
  l.maxConnections = ranged(count(lmtp['max_connections'], at('max_connections'), fail, 'connections'), 1, MAX_CONNECTIONS, at('max_connections'), fail) ?? l.maxConnections;
  l.maxRecipients = ranged(count(lmtp['max_recipients'], at('max_recipients'), fail, 'recipients'), 1, MAX_RECIPIENTS, at('max_recipients'), fail) ?? l.maxRecipients;
  l.idleTimeoutMs = durationIn(lmtp['idle_timeout'], at('idle_timeout'), fail, '300s', 1_000, 3_600_000, 'between 1s and 1h') ?? l.idleTimeoutMs;
  l.shutdownGraceMs = durationIn(lmtp['shutdown_grace'], at('shutdown_grace'), fail, '30s', 0, 900_000, 'between 0s and 900s') ?? l.shutdownGraceMs;
  l.socketMode = socketMode(lmtp['socket_mode'], at('socket_mode'), fail) ?? l.socketMode;
  l.socketOwner = accountName(lmtp['socket_owner'], at('socket_owner'), fail) ?? l.socketOwner;
  l.socketGroup = accountName(lmtp['socket_group'], at('socket_group'), fail) ?? l.socketGroup;
  l.spoolDir = absolutePath(lmtp['spool_dir'], at('spool_dir'), fail) ?? l.spoolDir;
  l.maxLineLength = ranged(count(lmtp['max_line_length'], at('max_line_length'), fail, 'octets'), MIN_LINE, MAX_LINE, at('max_line_length'), fail) ?? l.maxLineLength;
}

export function ranged(v: number | undefined, min: number, max: number, path: Path, fail: Fail): number | undefined {
  if (v === undefined) return undefined;
  if (v < min || v > max) return fail(path, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

/** spool_dir: an absolute path ('' = the default under the system temp dir). */
function absolutePath(v: unknown, path: Path, fail: Fail): string | undefined {
  const s = str(v, path, fail);
  if (s === undefined || s === '') return s;
  if (!s.startsWith('/')) return fail(path, `must be an absolute path, got ${show(s)}`);
  return s;
}

/** A user or group name as passwd(5)/group(5) can hold it, or a numeric id; '' = none. */
export function accountName(v: unknown, path: Path, fail: Fail): string | undefined {
  const s = str(v, path, fail);
  if (s === undefined) return undefined;
  if (/[:\n/\s]/.test(s)) return fail(path, `must be a user or group name or a number, got ${show(s)}`);
  return s;
}

/**
 * socket_mode is a string of octal digits ("0660"), as chmod(1) takes it: a TOML integer 660
 * would be decimal and mean something else entirely. Only permission bits: set-id and sticky
 * bits mean nothing on a socket.
 */
export function socketMode(v: unknown, path: Path, fail: Fail): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return fail(path, `must be an octal string like "0660", got ${typeName(v)}`);
  if (!/^0?[0-7]{3}$/.test(v)) return fail(path, `must be an octal string of permission bits like "0660", got ${show(v)}`);
  return parseInt(v, 8);
}
