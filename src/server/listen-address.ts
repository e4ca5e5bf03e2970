/**
 * Parses `--listen` addresses: `unix:/absolute/path` or `HOST:PORT`, HOST being an IPv4
 * literal, a bracketed IPv6 literal (`[::1]:24`), `*` (every address) or a host name.
 * Pure: no I/O (opening them is listen.ts).
 */
import { isIPv6 } from 'node:net';

export type ListenAddress =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number };

/** sun_path holds 108 bytes on Linux, with the terminating NUL: longer paths cannot be bound. */
const MAX_UNIX_PATH = 107;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** parseListenAddress reads one address, or says why it is not one. */
export function parseListenAddress(text: string): { ok: true; address: ListenAddress } | { ok: false; why: string } {
  const bad = (why: string) => ({ ok: false as const, why: `${JSON.stringify(text)}: ${why}` });
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (!path.startsWith('/')) return bad('a unix socket needs an absolute path (unix:/path)');
    if (path.includes('\0')) return bad('a socket path must not contain a NUL byte');
    if (Buffer.byteLength(path) > MAX_UNIX_PATH) return bad(`a unix socket path can be at most ${MAX_UNIX_PATH} bytes long`);
    if (path.endsWith('/')) return bad('a socket path must name a file, not a directory');
    return { ok: true, address: { kind: 'unix', path } };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) return bad('expected unix:/path or HOST:PORT');
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return bad(`the port must be a number from 0 to 65535, got ${JSON.stringify(portText)}`);
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (!isIPv6(host)) return bad(`${JSON.stringify(host)} in brackets is not an IPv6 address`);
  } else if (host.includes(':')) {
    return bad('an IPv6 address needs brackets: [::1]:24');
  } else if (host === '*') {
    host = '';
  } else if (!HOSTNAME.test(host)) {
    return bad(`${JSON.stringify(host)} is not a host name or IP address`);
  }
  return { ok: true, address: { kind: 'tcp', host, port: Number(portText) } };
}

/** formatListenAddress is the inverse, for logs (`*` for every address). */
export function formatListenAddress(a: ListenAddress): string {
  if (a.kind === 'unix') return `unix:${a.path}`;
  const host = a.host === '' ? '*' : a.host.includes(':') ? `[${a.host}]` : a.host;
  return `${host}:${a.port}`;
}
