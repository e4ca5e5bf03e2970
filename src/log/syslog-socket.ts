/**
 * Sends datagrams to the local syslog socket (/dev/log). Node has no
 * AF_UNIX datagram sockets, so this uses the native binding of the optional
 * `unix-dgram` package directly (skipping its JS wrapper, which loads the
 * `bindings` path search, dgram and events on every delivery). The socket is
 * non-blocking: a full or missing syslog never stalls a delivery.
 * Must not: format lines (format.ts) or retry.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

interface Binding {
  AF_UNIX: number;
  SOCK_DGRAM: number;
  socket(domain: number, type: number, protocol: number, onRecv: () => void, onWritable: () => void): number;
  sendto(fd: number, buf: Buffer, offset: number, length: number, path: string): number;
  close(fd: number): number;
}

export interface DatagramSender {
  /** true when the datagram was handed to the kernel. */
  send(line: string): boolean;
  close(): void;
}

export function openDatagramSender(path: string): DatagramSender | null {
  if (!existsSync(path)) return null; // no syslog daemon: skip loading the native binding at all
  let binding: Binding;
  try {
    const req = createRequire(import.meta.url);
    const pkgDir = dirname(req.resolve('unix-dgram/package.json'));
    binding = req(join(pkgDir, 'build', 'Release', 'unix_dgram.node')) as Binding;
  } catch {
    return null; // optional dependency not built here: syslog logging is off
  }
  const noop = () => undefined;
  const fd = binding.socket(binding.AF_UNIX, binding.SOCK_DGRAM, 0, noop, noop);
  if (fd < 0) return null;
  let open = true;
  return {
    // sendto returns 0 on success, 1 on congestion (EAGAIN), -errno on error
    send: (line) => open && binding.sendto(fd, Buffer.from(line), 0, Buffer.byteLength(line), path) === 0,
    // the binding polls the fd, which would keep the event loop alive: close when done
    close: () => {
      if (open) binding.close(fd);
      open = false;
    },
  };
}
