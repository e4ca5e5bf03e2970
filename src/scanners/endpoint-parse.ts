/**
 * Scanner endpoints as written in `[[scanner]] hosts`: `host:port`,
 * `[v6]:port` or `/unix/path`; the /etc/hosts format; the order in which a
 * scanner's hosts are tried. Pure: no I/O, no DNS (endpoint.ts resolves and connects).
 */

export type Endpoint =
  | { kind: 'unix'; path: string; label: string }
  /** `literal` is the IP family when `host` is an address (no resolution needed), else 0. */
  | { kind: 'tcp'; host: string; port: number; literal: 0 | 4 | 6; label: string };

export type ParsedEndpoint = { ok: true; endpoint: Endpoint } | { ok: false; why: string };

// sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL (unix(7)).
const SUN_PATH_MAX = 107;
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
// RFC 1123 host names (letters, digits, hyphens; labels 1-63, 253 in all). `_` is
// tolerated because service names such as `spamd_1` occur in container setups.
const LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** isIPv6 - an IPv6 literal without brackets or zone (`fe80::1%eth0` is not accepted). */
export function isIPv6(s: string): boolean {
  if (!s.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  try {
    // The WHATWG URL parser implements the full RFC 4291 text forms (::, embedded IPv4).
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}

export function isHostName(s: string): boolean {
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  return name.length > 0 && name.length <= 253 && name.split('.').every((l) => LABEL.test(l)) && !/^[\d.]+$/.test(name);
}

function parsePort(s: string | undefined, defaultPort: number | undefined): number | string {
  if (s === undefined) return defaultPort ?? 'a port is required (host:port)';
  if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) return `bad port ${JSON.stringify(s)} (1-65535)`;
  return Number(s);
}

/**
 * parseEndpoint - one `hosts` entry. `defaultPort` (spamd 783, clamd 3310) is
 * used when a TCP entry has no `:port`; without it the port is required.
 */
export function parseEndpoint(spec: string, defaultPort?: number): ParsedEndpoint {
  const s = spec.trim();
  const fail = (why: string): ParsedEndpoint => ({ ok: false, why: `${JSON.stringify(spec)}: ${why}` });
  if (s === '') return fail('empty endpoint');
  if (s.startsWith('/')) {
    if (s.includes('\0')) return fail('NUL byte in socket path');
    if (Buffer.byteLength(s) > SUN_PATH_MAX) return fail(`socket path longer than ${SUN_PATH_MAX} bytes`);
    return { ok: true, endpoint: { kind: 'unix', path: s, label: s } };
  }
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const m = /^\[([^\]]*)\](?::(.*))?$/.exec(s);
    if (!m) return fail('expected [IPv6]:port');
    host = m[1]!;
    portText = m[2];
    // A link-local address needs its zone (`[fe80::1%eth0]:783`); connect() takes it as is.
    const [addr, zone] = host.split('%', 2) as [string, string | undefined];
    if (!isIPv6(addr) || (zone !== undefined && !/^[A-Za-z0-9_.-]{1,15}$/.test(zone))) return fail(`not an IPv6 address: ${host}`);
  } else {
    const parts = s.split(':');
    if (parts.length > 2) return fail('an IPv6 address needs brackets: [::1]:783');
    host = parts[0]!;
    portText = parts[1];
    if (!isIPv4(host) && !isHostName(host)) return fail(`not an IPv4 address or host name: ${JSON.stringify(host)}`);
  }
  const port = parsePort(portText, defaultPort);
  if (typeof port === 'string') return fail(port);
  const literal = isIPv4(host) ? 4 : s.startsWith('[') ? 6 : 0;
  if (!literal) host = host.toLowerCase();
  const label = literal === 6 ? `[${host}]:${port}` : `${host}:${port}`; // canonical: logs, X-MDA-Scan
  return { ok: true, endpoint: { kind: 'tcp', host, port, literal, label } };
}

/**
 * parseHostsFile - hosts(5): `address name [aliases...]`, `#` comments. Maps each
 * lower-cased name to its addresses in file order. Lines whose address is not a
 * plain IPv4/IPv6 literal (e.g. with a zone) are ignored.
 */
export function parseHostsFile(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const fields = raw.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
    const [addr, ...names] = fields;
    if (!addr || names.length === 0 || !(isIPv4(addr) || isIPv6(addr))) continue;
    for (const n of names) {
      const key = n.toLowerCase().replace(/\.$/, '');
      const list = map.get(key) ?? [];
      if (!list.includes(addr)) list.push(addr);
      map.set(key, list);
    }
  }
  return map;
}

/**
 * staticAddresses - the addresses a host resolves to without DNS: a literal as is,
 * `localhost` as 127.0.0.1, else its /etc/hosts entries (IPv4 first, the
 * order getaddrinfo's default RFC 3484 policy gives on an IPv4 loopback setup);
 * null when DNS must be asked.
 */
export function staticAddresses(host: string, hosts: Map<string, string[]>): string[] | null {
  if (isIPv4(host) || isIPv6(host)) return [host];
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost') return ['127.0.0.1'];
  const found = hosts.get(name);
  if (!found || found.length === 0) return null;
  return [...found.filter(isIPv4), ...found.filter((a) => !isIPv4(a))];
}

/** orderHosts - the try order: as configured, or shuffled (Fisher-Yates with the given random). */
export function orderHosts<T>(hosts: readonly T[], order: 'ordered' | 'shuffle', random: () => number = Math.random): T[] {
  const out = [...hosts];
  if (order !== 'shuffle') return out;
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
